"""Window joins and co-groups of two streams (Flink's ``JoinedStreams`` and
``CoGroupedStreams``), composed on the primitives as Flink composes them:

    first  --map: (0, value)--+
                              +--union--key_by(tag-aware key)--window--apply(co-group)
    second --map: (1, value)--+

The window function splits each window's elements back into the two sides and calls
``co_group(first, second)``; a join is a co-group that calls ``join(a, b)`` for every
pair (an inner join: a key/window with one side empty produces nothing).

    first.join(second).where(key1).equal_to(key2).window(assigner).apply(JoinFunction)
    first.co_group(second).where(key1).equal_to(key2).window(assigner).apply(CoGroupFunction)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minicluster._functions.base import close_function, open_function, resolve_function
from minicluster._functions.joins import CoGroupFunction, FlatJoinFunction, JoinFunction
from minicluster._functions.simple import KeySelector
from minicluster._functions.window import WindowFunction

if TYPE_CHECKING:
    from minicluster.datastream.data_stream import DataStream


class _Tag:
    """Marks a record with the side it came from (a picklable map function)."""

    def __init__(self, side: int) -> None:
        self.side = side

    def __call__(self, value: Any) -> tuple[int, Any]:
        return (self.side, value)


class _UnionKeySelector(KeySelector):
    def __init__(self, key1: Any, key2: Any) -> None:
        self.keys = (key1, key2)

    def open(self, runtime_context: Any) -> None:
        self._key_of = [resolve_function(k, KeySelector, "get_key") for k in self.keys]

    def get_key(self, tagged: tuple[int, Any]) -> Any:
        key_of = getattr(self, "_key_of", None)
        if key_of is None:  # used before open() (e.g. by the partitioner)
            self.open(None)
            key_of = self._key_of
        return key_of[tagged[0]](tagged[1])


class _CoGroupWindowFunction(WindowFunction):
    def __init__(self, function: Any, join: bool) -> None:
        self.function = function
        self.join = join

    def open(self, runtime_context: Any) -> None:
        open_function(self.function, runtime_context)
        method = "join" if self.join else "co_group"
        self._call = resolve_function(
            self.function, JoinFunction if self.join else CoGroupFunction, method
        )
        self._flat = isinstance(self.function, FlatJoinFunction)

    def close(self) -> None:
        close_function(self.function)

    def apply(self, key: Any, window: Any, inputs: Any):
        first = [value for side, value in inputs if side == 0]
        second = [value for side, value in inputs if side == 1]
        if not self.join:
            return self._call(first, second)
        call = self._call
        if self._flat:
            return [out for a in first for b in second for out in (call(a, b) or ())]
        return [call(a, b) for a in first for b in second]


class _TwoStreams:
    def __init__(self, first: DataStream, second: DataStream, join: bool) -> None:
        if second._env is not first._env:
            raise ValueError("cannot join streams of different environments")
        self._first, self._second, self._join = first, second, join
        self._key1 = self._key2 = None

    def where(self, key_selector: Any, key_type: Any = None) -> _TwoStreams:
        resolve_function(key_selector, KeySelector, "get_key")
        self._key1 = key_selector
        return self

    def equal_to(self, key_selector: Any, key_type: Any = None) -> _TwoStreams:
        if self._key1 is None:
            raise TypeError("call where(key_selector) before equal_to(key_selector)")
        resolve_function(key_selector, KeySelector, "get_key")
        self._key2 = key_selector
        return self

    def window(self, window_assigner: Any) -> _WindowedTwoStreams:
        if self._key1 is None or self._key2 is None:
            raise TypeError("a window join needs where(key1).equal_to(key2) before window()")
        return _WindowedTwoStreams(self, window_assigner)


class _WindowedTwoStreams:
    def __init__(self, streams: _TwoStreams, window_assigner: Any) -> None:
        self._streams = streams
        self._assigner = window_assigner
        self._trigger = None
        self._evictor = None
        self._allowed_lateness = None

    def trigger(self, trigger: Any) -> _WindowedTwoStreams:
        self._trigger = trigger
        return self

    def evictor(self, evictor: Any) -> _WindowedTwoStreams:
        self._evictor = evictor
        return self

    def allowed_lateness(self, time_ms: Any) -> _WindowedTwoStreams:
        self._allowed_lateness = time_ms
        return self

    def apply(self, function: Any, output_type: Any = None) -> DataStream:
        streams = self._streams
        expected = (JoinFunction, FlatJoinFunction) if streams._join else (CoGroupFunction,)
        method = "join" if streams._join else "co_group"
        if not isinstance(function, expected):
            resolve_function(function, expected[0], method)  # a plain callable is fine too
        first = streams._first.map(_Tag(0)).name("Map: tag first")
        second = streams._second.map(_Tag(1)).name("Map: tag second")
        windowed = (
            first.union(second)
            .key_by(_UnionKeySelector(streams._key1, streams._key2))
            .window(self._assigner)
        )
        if self._trigger is not None:
            windowed = windowed.trigger(self._trigger)
        if self._evictor is not None:
            windowed = windowed.evictor(self._evictor)
        if self._allowed_lateness is not None:
            windowed = windowed.allowed_lateness(self._allowed_lateness)
        result = windowed.apply(_CoGroupWindowFunction(function, streams._join))
        return result.name("Window Join" if streams._join else "Window CoGroup")

    def with_(self, function: Any) -> DataStream:
        return self.apply(function)


def joined(first: DataStream, second: DataStream) -> _TwoStreams:
    return _TwoStreams(first, second, join=True)


def co_grouped(first: DataStream, second: DataStream) -> _TwoStreams:
    return _TwoStreams(first, second, join=False)
