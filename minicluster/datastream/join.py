"""Stream joins (PyFlink names): ``KeyedStream.interval_join(other).between(lo, hi)
.process(ProcessJoinFunction)``.

Bounds are ``Duration``/``Time`` or integer milliseconds, relative to the left record's
timestamp; both are inclusive unless ``lower_bound_exclusive()`` /
``upper_bound_exclusive()`` say otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minicluster.common.time import to_millis
from minicluster.operators.interval_join import IntervalJoinOperator

if TYPE_CHECKING:
    from minicluster.datastream.data_stream import DataStream, KeyedStream


class IntervalJoin:
    def __init__(self, left: KeyedStream, right: KeyedStream) -> None:
        from minicluster.datastream.data_stream import KeyedStream

        if not isinstance(right, KeyedStream):
            raise TypeError("interval_join() takes a KeyedStream (call key_by() on it first)")
        self._left, self._right = left, right

    def between(self, lower_bound: Any, upper_bound: Any) -> IntervalJoined:
        lower = to_millis(lower_bound, "the lower bound")
        upper = to_millis(upper_bound, "the upper bound")
        if lower > upper:
            raise ValueError(
                f"interval_join().between({lower}, {upper}): the lower bound must not be "
                "after the upper bound"
            )
        return IntervalJoined(self._left, self._right, lower, upper)


class IntervalJoined:
    def __init__(self, left: KeyedStream, right: KeyedStream, lower: int, upper: int) -> None:
        self._left, self._right = left, right
        self._lower, self._upper = lower, upper
        self._lower_inclusive = True
        self._upper_inclusive = True

    def lower_bound_exclusive(self) -> IntervalJoined:
        self._lower_inclusive = False
        return self

    def upper_bound_exclusive(self) -> IntervalJoined:
        self._upper_inclusive = False
        return self

    def process(self, process_join_function: Any, output_type: Any = None) -> DataStream:
        operator = IntervalJoinOperator(
            self._left._key_selector,
            self._right._key_selector,
            self._lower,
            self._upper,
            self._lower_inclusive,
            self._upper_inclusive,
            process_join_function,
        )
        from minicluster.datastream.data_stream import DataStream

        env = self._left._env
        node = env._add_two_input_node(
            "Interval Join", operator, self._left._inputs, self._right._inputs
        )
        return DataStream(env, node)
