"""The leaf type descriptors: ``TypeInformation`` and the types without children.

See ``minicluster.common.typeinfo`` for how minicluster uses type information.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable

__all__ = [
    "BasicType",
    "BasicTypeInfo",
    "DateTypeInfo",
    "LocalTimeTypeInfo",
    "PickledBytesTypeInfo",
    "SqlTimeTypeInfo",
    "TimeTypeInfo",
    "TimestampTypeInfo",
    "TypeInformation",
]


class TypeInformation:
    """Base of all type descriptors; immutable, compared and hashed by value."""

    __slots__ = ()

    def is_instance(self, value: Any) -> bool:
        """Returns whether ``value`` plausibly has this type (cheap, best effort)."""
        return True

    def _key(self) -> tuple[Any, ...]:
        return ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key()))

    def __repr__(self) -> str:
        return type(self).__name__


def _int_in(low: int, high: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return type(value) is not bool and isinstance(value, int) and low <= value <= high

    return check


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class BasicType(Enum):
    """The basic types; each value is the Java class name PyFlink prints."""

    STRING = "String"
    BYTE = "Byte"
    BOOLEAN = "Boolean"
    SHORT = "Short"
    INT = "Integer"
    LONG = "Long"
    FLOAT = "Float"
    DOUBLE = "Double"
    CHAR = "Char"
    BIG_INT = "BigInteger"
    BIG_DEC = "BigDecimal"
    INSTANT = "Instant"


# Basic types without an entry accept anything (BIG_DEC, INSTANT).
_BASIC_CHECKS: dict[BasicType, Callable[[Any], bool]] = {
    BasicType.STRING: lambda v: v is None or isinstance(v, str),
    BasicType.BYTE: _int_in(-(2**7), 2**7 - 1),
    BasicType.BOOLEAN: lambda v: isinstance(v, bool),
    BasicType.SHORT: _int_in(-(2**15), 2**15 - 1),
    BasicType.INT: _int_in(-(2**31), 2**31 - 1),
    BasicType.LONG: _int_in(-(2**63), 2**63 - 1),
    BasicType.FLOAT: _is_number,
    BasicType.DOUBLE: _is_number,
    BasicType.CHAR: lambda v: isinstance(v, str) and len(v) == 1,
    BasicType.BIG_INT: lambda v: v is None or (isinstance(v, int) and type(v) is not bool),
}


class BasicTypeInfo(TypeInformation):
    """Type information for strings, numbers, booleans and ``Instant``."""

    __slots__ = ("_basic_type",)

    def __init__(self, basic_type: BasicType) -> None:
        if not isinstance(basic_type, BasicType):
            raise TypeError(f"BasicTypeInfo needs a BasicType, got {basic_type!r}")
        self._basic_type = basic_type

    def is_instance(self, value: Any) -> bool:
        check = _BASIC_CHECKS.get(self._basic_type)
        return True if check is None else check(value)

    def _key(self) -> tuple[Any, ...]:
        return (self._basic_type,)

    def __repr__(self) -> str:
        return self._basic_type.value


class DateTypeInfo(TypeInformation):
    """Type information for ``datetime.date`` (Flink's ``SqlTimeTypeInfo.DATE``)."""

    __slots__ = ()


class TimeTypeInfo(TypeInformation):
    """Type information for ``datetime.time`` (Flink's ``SqlTimeTypeInfo.TIME``)."""

    __slots__ = ()


class TimestampTypeInfo(TypeInformation):
    """Type information for ``datetime.datetime`` (``SqlTimeTypeInfo.TIMESTAMP``)."""

    __slots__ = ()


class LocalTimeTypeInfo(TypeInformation):
    """Type information for Java's ``LocalDate``, ``LocalTime``, ``LocalDateTime``."""

    class TimeType(Enum):
        """Which local time type; the value is the Java class name."""

        LOCAL_DATE = "LocalDate"
        LOCAL_TIME = "LocalTime"
        LOCAL_DATE_TIME = "LocalDateTime"

    __slots__ = ("_time_type",)

    def __init__(self, time_type: LocalTimeTypeInfo.TimeType) -> None:
        if not isinstance(time_type, LocalTimeTypeInfo.TimeType):
            raise TypeError(f"LocalTimeTypeInfo needs a TimeType, got {time_type!r}")
        self._time_type = time_type

    def _key(self) -> tuple[Any, ...]:
        return (self._time_type,)

    def __repr__(self) -> str:
        return self._time_type.value


class PickledBytesTypeInfo(TypeInformation):
    """Any picklable object: the type PyFlink uses when none is declared."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PickledByteArrayTypeInfo"


class SqlTimeTypeInfo:
    """Factories for the SQL date/time types, as PyFlink's ``SqlTimeTypeInfo``."""

    @staticmethod
    def DATE() -> TypeInformation:  # noqa: N802 - PyFlink's name
        """A ``datetime.date``; may be None."""
        return DateTypeInfo()

    @staticmethod
    def TIME() -> TypeInformation:  # noqa: N802
        """A ``datetime.time``; may be None."""
        return TimeTypeInfo()

    @staticmethod
    def TIMESTAMP() -> TypeInformation:  # noqa: N802
        """A ``datetime.datetime``; may be None."""
        return TimestampTypeInfo()
