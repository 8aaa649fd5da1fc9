"""``DataStream``, ``KeyedStream`` and ``DataStreamSink`` with PyFlink's methods.

A stream is a set of *inputs* for whatever operator is applied next: the node(s) it
comes from and the partitioner to reach them with (None: decided at compile time,
FORWARD when the parallelism matches, else REBALANCE). ``union`` concatenates input
sets; ``key_by``, ``rebalance`` and friends set the partitioner. Applying an operator
adds one node with an edge from every input.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable, Iterator

from minicluster._functions.base import resolve_function
from minicluster._functions.process import KeyedProcessFunction
from minicluster._functions.simple import (
    FilterFunction,
    FlatMapFunction,
    KeySelector,
    MapFunction,
    Partitioner,
    ReduceFunction,
)
from minicluster._output_tag import OutputTag
from minicluster.graph.stream_graph import ChainingStrategy, StreamNode
from minicluster.network.partitioners import (
    BroadcastPartitioner,
    CustomPartitionerWrapper,
    ForwardPartitioner,
    GlobalPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    RescalePartitioner,
    ShufflePartitioner,
    StreamPartitioner,
)
from minicluster.operators.aggregations import FieldAggregation
from minicluster.operators.keyed import KeyedReduceOperator
from minicluster.operators.keyed_process import KeyedFunctionAdapter, KeyedProcessOperator
from minicluster.operators.timestamps import TimestampsAndWatermarksOperator
from minicluster.operators.simple import (
    CollectSinkOperator,
    FilterOperator,
    FlatMapOperator,
    MapOperator,
    PrintOperator,
    ProcessOperator,
    SinkOperator,
)

if TYPE_CHECKING:
    from minicluster.datastream.connected_streams import (
        BroadcastConnectedStream,
        BroadcastStream,
        ConnectedStreams,
    )
    from minicluster.datastream.stream_execution_environment import StreamExecutionEnvironment
    from minicluster.datastream.windowed_stream import AllWindowedStream, WindowedStream

# (node_id, partitioner) or, for a side output, (node_id, partitioner, side_tag)
Inputs = tuple[tuple, ...]


def _count_assigner(size: int, slide: int | None) -> Any:
    from minicluster.operators.window.assigners import (
        CountSlidingWindowAssigner,
        CountTumblingWindowAssigner,
    )

    if not slide:
        return CountTumblingWindowAssigner(size)
    return CountSlidingWindowAssigner(size, slide)


def _with_partitioner(inputs: Inputs, partitioner: StreamPartitioner) -> Inputs:
    return tuple((node_id, partitioner, *side) for node_id, _, *side in inputs)


class _OperatorSettings:
    """Settings of the operator that produced a stream (or of a sink)."""

    _env: StreamExecutionEnvironment
    _node: StreamNode | None

    def _operator(self, method: str) -> StreamNode:
        if self._node is None:
            raise TypeError(
                f"{method}() applies to an operator; this stream comes from union() or a "
                "partitioning method, so call it on the stream an operator returned"
            )
        return self._node

    def name(self, name: str):
        """Set the operator's name (shown in the plan, logs and errors)."""
        self._operator("name").name = name
        return self

    def get_name(self) -> str:
        return self._operator("get_name").name

    def uid(self, uid: str):
        self._operator("uid").uid = uid
        return self

    def set_uid_hash(self, uid_hash: str):
        return self

    def set_parallelism(self, parallelism: int):
        if not isinstance(parallelism, int) or parallelism < 1:
            raise ValueError(f"parallelism must be an int >= 1, got {parallelism!r}")
        self._operator("set_parallelism").parallelism = parallelism
        return self

    def get_parallelism(self) -> int:
        node = self._operator("get_parallelism")
        return node.parallelism or self._env.get_parallelism()

    def set_max_parallelism(self, max_parallelism: int):
        if not isinstance(max_parallelism, int) or max_parallelism < 1:
            raise ValueError(f"max parallelism must be an int >= 1, got {max_parallelism!r}")
        self._operator("set_max_parallelism").max_parallelism = max_parallelism
        return self

    def force_non_parallel(self):
        node = self._operator("force_non_parallel")
        node.parallelism = 1
        node.max_allowed_parallelism = 1
        return self

    def disable_chaining(self):
        self._operator("disable_chaining").chaining = ChainingStrategy.NEVER
        return self

    def start_new_chain(self):
        self._operator("start_new_chain").chaining = ChainingStrategy.HEAD
        return self

    def slot_sharing_group(self, slot_sharing_group: Any):
        name = getattr(slot_sharing_group, "get_name", None)
        name = name() if callable(name) else slot_sharing_group
        if not isinstance(name, str) or not name:
            raise ValueError(f"slot sharing group must be a non-empty name, got {slot_sharing_group!r}")
        self._operator("slot_sharing_group").slot_sharing_group = name
        return self


class DataStream(_OperatorSettings):
    """A stream of records (PyFlink's ``DataStream``)."""

    def __init__(
        self,
        env: StreamExecutionEnvironment,
        node: StreamNode | None,
        inputs: Inputs | None = None,
    ) -> None:
        self._env = env
        self._node = node
        if inputs is None:
            inputs = ((node.id, None),)
        self._inputs: Inputs = inputs

    def get_execution_environment(self) -> StreamExecutionEnvironment:
        return self._env

    # -- operators ------------------------------------------------------------------

    def _apply(self, name: str, operator: object) -> DataStream:
        node = self._env._add_node(name, operator, self._inputs)
        return DataStream(self._env, node)

    def map(self, func: Callable | MapFunction, output_type: Any = None) -> DataStream:
        return self._apply("Map", MapOperator(func))

    def flat_map(self, func: Callable | FlatMapFunction, output_type: Any = None) -> DataStream:
        return self._apply("Flat Map", FlatMapOperator(func))

    def filter(self, func: Callable | FilterFunction) -> DataStream:
        return self._apply("Filter", FilterOperator(func))

    def process(self, func: Any, output_type: Any = None) -> DataStream:
        return self._apply("Process", ProcessOperator(func))

    def assign_timestamps_and_watermarks(self, watermark_strategy: Any) -> DataStream:
        """Give records event timestamps and generate watermarks (a WatermarkStrategy)."""
        return self._apply(
            "Timestamps/Watermarks", TimestampsAndWatermarksOperator(watermark_strategy)
        )

    def get_side_output(self, output_tag: OutputTag) -> DataStream:
        """The records this operator sent to ``output_tag`` (``ctx.output(tag, value)``
        or ``yield tag, value``), with their timestamps."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"get_side_output() takes an OutputTag, got {output_tag!r}")
        node = self._operator("get_side_output")
        return DataStream(self._env, None, ((node.id, None, output_tag.tag_id),))

    def union(self, *streams: DataStream) -> DataStream:
        inputs = list(self._inputs)
        for stream in streams:
            if not isinstance(stream, DataStream):
                raise TypeError(f"union() takes DataStreams, got {type(stream).__name__}")
            if stream._env is not self._env:
                raise ValueError("union() of streams from different environments")
            inputs.extend(stream._inputs)
        return DataStream(self._env, None, tuple(inputs))

    def join(self, other: DataStream) -> Any:
        """A window join: ``join(other).where(k1).equal_to(k2).window(w).apply(f)``."""
        from minicluster.datastream.window_join import joined

        return joined(self, other)

    def co_group(self, other: DataStream) -> Any:
        """A window co-group: ``co_group(other).where(k1).equal_to(k2).window(w).apply(f)``."""
        from minicluster.datastream.window_join import co_grouped

        return co_grouped(self, other)

    def key_by(self, key_selector: Callable | KeySelector, key_type: Any = None) -> KeyedStream:
        resolve_function(key_selector, KeySelector, "get_key")
        return KeyedStream(self, key_selector)

    def window_all(self, window_assigner: Any) -> AllWindowedStream:
        """Windows over the whole stream, evaluated at parallelism 1."""
        from minicluster.datastream.windowed_stream import AllWindowedStream

        return AllWindowedStream(self, window_assigner)

    def count_window_all(self, size: int, slide: int | None = 0) -> AllWindowedStream:
        """Count windows of ``size`` elements over the whole stream, a new one every
        ``slide`` elements when given (PyFlink's count windows)."""
        return self.window_all(_count_assigner(size, slide))

    def connect(self, ds: DataStream | BroadcastStream) -> ConnectedStreams | BroadcastConnectedStream:
        """Connect with another stream (``ConnectedStreams``: co-map, co-flat-map,
        co-process) or with a ``BroadcastStream`` (``BroadcastConnectedStream``)."""
        from minicluster.datastream.connected_streams import (
            BroadcastConnectedStream,
            BroadcastStream,
            ConnectedStreams,
        )

        if isinstance(ds, BroadcastStream):
            return BroadcastConnectedStream(self, ds, ds.broadcast_state_descriptors)
        return ConnectedStreams(self, ds)

    # -- partitioning ---------------------------------------------------------------

    def _partitioned(self, partitioner: StreamPartitioner) -> DataStream:
        return DataStream(self._env, None, _with_partitioner(self._inputs, partitioner))

    def forward(self) -> DataStream:
        return self._partitioned(ForwardPartitioner())

    def shuffle(self) -> DataStream:
        return self._partitioned(ShufflePartitioner())

    def rebalance(self) -> DataStream:
        return self._partitioned(RebalancePartitioner())

    def rescale(self) -> DataStream:
        return self._partitioned(RescalePartitioner())

    def broadcast(
        self, broadcast_state_descriptor: Any = None, *other_broadcast_state_descriptors: Any
    ) -> DataStream | BroadcastStream:
        """Send every record to every parallel instance of the next operator.

        With ``MapStateDescriptor``s, return a ``BroadcastStream`` to ``connect`` to,
        whose records the connected function stores in those broadcast states.
        """
        broadcast = self._partitioned(BroadcastPartitioner())
        if broadcast_state_descriptor is None:
            if other_broadcast_state_descriptors:
                raise TypeError("broadcast(): the first MapStateDescriptor is None")
            return broadcast
        from minicluster.datastream.connected_streams import BroadcastStream

        return BroadcastStream(
            broadcast, [broadcast_state_descriptor, *other_broadcast_state_descriptors]
        )

    def global_(self) -> DataStream:
        """Send every record to the first subtask of the next operator."""
        return self._partitioned(GlobalPartitioner())

    def partition_custom(
        self, partitioner: Callable[[Any, int], int] | Partitioner, key_selector: Callable | KeySelector
    ) -> DataStream:
        partition = resolve_function(partitioner, Partitioner, "partition")
        key_of = resolve_function(key_selector, KeySelector, "get_key")
        return self._partitioned(CustomPartitionerWrapper(partition, key_of))

    # -- sinks ----------------------------------------------------------------------

    def _sink(self, name: str, operator: object) -> DataStreamSink:
        node = self._env._add_node(name, operator, self._inputs)
        node.is_sink = True
        return DataStreamSink(self._env, node)

    def print(self, sink_identifier: str | None = None) -> DataStreamSink:
        """Print each record to the client's stdout (``N> `` prefix when parallel)."""
        return self._sink("Print to Std. Out", PrintOperator(sink_identifier))

    def add_sink(self, sink_func: Any) -> DataStreamSink:
        """Call ``sink_func(value)`` (or ``SinkFunction.invoke(value, ctx)``) per record."""
        return self._sink("Sink: Unnamed", SinkOperator(sink_func))

    def sink_to(self, sink: Any) -> DataStreamSink:
        """Write to a ``Sink`` (``FileSink``); a ``SinkFunction`` or callable also works."""
        create_writer = getattr(sink, "_create_writer_operator", None)
        operator = create_writer() if create_writer is not None else SinkOperator(sink)
        return self._sink("Sink: Writer", operator)

    def execute_and_collect(
        self, job_execution_name: str | None = None, limit: int | None = None
    ) -> CloseableIterator | list:
        """Run the job and iterate over this stream's records in the client.

        With ``limit`` the first ``limit`` records are returned as a list and the job
        is cancelled, as PyFlink does.
        """
        self._sink("Sink: Collect", CollectSinkOperator())
        iterator = CloseableIterator(self._env._collect(job_execution_name))
        if limit is None:
            return iterator
        if limit <= 0:
            iterator.close()  # never started: nothing to run
            return []
        with iterator:
            return list(itertools.islice(iterator, limit))


class KeyedStream(DataStream):
    """A stream partitioned by key; keyed operators keep state per key."""

    def __init__(self, stream: DataStream, key_selector: Callable | KeySelector) -> None:
        key_of = resolve_function(key_selector, KeySelector, "get_key")
        partitioner = KeyGroupStreamPartitioner(key_of)
        super().__init__(stream._env, None, _with_partitioner(stream._inputs, partitioner))
        self._key_selector = key_selector
        self._origin = stream

    def process(self, func: Any, output_type: Any = None) -> DataStream:
        """A ``KeyedProcessFunction`` with keyed state and timers (a plain
        ``ProcessFunction`` runs unkeyed, as in Flink)."""
        if isinstance(func, KeyedProcessFunction):
            return self._apply("KeyedProcess", KeyedProcessOperator(self._key_selector, func))
        return super().process(func, output_type)

    def _keyed_function(self, name: str, func: Any, kind: type, method: str, shape: str) -> DataStream:
        adapter = KeyedFunctionAdapter(func, kind, method, shape)
        return self._apply(name, KeyedProcessOperator(self._key_selector, adapter))

    def map(self, func: Callable | MapFunction, output_type: Any = None) -> DataStream:
        """Map with keyed state available in the function."""
        return self._keyed_function("Map", func, MapFunction, "map", "map")

    def flat_map(self, func: Callable | FlatMapFunction, output_type: Any = None) -> DataStream:
        return self._keyed_function("Flat Map", func, FlatMapFunction, "flat_map", "flat_map")

    def filter(self, func: Callable | FilterFunction) -> DataStream:
        return self._keyed_function("Filter", func, FilterFunction, "filter", "filter")

    def interval_join(self, other: KeyedStream) -> Any:
        """Join with ``other`` on key where the timestamps lie within an interval."""
        from minicluster.datastream.join import IntervalJoin

        return IntervalJoin(self, other)

    def window(self, window_assigner: Any) -> WindowedStream:
        """Split each key's records into windows (then reduce, aggregate, apply or
        process them)."""
        from minicluster.datastream.windowed_stream import WindowedStream

        return WindowedStream(self, window_assigner)

    def count_window(self, size: int, slide: int | None = 0) -> WindowedStream:
        """Per key, windows of ``size`` elements, a new one every ``slide`` elements when
        given; a window fires when it is full (PyFlink's ``count_window``)."""
        return self.window(_count_assigner(size, slide))

    def reduce(self, func: Callable | ReduceFunction) -> DataStream:
        """A running reduce: each record yields the key's updated value."""
        return self._apply("Keyed Reduce", KeyedReduceOperator(self._key_selector, func))

    def _aggregate(self, aggregation: str, position: int | str) -> DataStream:
        return self._apply(
            "Keyed Aggregation",
            KeyedReduceOperator(self._key_selector, FieldAggregation(aggregation, position)),
        )

    def sum(self, position_to_sum: int | str = 0) -> DataStream:
        return self._aggregate("sum", position_to_sum)

    def min(self, position_to_min: int | str = 0) -> DataStream:
        return self._aggregate("min", position_to_min)

    def max(self, position_to_max: int | str = 0) -> DataStream:
        return self._aggregate("max", position_to_max)

    def min_by(self, position_to_min_by: int | str = 0) -> DataStream:
        return self._aggregate("min_by", position_to_min_by)

    def max_by(self, position_to_max_by: int | str = 0) -> DataStream:
        return self._aggregate("max_by", position_to_max_by)

    def _partitioned(self, partitioner: StreamPartitioner) -> DataStream:
        raise TypeError(
            f"cannot override the partitioning of a KeyedStream with {partitioner}; "
            "apply an operator first"
        )


class DataStreamSink(_OperatorSettings):
    """The end of a stream (PyFlink's ``DataStreamSink``): settings only."""

    def __init__(self, env: StreamExecutionEnvironment, node: StreamNode) -> None:
        self._env = env
        self._node = node


class CloseableIterator:
    """The results of ``execute_and_collect``; closing it early cancels the job."""

    def __init__(self, run: Any) -> None:
        self._run = run
        self._records: Iterator[Any] = run.run()

    def __iter__(self) -> CloseableIterator:
        return self

    def __next__(self) -> Any:
        return next(self._records)

    def close(self) -> None:
        self._records.close()

    def __enter__(self) -> CloseableIterator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
