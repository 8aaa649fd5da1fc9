"""``ConnectedStreams``, ``BroadcastStream`` and ``BroadcastConnectedStream`` (PyFlink's
names and methods, from ``pyflink.datastream.data_stream``).

    a.connect(b)                      ConnectedStreams: a is input 0, b is input 1
      .key_by(key1, key2)             both inputs HASH-partitioned: equal keys meet
      .map / .flat_map / .process     one two-input operator node

    rules.broadcast(descriptor)       BroadcastStream: BROADCAST partitioning + states
    a.connect(broadcast_stream)       BroadcastConnectedStream: a is input 0
      .process(BroadcastProcessFunction | KeyedBroadcastProcessFunction)

A two-input operator is never chained to its inputs (Flink's rule: chaining needs a
single input), so each input reaches it over the network with its own partitioner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from minicluster._functions.simple import KeySelector
from minicluster._functions.two_input import (
    BroadcastProcessFunction,
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
)
from minicluster.datastream.data_stream import DataStream, KeyedStream
from minicluster.operators.broadcast import (
    CoBroadcastWithKeyedOperator,
    CoBroadcastWithNonKeyedOperator,
)
from minicluster.operators.co_operators import (
    CoFlatMapOperator,
    CoMapOperator,
    CoProcessOperator,
    KeyedCoFlatMapAdapter,
    KeyedCoMapAdapter,
)
from minicluster.operators.keyed_process import KeyedCoProcessOperator
from minicluster.state.descriptors import MapStateDescriptor

if TYPE_CHECKING:
    from minicluster.datastream.stream_execution_environment import StreamExecutionEnvironment

def _check_same_env(first: DataStream, second: DataStream, method: str) -> None:
    if first._env is not second._env:
        raise ValueError(f"{method}() of streams from different environments")


class ConnectedStreams:
    """Two streams, possibly of different types, processed by one function with one
    method per input (``map1``/``map2``, ...); the function can share state between
    them. Records of the two inputs interleave in no guaranteed order."""

    def __init__(self, stream1: DataStream, stream2: DataStream) -> None:
        if not isinstance(stream2, DataStream):
            raise TypeError(
                f"connect() takes a DataStream or a BroadcastStream, got {type(stream2).__name__}"
            )
        _check_same_env(stream1, stream2, "connect")
        self.stream1 = stream1
        self.stream2 = stream2

    def _env(self) -> StreamExecutionEnvironment:
        return self.stream1._env

    def key_by(
        self,
        key_selector1: Callable | KeySelector,
        key_selector2: Callable | KeySelector,
        key_type: Any = None,
    ) -> ConnectedStreams:
        """Partition both inputs by key (HASH), so that records of either input with
        equal keys reach the same parallel subtask."""
        ds1, ds2 = self.stream1, self.stream2
        if isinstance(ds1, KeyedStream):
            ds1 = ds1._origin
        if isinstance(ds2, KeyedStream):
            ds2 = ds2._origin
        return ConnectedStreams(
            ds1.key_by(key_selector1, key_type), ds2.key_by(key_selector2, key_type)
        )

    def _is_keyed_stream(self) -> bool:
        return isinstance(self.stream1, KeyedStream) and isinstance(self.stream2, KeyedStream)

    def _apply(self, name: str, operator: object) -> DataStream:
        node = self._env()._add_two_input_node(
            name, operator, self.stream1._inputs, self.stream2._inputs
        )
        return DataStream(self._env(), node)

    def _keyed_co_process(self, name: str, function: Any) -> DataStream:
        operator = KeyedCoProcessOperator(
            self.stream1._key_selector, self.stream2._key_selector, function
        )
        return self._apply(name, operator)

    def map(self, func: CoMapFunction, output_type: Any = None) -> DataStream:
        """``func.map1`` for each record of the first input, ``func.map2`` for the
        second's; one result each (None results are dropped, as in PyFlink)."""
        operator = CoMapOperator(func)  # checks the function's type
        if self._is_keyed_stream():
            return self._keyed_co_process("Co-Map", KeyedCoMapAdapter(func))
        return self._apply("Co-Map", operator)

    def flat_map(self, func: CoFlatMapFunction, output_type: Any = None) -> DataStream:
        """``func.flat_map1``/``flat_map2`` return or yield any number of records."""
        operator = CoFlatMapOperator(func)
        if self._is_keyed_stream():
            return self._keyed_co_process("Co-Flat Map", KeyedCoFlatMapAdapter(func))
        return self._apply("Co-Flat Map", operator)

    def process(
        self, func: CoProcessFunction | KeyedCoProcessFunction, output_type: Any = None
    ) -> DataStream:
        """A ``CoProcessFunction``, or on keyed streams a ``KeyedCoProcessFunction``
        (keyed state, timers, ``ctx.get_current_key()``).

        Raises:
            TypeError: the function is neither, or a KeyedCoProcessFunction is applied
                to streams that are not keyed.
        """
        if not isinstance(func, (CoProcessFunction, KeyedCoProcessFunction)):
            raise TypeError(
                "ConnectedStreams.process() takes a CoProcessFunction or a "
                f"KeyedCoProcessFunction, got {type(func).__name__}: {func!r}"
            )
        if self._is_keyed_stream():
            # As PyFlink: on keyed streams either function runs keyed.
            return self._keyed_co_process("Keyed Co-Process", func)
        if isinstance(func, KeyedCoProcessFunction):
            raise TypeError(
                "a KeyedCoProcessFunction needs keyed streams: connect two KeyedStreams or "
                "call ConnectedStreams.key_by(key_selector1, key_selector2) first; "
                "otherwise use a CoProcessFunction"
            )
        return self._apply("Co-Process", CoProcessOperator(func))


class BroadcastStream:
    """A stream broadcast to every parallel instance, with the broadcast states its
    records are to be stored in (``DataStream.broadcast(descriptor, ...)``).

    Nothing can be applied to it but being connected: ``other.connect(this)``.
    """

    def __init__(
        self, input_stream: DataStream, broadcast_state_descriptors: list[MapStateDescriptor]
    ) -> None:
        for descriptor in broadcast_state_descriptors:
            if not isinstance(descriptor, MapStateDescriptor):
                raise TypeError(
                    "broadcast() takes MapStateDescriptors (the broadcast state to keep), "
                    f"got {type(descriptor).__name__}: {descriptor!r}"
                )
        self.input_stream = input_stream
        self.broadcast_state_descriptors = list(broadcast_state_descriptors)


class BroadcastConnectedStream:
    """A stream (keyed or not) connected with a ``BroadcastStream``: the non-broadcast
    side reads the broadcast state, the broadcast side writes it. The two inputs race:
    no order between their records is guaranteed, as in Flink."""

    def __init__(
        self,
        non_broadcast_stream: DataStream,
        broadcast_stream: BroadcastStream,
        broadcast_state_descriptors: list[MapStateDescriptor],
    ) -> None:
        _check_same_env(non_broadcast_stream, broadcast_stream.input_stream, "connect")
        self.non_broadcast_stream = non_broadcast_stream
        self.broadcast_stream = broadcast_stream
        self.broadcast_state_descriptors = broadcast_state_descriptors

    def _is_keyed_stream(self) -> bool:
        return isinstance(self.non_broadcast_stream, KeyedStream)

    def process(
        self,
        func: BroadcastProcessFunction | KeyedBroadcastProcessFunction,
        output_type: Any = None,
    ) -> DataStream:
        """Apply a ``BroadcastProcessFunction`` (non-keyed stream) or a
        ``KeyedBroadcastProcessFunction`` (KeyedStream)."""
        keyed = self._is_keyed_stream()
        if isinstance(func, BroadcastProcessFunction) and keyed:
            raise TypeError(
                "BroadcastProcessFunction should be applied to a non-keyed DataStream; "
                "use a KeyedBroadcastProcessFunction on a KeyedStream"
            )
        if isinstance(func, KeyedBroadcastProcessFunction) and not keyed:
            raise TypeError(
                "KeyedBroadcastProcessFunction should be applied to a KeyedStream; call "
                "key_by() on the non-broadcast stream, or use a BroadcastProcessFunction"
            )
        names = [descriptor.get_name() for descriptor in self.broadcast_state_descriptors]
        if keyed:
            name = "Keyed-Co-Process-Broadcast"
            key_selector = self.non_broadcast_stream._key_selector
            operator: object = CoBroadcastWithKeyedOperator(key_selector, func, names)
        else:
            name = "Co-Process-Broadcast"
            operator = CoBroadcastWithNonKeyedOperator(func, names)
        env = self.non_broadcast_stream._env
        node = env._add_two_input_node(
            name,
            operator,
            self.non_broadcast_stream._inputs,
            self.broadcast_stream.input_stream._inputs,
        )
        return DataStream(env, node)
