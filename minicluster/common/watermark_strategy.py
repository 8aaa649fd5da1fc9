"""``WatermarkStrategy``, ``TimestampAssigner``, ``WatermarkGenerator`` (PyFlink names).

A strategy is configuration only: ``create_timestamp_assigner()`` and
``create_watermark_generator()`` build the per-subtask logic objects that hold state
(the maximum timestamp seen so far), as Flink separates ``WatermarkStrategy`` from the
generators it creates.

    for_monotonous_timestamps()          watermark = max timestamp - 1
    for_bounded_out_of_orderness(bound)  watermark = max timestamp - bound - 1
    no_watermarks()                      no watermarks (but the final one at end of input)
    for_generator(supplier)              your own WatermarkGenerator
    .with_timestamp_assigner(assigner)   where timestamps come from (a TimestampAssigner
                                         or a callable ``(value, record_timestamp)``)
    .with_idleness(timeout)              a subtask without records for ``timeout`` is
                                         idle and does not hold back event time
"""

from __future__ import annotations

import abc
from typing import Any, Callable

from minicluster.common.time import Duration

_MIN = -(1 << 63)


class Watermark:
    """A watermark a ``WatermarkGenerator`` emits: event time has reached ``timestamp``."""

    __slots__ = ("timestamp",)

    def __init__(self, timestamp: int) -> None:
        self.timestamp = int(timestamp)

    def get_timestamp(self) -> int:
        return self.timestamp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Watermark) and other.timestamp == self.timestamp

    def __hash__(self) -> int:
        return hash(self.timestamp)

    def __repr__(self) -> str:
        return f"Watermark({self.timestamp})"


class WatermarkOutput(abc.ABC):
    """Where a generator sends watermarks and idleness."""

    @abc.abstractmethod
    def emit_watermark(self, watermark: Watermark) -> None: ...

    @abc.abstractmethod
    def mark_idle(self) -> None: ...

    @abc.abstractmethod
    def mark_active(self) -> None: ...


class WatermarkGenerator(abc.ABC):
    """Generates watermarks from events (``on_event``) and periodically
    (``on_periodic_emit``, every ``pipeline.auto-watermark-interval``)."""

    @abc.abstractmethod
    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None: ...

    @abc.abstractmethod
    def on_periodic_emit(self, output: WatermarkOutput) -> None: ...


class TimestampAssigner(abc.ABC):
    @abc.abstractmethod
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int: ...


class BoundedOutOfOrdernessWatermarks(WatermarkGenerator):
    def __init__(self, max_out_of_orderness_ms: int) -> None:
        if max_out_of_orderness_ms < 0:
            raise ValueError("the out-of-orderness bound cannot be negative")
        self.bound = max_out_of_orderness_ms
        self.max_timestamp = _MIN + max_out_of_orderness_ms + 1

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        if event_timestamp > self.max_timestamp:
            self.max_timestamp = event_timestamp

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        output.emit_watermark(Watermark(self.max_timestamp - self.bound - 1))


class NoWatermarksGenerator(WatermarkGenerator):
    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        pass

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        pass


class _CallableAssigner(TimestampAssigner):
    def __init__(self, function: Callable[[Any, int], int]) -> None:
        self.function = function

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return self.function(value, record_timestamp)


class WatermarkStrategy:
    def __init__(
        self,
        generator_supplier: Callable[[], WatermarkGenerator],
        description: str,
        timestamp_assigner: TimestampAssigner | None = None,
        idle_timeout_ms: int | None = None,
    ) -> None:
        self._generator_supplier = generator_supplier
        self._description = description
        self._timestamp_assigner = timestamp_assigner
        self._idle_timeout_ms = idle_timeout_ms

    @staticmethod
    def for_monotonous_timestamps() -> "WatermarkStrategy":
        return WatermarkStrategy(
            lambda: BoundedOutOfOrdernessWatermarks(0), "for_monotonous_timestamps()"
        )

    @staticmethod
    def for_bounded_out_of_orderness(max_out_of_orderness: Duration) -> "WatermarkStrategy":
        bound = _millis(max_out_of_orderness)
        if bound < 0:
            raise ValueError(f"the out-of-orderness bound cannot be negative: {max_out_of_orderness}")
        return WatermarkStrategy(
            lambda: BoundedOutOfOrdernessWatermarks(bound),
            f"for_bounded_out_of_orderness({bound} ms)",
        )

    @staticmethod
    def no_watermarks() -> "WatermarkStrategy":
        return WatermarkStrategy(NoWatermarksGenerator, "no_watermarks()")

    @staticmethod
    def for_generator(generator_supplier: Callable[[], WatermarkGenerator]) -> "WatermarkStrategy":
        if not callable(generator_supplier):
            raise TypeError("for_generator() takes a callable that returns a WatermarkGenerator")
        return WatermarkStrategy(generator_supplier, "for_generator(...)")

    def with_timestamp_assigner(self, timestamp_assigner: Any) -> "WatermarkStrategy":
        if isinstance(timestamp_assigner, TimestampAssigner):
            assigner = timestamp_assigner
        elif callable(timestamp_assigner):
            assigner = _CallableAssigner(timestamp_assigner)
        else:
            raise TypeError(
                "with_timestamp_assigner() takes a TimestampAssigner or a callable "
                f"(value, record_timestamp) -> int, got {timestamp_assigner!r}"
            )
        return WatermarkStrategy(
            self._generator_supplier, self._description, assigner, self._idle_timeout_ms
        )

    def with_idleness(self, idle_timeout: Duration) -> "WatermarkStrategy":
        timeout = _millis(idle_timeout)
        if timeout <= 0:
            raise ValueError(f"the idle timeout must be positive, got {idle_timeout}")
        return WatermarkStrategy(
            self._generator_supplier, self._description, self._timestamp_assigner, timeout
        )

    # -- used by the runtime ------------------------------------------------------------

    def create_watermark_generator(self) -> WatermarkGenerator:
        generator = self._generator_supplier()
        if not isinstance(generator, WatermarkGenerator):
            raise TypeError(f"the watermark generator supplier returned {generator!r}")
        return generator

    def create_timestamp_assigner(self) -> TimestampAssigner | None:
        return self._timestamp_assigner

    @property
    def idle_timeout_ms(self) -> int | None:
        return self._idle_timeout_ms

    @property
    def generates_watermarks(self) -> bool:
        return self._generator_supplier is not NoWatermarksGenerator

    def __repr__(self) -> str:
        return f"WatermarkStrategy.{self._description}"


def _millis(duration: Any) -> int:
    if isinstance(duration, Duration):
        return duration.to_milliseconds()
    to_ms = getattr(duration, "to_milliseconds", None)
    if to_ms is not None:
        return int(to_ms())
    raise TypeError(f"expected a Duration, got {duration!r}")


__all__ = [
    "TimestampAssigner",
    "Watermark",
    "WatermarkGenerator",
    "WatermarkOutput",
    "WatermarkStrategy",
]
