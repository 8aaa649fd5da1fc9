"""Interval join of two keyed streams (Flink's ``IntervalJoinOperator``).

A left record at time t joins every right record of the same key with a timestamp in
``[t + lower, t + upper]`` (bounds inclusive unless made exclusive), and symmetrically.
Each side buffers its records in keyed map state (timestamp -> records) until an
event-time cleanup timer says no future record of the other side can still match:

    left record at t:  kept until the watermark passes t + upper (or t, if upper <= 0)
    right record at t: kept until the watermark passes t - lower (or t, if lower >= 0)

Records that arrive behind the watermark are late and dropped, as in Flink. A pair
is emitted with the larger of the two timestamps.
"""

from __future__ import annotations

from typing import Any

from minicluster._functions.base import resolve_function
from minicluster._functions.simple import KeySelector
from minicluster.operators.base import OperatorContext
from minicluster.operators.keyed_process import KeyedOperatorBase
from minicluster.state.descriptors import MapStateDescriptor

_LEFT, _RIGHT = "interval-join-left", "interval-join-right"


class _JoinContext:
    """The ``ctx`` of ``ProcessJoinFunction.process_element``."""

    __slots__ = ("left_timestamp", "right_timestamp", "_side")

    def __init__(self, side: Any) -> None:
        self.left_timestamp = 0
        self.right_timestamp = 0
        self._side = side

    def get_left_timestamp(self) -> int:
        return self.left_timestamp

    def get_right_timestamp(self) -> int:
        return self.right_timestamp

    def get_timestamp(self) -> int:
        return max(self.left_timestamp, self.right_timestamp)

    def output(self, output_tag: Any, value: Any) -> None:
        self._side.add(output_tag, value, self.get_timestamp())


class IntervalJoinOperator(KeyedOperatorBase):
    def __init__(
        self,
        key_selector1: object,
        key_selector2: object,
        lower_bound: int,
        upper_bound: int,
        lower_inclusive: bool,
        upper_inclusive: bool,
        function: Any,
    ) -> None:
        for selector in (key_selector1, key_selector2):
            resolve_function(selector, KeySelector, "get_key")
        if not callable(getattr(function, "process_element", None)):
            raise TypeError(f"interval join needs a ProcessJoinFunction, got {function!r}")
        lower = lower_bound if lower_inclusive else lower_bound + 1
        upper = upper_bound if upper_inclusive else upper_bound - 1
        if lower > upper:
            raise ValueError(
                f"interval join: the lower bound {lower_bound} must not be after the upper "
                f"bound {upper_bound}"
            )
        self.key_selectors = (key_selector1, key_selector2)
        self.lower, self.upper = lower, upper
        self.function = function

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = [resolve_function(s, KeySelector, "get_key") for s in self.key_selectors]
        self._open_keyed(ctx, [*self.key_selectors, self.function])
        self._buffers = (
            self.backend.get_state(MapStateDescriptor(_LEFT)),
            self.backend.get_state(MapStateDescriptor(_RIGHT)),
        )
        self._join_ctx = _JoinContext(self.emitter.side)
        self.late_records_dropped = 0

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        if timestamps is None:
            raise ValueError(
                "interval join needs event time: assign timestamps and watermarks to both "
                "inputs (WatermarkStrategy...with_timestamp_assigner)"
            )
        key_of = self._key_of[input_index]
        set_key = self.backend.set_current_key
        is_left = input_index == 0
        ours, theirs = (self._buffers if is_left else self._buffers[::-1])
        # relative bounds of the other side's timestamps, seen from this side
        lower, upper = (self.lower, self.upper) if is_left else (-self.upper, -self.lower)
        watermark = self.timers.current_watermark
        for value, timestamp in zip(values, timestamps):
            if timestamp < watermark:
                self.late_records_dropped += 1
                continue
            set_key(key_of(value))
            bucket = ours.get(timestamp)
            if bucket is None:
                ours.put(timestamp, [value])
            else:
                bucket.append(value)
            for other_timestamp, others in theirs.items():
                if timestamp + lower <= other_timestamp <= timestamp + upper:
                    for other in others:
                        if is_left:
                            self._emit(value, other, timestamp, other_timestamp)
                        else:
                            self._emit(other, value, other_timestamp, timestamp)
            cleanup = timestamp + upper if upper > 0 else timestamp
            self.timers.register_event_time_timer(cleanup, _LEFT if is_left else _RIGHT)
        self.emitter.flush(self.output, True)

    def _emit(self, left: Any, right: Any, left_ts: int, right_ts: int) -> None:
        ctx = self._join_ctx
        ctx.left_timestamp, ctx.right_timestamp = left_ts, right_ts
        produced = self.function.process_element(left, right, ctx)
        if produced is not None:
            self.emitter.emit_all(produced, max(left_ts, right_ts))

    def _fire_event_timer(self, timestamp: int, key: Any, namespace: Any) -> None:
        if namespace == _LEFT:
            self._buffers[0].remove(timestamp - self.upper if self.upper > 0 else timestamp)
        else:
            self._buffers[1].remove(timestamp + self.lower if self.lower <= 0 else timestamp)
