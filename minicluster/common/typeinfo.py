"""``Types`` and ``TypeInformation``: PyFlink's type descriptors, minus the JVM.

PyFlink needs a ``TypeInformation`` to pick a serializer for each edge. minicluster
pickles every record, so it accepts these objects wherever PyFlink does
(``output_type=``, state descriptors) and otherwise ignores them. They keep
PyFlink's class names, ``repr`` and equality so plans and errors read alike, and add
``is_instance(value)``: a cheap, best-effort check for tests and debugging that
answers ``False`` only for values PyFlink would reject too.

``None`` is accepted where Flink's serializer accepts null: for ``STRING``,
``BIG_INT``, ``BIG_DEC``, ``INSTANT`` and the date/time types, for any field of a
row, for map values and for elements of basic and object arrays; not for the
primitive types (``INT``, ``BOOLEAN``, ...) nor for a row or tuple itself.

The classes live in ``_leaf_types`` and ``_composite_types``; import them from here,
as PyFlink code imports them from ``pyflink.common.typeinfo``.
"""

from __future__ import annotations

from typing import Sequence

from minicluster.common._composite_types import (
    BasicArrayTypeInfo,
    ListTypeInfo,
    MapTypeInfo,
    ObjectArrayTypeInfo,
    PrimitiveArrayTypeInfo,
    RowTypeInfo,
    TupleTypeInfo,
)
from minicluster.common._leaf_types import (
    BasicType,
    BasicTypeInfo,
    DateTypeInfo,
    LocalTimeTypeInfo,
    PickledBytesTypeInfo,
    SqlTimeTypeInfo,
    TimestampTypeInfo,
    TimeTypeInfo,
    TypeInformation,
)

__all__ = [
    "BasicArrayTypeInfo",
    "BasicType",
    "BasicTypeInfo",
    "DateTypeInfo",
    "ListTypeInfo",
    "LocalTimeTypeInfo",
    "MapTypeInfo",
    "ObjectArrayTypeInfo",
    "PickledBytesTypeInfo",
    "PrimitiveArrayTypeInfo",
    "RowTypeInfo",
    "SqlTimeTypeInfo",
    "TimeTypeInfo",
    "TimestampTypeInfo",
    "TupleTypeInfo",
    "TypeInformation",
    "Types",
]

_TimeType = LocalTimeTypeInfo.TimeType


class Types:
    """Factories for the type information of common types, named as in PyFlink.

    Each is a method, as in PyFlink: write ``Types.INT()``, not ``Types.INT``.
    """

    @staticmethod
    def STRING() -> TypeInformation:  # noqa: N802 - PyFlink's names throughout
        """A ``str``; may be None."""
        return BasicTypeInfo(BasicType.STRING)

    @staticmethod
    def BYTE() -> TypeInformation:  # noqa: N802
        """An ``int`` in Java's byte range; not None."""
        return BasicTypeInfo(BasicType.BYTE)

    @staticmethod
    def BOOLEAN() -> TypeInformation:  # noqa: N802
        """A ``bool``; not None."""
        return BasicTypeInfo(BasicType.BOOLEAN)

    @staticmethod
    def SHORT() -> TypeInformation:  # noqa: N802
        """An ``int`` in Java's short range; not None."""
        return BasicTypeInfo(BasicType.SHORT)

    @staticmethod
    def INT() -> TypeInformation:  # noqa: N802
        """An ``int`` in Java's int range; not None."""
        return BasicTypeInfo(BasicType.INT)

    @staticmethod
    def LONG() -> TypeInformation:  # noqa: N802
        """An ``int`` in Java's long range; not None."""
        return BasicTypeInfo(BasicType.LONG)

    @staticmethod
    def FLOAT() -> TypeInformation:  # noqa: N802
        """A ``float`` (an ``int`` is accepted); not None."""
        return BasicTypeInfo(BasicType.FLOAT)

    @staticmethod
    def DOUBLE() -> TypeInformation:  # noqa: N802
        """A ``float`` (an ``int`` is accepted); not None."""
        return BasicTypeInfo(BasicType.DOUBLE)

    @staticmethod
    def CHAR() -> TypeInformation:  # noqa: N802
        """A one-character ``str``; not None."""
        return BasicTypeInfo(BasicType.CHAR)

    @staticmethod
    def BIG_INT() -> TypeInformation:  # noqa: N802
        """An ``int`` of any size; may be None."""
        return BasicTypeInfo(BasicType.BIG_INT)

    @staticmethod
    def BIG_DEC() -> TypeInformation:  # noqa: N802
        """A ``decimal.Decimal``; may be None."""
        return BasicTypeInfo(BasicType.BIG_DEC)

    @staticmethod
    def INSTANT() -> TypeInformation:  # noqa: N802
        """A point in time; may be None."""
        return BasicTypeInfo(BasicType.INSTANT)

    @staticmethod
    def SQL_DATE() -> TypeInformation:  # noqa: N802
        """A ``datetime.date``; may be None."""
        return DateTypeInfo()

    @staticmethod
    def SQL_TIME() -> TypeInformation:  # noqa: N802
        """A ``datetime.time``; may be None."""
        return TimeTypeInfo()

    @staticmethod
    def SQL_TIMESTAMP() -> TypeInformation:  # noqa: N802
        """A ``datetime.datetime``; may be None."""
        return TimestampTypeInfo()

    @staticmethod
    def LOCAL_DATE() -> TypeInformation:  # noqa: N802
        """A ``datetime.date`` without time zone; may be None."""
        return LocalTimeTypeInfo(_TimeType.LOCAL_DATE)

    @staticmethod
    def LOCAL_TIME() -> TypeInformation:  # noqa: N802
        """A ``datetime.time`` without time zone; may be None."""
        return LocalTimeTypeInfo(_TimeType.LOCAL_TIME)

    @staticmethod
    def LOCAL_DATE_TIME() -> TypeInformation:  # noqa: N802
        """A ``datetime.datetime`` without time zone; may be None."""
        return LocalTimeTypeInfo(_TimeType.LOCAL_DATE_TIME)

    @staticmethod
    def PICKLED_BYTE_ARRAY() -> TypeInformation:  # noqa: N802
        """Any picklable object: what a stream carries when no type is given."""
        return PickledBytesTypeInfo()

    @staticmethod
    def ROW(field_types: Sequence[TypeInformation]) -> RowTypeInfo:  # noqa: N802
        """A row of the given field types, named ``f0, f1, ...``."""
        return RowTypeInfo(field_types)

    @staticmethod
    def ROW_NAMED(  # noqa: N802
        field_names: Sequence[str], field_types: Sequence[TypeInformation]
    ) -> RowTypeInfo:
        """A row with one name per field type.

        Raises:
            ValueError: if the counts differ or a name repeats.
            TypeError: if a name is not a ``str`` or a type not a TypeInformation.
        """
        return RowTypeInfo(field_types, field_names)

    @staticmethod
    def TUPLE(field_types: Sequence[TypeInformation]) -> TupleTypeInfo:  # noqa: N802
        """A tuple of the given field types; fields must not be None."""
        return TupleTypeInfo(field_types)

    @staticmethod
    def PRIMITIVE_ARRAY(element_type: TypeInformation) -> TypeInformation:  # noqa: N802
        """An array of a primitive type (``bytes`` for ``Types.BYTE()``)."""
        return PrimitiveArrayTypeInfo(element_type)

    @staticmethod
    def BASIC_ARRAY(element_type: TypeInformation) -> TypeInformation:  # noqa: N802
        """An array of a boxed basic type or ``STRING``; elements may be None."""
        return BasicArrayTypeInfo(element_type)

    @staticmethod
    def OBJECT_ARRAY(element_type: TypeInformation) -> TypeInformation:  # noqa: N802
        """An array of any type; elements may be None."""
        return ObjectArrayTypeInfo(element_type)

    @staticmethod
    def MAP(  # noqa: N802
        key_type_info: TypeInformation, value_type_info: TypeInformation
    ) -> TypeInformation:
        """A ``dict``, as used by ``MapStateDescriptor``."""
        return MapTypeInfo(key_type_info, value_type_info)

    @staticmethod
    def LIST(element_type_info: TypeInformation) -> TypeInformation:  # noqa: N802
        """A ``list``, as used by ``ListStateDescriptor``."""
        return ListTypeInfo(element_type_info)
