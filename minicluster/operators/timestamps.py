"""Event time enters a stream: timestamps from the assigner, watermarks from the generator.

``from_source(..., strategy)`` and ``assign_timestamps_and_watermarks(strategy)`` both
chain this operator behind their input. Per batch it assigns the timestamps, feeds the
generator (``on_event``; a watermark emitted there splits the batch so that it follows
exactly the records before it), and calls ``on_periodic_emit`` every
``pipeline.auto-watermark-interval`` (milliseconds, default 200; 0 = after every
batch): after a batch once the interval has passed, and on a processing-time timer,
so a pause in the input does not hold event time back. Watermarks from upstream are dropped, except the final maximum one,
as in Flink. With ``with_idleness``, a processing-time timer marks the subtask idle
after the timeout without records, and the next record makes it active again.
"""

from __future__ import annotations


from minicluster.common.watermark_strategy import (
    BoundedOutOfOrdernessWatermarks,
    Watermark,
    WatermarkOutput,
    WatermarkStrategy,
    _CallableAssigner,
)
from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.operators.base import OperatorContext, StreamOperator

class TimestampsAndWatermarksOperator(StreamOperator, WatermarkOutput):
    def __init__(self, strategy: WatermarkStrategy) -> None:
        if not isinstance(strategy, WatermarkStrategy):
            raise TypeError(f"expected a WatermarkStrategy, got {type(strategy).__name__}")
        self.strategy = strategy

    def open(self, ctx: OperatorContext) -> None:
        self._generator = self.strategy.create_watermark_generator()
        assigner = self.strategy.create_timestamp_assigner()
        if assigner is None:
            self._extract = None
        elif isinstance(assigner, _CallableAssigner):
            self._extract = assigner.function  # a lambda: call it directly, once per record
        else:
            self._extract = assigner.extract_timestamp
        self._interval_ms = ctx.config.auto_watermark_interval_ms
        self._last_periodic = ctx.processing_time.current_processing_time()
        if self._interval_ms > 0:  # also without input: a pause must not hold time back
            ctx.processing_time.register(
                self._last_periodic + self._interval_ms, self._periodic_timer
            )
        self._watermark = MIN_WATERMARK
        self._emitted_in_batch = False
        self._idle = False
        self._idle_timeout = self.strategy.idle_timeout_ms
        self._processing_time = ctx.processing_time
        self._last_record_ms = ctx.processing_time.current_processing_time()
        if self._idle_timeout is not None:
            self._processing_time.register(
                self._last_record_ms + self._idle_timeout, self._check_idle
            )

    # -- WatermarkOutput, for the generator ---------------------------------------------

    def emit_watermark(self, watermark: Watermark) -> None:
        timestamp = watermark.timestamp if isinstance(watermark, Watermark) else int(watermark)
        if timestamp > self._watermark:
            self._watermark = timestamp
            self._emitted_in_batch = True

    def mark_idle(self) -> None:
        if not self._idle:
            self._idle = True
            self.output.emit_watermark_status(True)

    def mark_active(self) -> None:
        if self._idle:
            self._idle = False
            self.output.emit_watermark_status(False)

    # -- operator ---------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        if not values:
            return
        extract = self._extract
        if extract is not None:
            if timestamps is None:
                timestamps = [extract(value, MIN_WATERMARK) for value in values]
            else:
                timestamps = [extract(v, t) for v, t in zip(values, timestamps)]
        elif timestamps is None:
            raise ValueError(
                "records have no timestamps: add with_timestamp_assigner(...) to the "
                "WatermarkStrategy"
            )
        if self._idle_timeout is not None:
            self._last_record_ms = self._processing_time.current_processing_time()
            self.mark_active()
        generator = self._generator
        if type(generator) is BoundedOutOfOrdernessWatermarks:
            # its on_event only tracks the maximum: do that for the whole batch at once
            highest = max(timestamps)
            if highest > generator.max_timestamp:
                generator.max_timestamp = highest
            self.output.collect(values, timestamps)
        else:
            self._feed_events(values, timestamps)
        now = self._processing_time.current_processing_time()
        if now - self._last_periodic >= self._interval_ms:
            self._periodic_emit(now)
        self._emitted_in_batch = False

    def _periodic_emit(self, now: int) -> None:
        self._last_periodic = now
        before = self._watermark
        self._generator.on_periodic_emit(self)
        if self._watermark > before:
            self._forward_watermark()

    def _periodic_timer(self, timestamp: int) -> None:
        now = self._processing_time.current_processing_time()
        if now - self._last_periodic >= self._interval_ms:
            self._periodic_emit(now)
        self._processing_time.register(self._last_periodic + self._interval_ms, self._periodic_timer)

    def _feed_events(self, values: list, timestamps: list) -> None:
        """Call ``on_event`` per record; a watermark emitted there goes out right after
        the record that caused it (a punctuated watermark)."""
        on_event = self._generator.on_event
        start = 0
        for i, value in enumerate(values):
            self._emitted_in_batch = False
            on_event(value, timestamps[i], self)
            if self._emitted_in_batch:
                self.output.collect(values[start : i + 1], timestamps[start : i + 1])
                self._forward_watermark()
                start = i + 1
        if start < len(values):
            self.output.collect(values[start:], timestamps[start:])

    def process_watermark(self, watermark: int) -> None:
        if watermark == MAX_WATERMARK:  # end of input: let every timer downstream fire
            self._watermark = MAX_WATERMARK
            self._forward_watermark()

    def process_watermark_status(self, idle: bool) -> None:
        """Upstream idleness is not ours to forward: this operator's own generator
        (and ``with_idleness``) decide when its output is idle, as in Flink."""

    def _forward_watermark(self) -> None:
        """Emit the current watermark; an idle subtask becomes active first, since
        consumers leave idle channels out of their minimum (Flink's WatermarkEmitter)."""
        self.mark_active()
        self.output.emit_watermark(self._watermark)

    def _check_idle(self, timestamp: int) -> None:
        now = self._processing_time.current_processing_time()
        due = self._last_record_ms + self._idle_timeout
        if now >= due:
            self.mark_idle()
            due = now + self._idle_timeout
        self._processing_time.register(due, self._check_idle)
