"""``TestStream``: a source whose records, timestamps and watermarks a test scripts exactly.

After Beam's ``TestStream``: instead of hoping that a watermark generator emits at the
right moment, the test says where each watermark goes, so late records, on-time
records and idleness are reproducible::

    stream = (
        TestStream.builder()
        .add_elements(TimestampedValue("a", 1), TimestampedValue("b", 5))
        .advance_watermark_to(4)                   # "b" is not late yet, "a" would be
        .add_elements(TimestampedValue("late", 2))  # behind the watermark: late data
        .advance_watermark_to_infinity()
        .build()
    )
    env.from_source(stream, WatermarkStrategy.no_watermarks(), "events")

Use ``WatermarkStrategy.no_watermarks()`` (or None): a strategy that generates
watermarks puts a ``TimestampsAndWatermarksOperator`` behind the source, which, as in
Flink, replaces the source's watermarks with its own.

The stream is non-parallel (``max_parallelism = 1``): one subtask replays the events
in order, as the builder recorded them. Each ``add_elements`` call is split into batches
of ``minicluster.batch-size`` records; a watermark follows the records added before it.
The runtime ends every source with the maximum watermark, so
``advance_watermark_to_infinity()`` is only needed to say it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.operators.sources import (
    SourceBatch,
    SourceItem,
    SourceWatermark,
    SourceWatermarkStatus,
)


def _check_timestamp(timestamp: Any, what: str) -> int:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise TypeError(f"{what} must be an int (milliseconds), got {timestamp!r}")
    if not MIN_WATERMARK <= timestamp <= MAX_WATERMARK:
        raise ValueError(f"{what} {timestamp} is outside the 64-bit millisecond range")
    return timestamp


@dataclass(frozen=True, slots=True)
class TimestampedValue:
    """A value and its event timestamp (milliseconds), as Beam's ``TimestampedValue``."""

    value: Any
    timestamp: int

    def __post_init__(self) -> None:
        _check_timestamp(self.timestamp, "a TimestampedValue's timestamp")


class TestStream:
    """A bounded, non-parallel source replaying scripted records and watermarks.

    Build one with ``TestStream.builder()``; the object is immutable and can be used by
    several jobs.
    """

    __test__ = False  # not a pytest test class, despite its name
    max_parallelism = 1

    def __init__(self, events: tuple[SourceItem, ...]) -> None:
        for event in events:
            if type(event) not in (list, SourceBatch, SourceWatermark, SourceWatermarkStatus):
                raise TypeError(
                    "a TestStream event is a list of values, a SourceBatch, a "
                    f"SourceWatermark or a SourceWatermarkStatus, got {event!r}; use "
                    "TestStream.builder()"
                )
        self.events = tuple(events)

    @staticmethod
    def builder() -> TestStreamBuilder:
        return TestStreamBuilder()

    def create_batches(
        self, subtask_index: int, parallelism: int, batch_size: int
    ) -> Iterator[SourceItem]:
        if subtask_index != 0:  # non-parallel: should the limit be bypassed, replay once
            return
        for event in self.events:
            if type(event) is SourceBatch and len(event.values) > batch_size:
                values, timestamps = event.values, event.timestamps
                for low in range(0, len(values), batch_size):
                    yield SourceBatch(
                        values[low : low + batch_size], timestamps[low : low + batch_size]
                    )
            elif type(event) is list:
                for low in range(0, len(event), batch_size):
                    yield event[low : low + batch_size]
            else:
                yield event

    def __repr__(self) -> str:
        records = sum(
            len(e) if type(e) is list else len(e.values)
            for e in self.events
            if type(e) in (list, SourceBatch)
        )
        watermarks = sum(1 for e in self.events if type(e) is SourceWatermark)
        return f"TestStream({records} records, {watermarks} watermarks)"


class TestStreamBuilder:
    """Records the events of a ``TestStream`` in order; every method returns the builder."""

    __test__ = False

    def __init__(self) -> None:
        self._events: list[SourceItem] = []
        self._watermark = MIN_WATERMARK

    def add_elements(self, *elements: Any, timestamp: int | None = None) -> TestStreamBuilder:
        """Emit ``elements``: ``TimestampedValue``\\ s, or plain values that all get
        ``timestamp``. Plain values without a ``timestamp`` make records without event
        time (``ctx.timestamp()`` is None); one call cannot mix both. A timestamp at or
        behind the current watermark is allowed: that record is late."""
        if not elements:
            raise ValueError("add_elements() needs at least one element")
        if self._watermark == MAX_WATERMARK:
            raise ValueError(
                "add_elements() after advance_watermark_to_infinity(): the stream has "
                "ended in event time, no record can follow"
            )
        if timestamp is not None:
            _check_timestamp(timestamp, "add_elements(timestamp=...)")
        values, timestamps = [], []
        for element in elements:
            if isinstance(element, TimestampedValue):
                values.append(element.value)
                timestamps.append(element.timestamp)
            else:
                values.append(element)
                timestamps.append(timestamp)
        if all(t is None for t in timestamps):
            self._events.append(list(values))
        elif any(t is None for t in timestamps):
            raise ValueError(
                "add_elements() mixes TimestampedValues with plain values but has no "
                "timestamp= for the plain ones; give every record a timestamp or none"
            )
        else:
            self._events.append(SourceBatch(values, timestamps))
        return self

    def advance_watermark_to(self, timestamp: int) -> TestStreamBuilder:
        """Emit the watermark ``timestamp``: no record at or before it is expected any
        more (later ``add_elements`` may still add such late records)."""
        _check_timestamp(timestamp, "the watermark")
        if timestamp < self._watermark:
            raise ValueError(
                f"advance_watermark_to({timestamp}): the watermark is already at "
                f"{self._watermark} and cannot go back"
            )
        if timestamp > self._watermark:
            self._watermark = timestamp
            self._events.append(SourceWatermark(timestamp))
        return self

    def advance_watermark_to_infinity(self) -> TestStreamBuilder:
        """Emit the maximum watermark: every event-time timer downstream fires."""
        return self.advance_watermark_to(MAX_WATERMARK)

    def mark_idle(self) -> TestStreamBuilder:
        """The source goes idle: consumers stop waiting for its watermark. The next
        record or watermark makes it active again."""
        self._events.append(SourceWatermarkStatus(True))
        return self

    def mark_active(self) -> TestStreamBuilder:
        """The source is active again (its watermark holds consumers back again)."""
        self._events.append(SourceWatermarkStatus(False))
        return self

    def build(self) -> TestStream:
        return TestStream(tuple(self._events))


__all__ = ["TestStream", "TestStreamBuilder", "TimestampedValue"]
