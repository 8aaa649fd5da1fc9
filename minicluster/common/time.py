"""``Duration`` and ``Time``: immutable spans of time, as PyFlink's.

PyFlink's ``Duration`` wraps a ``java.time.Duration`` and ``Time`` (deprecated in
Flink in favour of ``Duration``) holds milliseconds. Here both are plain values:
equal and hashed by length, ordered, picklable. Both answer ``to_milliseconds()``,
so engine code that takes either (window sizes, timeouts) reads them one way.

As in Java, spans may be negative or zero; callers that need a positive span
(a window size, an interval) check it and say which argument was wrong. Factories
take whole numbers only, as Java's ``long`` arguments: ``Duration.of_seconds(1.5)``
raises ``TypeError`` rather than silently truncating; write ``of_millis(1500)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Duration", "Time"]

_NANOS_PER_MILLI = 1_000_000
_MILLIS_PER_SECOND = 1_000
_MILLIS_PER_MINUTE = 60 * _MILLIS_PER_SECOND
_MILLIS_PER_HOUR = 60 * _MILLIS_PER_MINUTE
_MILLIS_PER_DAY = 24 * _MILLIS_PER_HOUR


def _whole(owner: str, amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        example = "Time.milliseconds(1500)" if owner.startswith("Time") else "of_millis(1500)"
        raise TypeError(
            f"{owner}() takes a whole number (int), got {type(amount).__name__} "
            f"{amount!r}; express fractions in a smaller unit, e.g. {example}"
        )
    return amount


def _largest_unit(amount: int, units: tuple[tuple[str, int], ...]) -> str:
    """Returns ``name(n)`` for the largest unit that divides ``amount`` exactly."""
    for name, size in units:
        if amount % size == 0 and amount != 0:
            return f"{name}({amount // size})"
    return f"{units[-1][0]}({amount})"


@dataclass(frozen=True, slots=True, order=True, repr=False)
class Duration:
    """A span of time with nanosecond precision, as ``java.time.Duration``.

    Build one with the ``of_*`` factories; the constructor takes nanoseconds.
    """

    _nanos: int

    def __post_init__(self) -> None:
        _whole("Duration", self._nanos)

    @classmethod
    def of_days(cls, days: int) -> Duration:
        """Returns a span of ``days`` standard 24-hour days."""
        return cls(_whole("Duration.of_days", days) * _MILLIS_PER_DAY * _NANOS_PER_MILLI)

    @classmethod
    def of_hours(cls, hours: int) -> Duration:
        """Returns a span of ``hours`` hours."""
        return cls(_whole("Duration.of_hours", hours) * _MILLIS_PER_HOUR * _NANOS_PER_MILLI)

    @classmethod
    def of_minutes(cls, minutes: int) -> Duration:
        """Returns a span of ``minutes`` minutes."""
        return cls(
            _whole("Duration.of_minutes", minutes) * _MILLIS_PER_MINUTE * _NANOS_PER_MILLI
        )

    @classmethod
    def of_seconds(cls, seconds: int) -> Duration:
        """Returns a span of ``seconds`` seconds."""
        return cls(
            _whole("Duration.of_seconds", seconds) * _MILLIS_PER_SECOND * _NANOS_PER_MILLI
        )

    @classmethod
    def of_millis(cls, millis: int) -> Duration:
        """Returns a span of ``millis`` milliseconds."""
        return cls(_whole("Duration.of_millis", millis) * _NANOS_PER_MILLI)

    @classmethod
    def of_nanos(cls, nanos: int) -> Duration:
        """Returns a span of ``nanos`` nanoseconds."""
        return cls(_whole("Duration.of_nanos", nanos))

    def to_milliseconds(self) -> int:
        """Returns the length in whole milliseconds, rounded down as Java's ``toMillis``."""
        return self._nanos // _NANOS_PER_MILLI

    def to_nanos(self) -> int:
        """Returns the length in nanoseconds."""
        return self._nanos

    def is_negative(self) -> bool:
        """Returns whether the span is shorter than zero."""
        return self._nanos < 0

    def is_zero(self) -> bool:
        """Returns whether the span is zero."""
        return self._nanos == 0

    def __repr__(self) -> str:
        return "Duration." + _largest_unit(self._nanos, _DURATION_UNITS)


_DURATION_UNITS = (
    ("of_days", _MILLIS_PER_DAY * _NANOS_PER_MILLI),
    ("of_hours", _MILLIS_PER_HOUR * _NANOS_PER_MILLI),
    ("of_minutes", _MILLIS_PER_MINUTE * _NANOS_PER_MILLI),
    ("of_seconds", _MILLIS_PER_SECOND * _NANOS_PER_MILLI),
    ("of_millis", _NANOS_PER_MILLI),
    ("of_nanos", 1),
)


@dataclass(frozen=True, slots=True, order=True, repr=False)
class Time:
    """A span of time in milliseconds, as PyFlink's ``Time``.

    Build one with the factories (``Time.seconds(5)``); the constructor takes
    milliseconds.
    """

    _milliseconds: int

    def __post_init__(self) -> None:
        _whole("Time", self._milliseconds)

    @classmethod
    def milliseconds(cls, milliseconds: int) -> Time:
        """Returns a span of ``milliseconds`` milliseconds."""
        return cls(_whole("Time.milliseconds", milliseconds))

    @classmethod
    def seconds(cls, seconds: int) -> Time:
        """Returns a span of ``seconds`` seconds."""
        return cls(_whole("Time.seconds", seconds) * _MILLIS_PER_SECOND)

    @classmethod
    def minutes(cls, minutes: int) -> Time:
        """Returns a span of ``minutes`` minutes."""
        return cls(_whole("Time.minutes", minutes) * _MILLIS_PER_MINUTE)

    @classmethod
    def hours(cls, hours: int) -> Time:
        """Returns a span of ``hours`` hours."""
        return cls(_whole("Time.hours", hours) * _MILLIS_PER_HOUR)

    @classmethod
    def days(cls, days: int) -> Time:
        """Returns a span of ``days`` 24-hour days."""
        return cls(_whole("Time.days", days) * _MILLIS_PER_DAY)

    def to_milliseconds(self) -> int:
        """Returns the length in milliseconds."""
        return self._milliseconds

    def __repr__(self) -> str:
        return "Time." + _largest_unit(self._milliseconds, _TIME_UNITS)


_TIME_UNITS = (
    ("days", _MILLIS_PER_DAY),
    ("hours", _MILLIS_PER_HOUR),
    ("minutes", _MILLIS_PER_MINUTE),
    ("seconds", _MILLIS_PER_SECOND),
    ("milliseconds", 1),
)


def to_millis(span: Any, what: str) -> int:
    """Milliseconds of a ``Duration``, a ``Time`` or an int of milliseconds (the
    spans that window sizes, join bounds and trigger intervals accept)."""
    if isinstance(span, int) and not isinstance(span, bool):
        return span
    to_ms = getattr(span, "to_milliseconds", None)
    if to_ms is None or isinstance(span, bool):
        raise TypeError(
            f"{what} must be a Duration, Time or int milliseconds, got {span!r}; pass "
            "a Time, a Duration or an int of milliseconds (e.g. Time.seconds(10))"
        )
    return int(to_ms())

