"""The container type descriptors: arrays, ``LIST``, ``MAP``, ``TUPLE`` and ``ROW``.

Their ``is_instance`` checks every element, so it costs O(size of the value).
"""

from __future__ import annotations

from typing import Any, Sequence

from minicluster.common._leaf_types import BasicType, BasicTypeInfo, TypeInformation
from minicluster.common.row import Row

__all__ = [
    "BasicArrayTypeInfo",
    "ListTypeInfo",
    "MapTypeInfo",
    "ObjectArrayTypeInfo",
    "PrimitiveArrayTypeInfo",
    "RowTypeInfo",
    "TupleTypeInfo",
]


class _ElementTypeInfo(TypeInformation):
    """A container of one element type; subclasses say what holds the elements."""

    __slots__ = ("_element_type",)
    _containers: tuple[type, ...] = (list, tuple)
    _null_elements = True

    def __init__(self, element_type: TypeInformation) -> None:
        if not isinstance(element_type, TypeInformation):
            raise TypeError(
                f"{type(self).__name__} needs a TypeInformation element type, got "
                f"{element_type!r}; use e.g. Types.INT()"
            )
        self._element_type = element_type

    def is_instance(self, value: Any) -> bool:
        if not isinstance(value, self._containers):
            return False
        check, null_ok = self._element_type.is_instance, self._null_elements
        return all((null_ok and item is None) or check(item) for item in value)

    def _key(self) -> tuple[Any, ...]:
        return (self._element_type,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self._element_type!r}>"


_PRIMITIVES = ("BOOLEAN", "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "CHAR")


class PrimitiveArrayTypeInfo(_ElementTypeInfo):
    """Arrays of a primitive type (Java ``int[]``); ``bytes`` for ``BYTE``."""

    __slots__ = ()
    _null_elements = False

    def __init__(self, element_type: TypeInformation) -> None:
        super().__init__(element_type)
        _require_basic(self, element_type, _PRIMITIVES)

    def is_instance(self, value: Any) -> bool:
        if isinstance(value, (bytes, bytearray)):
            return self._element_type == BasicTypeInfo(BasicType.BYTE)
        return super().is_instance(value)


class BasicArrayTypeInfo(_ElementTypeInfo):
    """Arrays of a boxed basic type (Java ``Integer[]``); elements may be None."""

    __slots__ = ()

    def __init__(self, element_type: TypeInformation) -> None:
        super().__init__(element_type)
        _require_basic(self, element_type, _PRIMITIVES + ("STRING",))


class ObjectArrayTypeInfo(_ElementTypeInfo):
    """Arrays of any type; elements may be None."""

    __slots__ = ()


class ListTypeInfo(_ElementTypeInfo):
    """A Python ``list`` of one element type."""

    __slots__ = ()
    _containers = (list,)
    _null_elements = False


def _require_basic(
    info: TypeInformation, element: TypeInformation, allowed: Sequence[str]
) -> None:
    if not (isinstance(element, BasicTypeInfo) and element._basic_type.name in allowed):
        raise TypeError(
            f"{type(info).__name__} elements must be one of "
            f"{', '.join(f'Types.{name}()' for name in allowed)}; got {element!r}"
        )


class MapTypeInfo(TypeInformation):
    """A Python ``dict``; keys must not be None, values may be."""

    __slots__ = ("_key_type_info", "_value_type_info")

    def __init__(
        self, key_type_info: TypeInformation, value_type_info: TypeInformation
    ) -> None:
        _require_types("MapTypeInfo", [key_type_info, value_type_info])
        self._key_type_info = key_type_info
        self._value_type_info = value_type_info

    def is_instance(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        key_ok = self._key_type_info.is_instance
        value_ok = self._value_type_info.is_instance
        return all(
            k is not None and key_ok(k) and (v is None or value_ok(v))
            for k, v in value.items()
        )

    def _key(self) -> tuple[Any, ...]:
        return (self._key_type_info, self._value_type_info)

    def __repr__(self) -> str:
        return f"MapTypeInfo<{self._key_type_info!r}, {self._value_type_info!r}>"


class TupleTypeInfo(TypeInformation):
    """A fixed-arity tuple (or list) whose fields must not be None (Flink tuples)."""

    __slots__ = ("_field_types",)

    def __init__(self, field_types: Sequence[TypeInformation]) -> None:
        self._field_types = _require_types(type(self).__name__, field_types)

    def get_field_types(self) -> list[TypeInformation]:
        """Returns the field types, in order."""
        return list(self._field_types)

    def is_instance(self, value: Any) -> bool:
        return (
            isinstance(value, (tuple, list))
            and len(value) == len(self._field_types)
            and all(t.is_instance(v) for t, v in zip(self._field_types, value))
        )

    def _key(self) -> tuple[Any, ...]:
        return self._field_types

    def __repr__(self) -> str:
        return f"TupleTypeInfo({', '.join(map(repr, self._field_types))})"


class RowTypeInfo(TypeInformation):
    """A ``Row`` (or tuple, list, dict) whose fields may be None.

    Unnamed rows have Flink's default names ``f0, f1, ...``; two row types are equal
    when their field types and names are (as Java's ``RowTypeInfo.equals``).
    """

    __slots__ = ("_field_types", "_field_names")

    def __init__(
        self, field_types: Sequence[TypeInformation], field_names: Sequence[str] | None = None
    ) -> None:
        self._field_types = _require_types(type(self).__name__, field_types)
        self._field_names: tuple[str, ...] | None = None
        if field_names is not None:
            names = tuple(field_names)
            if len(names) != len(self._field_types):
                raise ValueError(
                    f"ROW_NAMED got {len(names)} names {list(names)} but "
                    f"{len(self._field_types)} types {list(self._field_types)}; "
                    f"give one type per name"
                )
            if not all(isinstance(name, str) for name in names):
                raise TypeError(f"row field names must be str, got {list(names)}")
            if len(set(names)) != len(names):
                raise ValueError(f"row field names must be unique, got {list(names)}")
            self._field_names = names

    def get_field_names(self) -> list[str]:
        """Returns the field names, ``['f0', 'f1', ...]`` when none were given."""
        if self._field_names is None:
            return [f"f{i}" for i in range(len(self._field_types))]
        return list(self._field_names)

    def get_field_index(self, field_name: str) -> int:
        """Returns the position of ``field_name``, or -1 (as PyFlink) if absent."""
        names = self.get_field_names()
        return names.index(field_name) if field_name in names else -1

    def get_field_types(self) -> list[TypeInformation]:
        """Returns the field types, in order."""
        return list(self._field_types)

    def is_instance(self, value: Any) -> bool:
        names = self._field_names
        if names is not None and isinstance(value, dict):
            values: Sequence[Any] = [value.get(name) for name in names]
        elif names is not None and isinstance(value, Row) and value._names is not None:
            # A named Row is matched by name, as PyFlink serializes it.
            if not set(names) <= set(value._names):
                return False
            values = [value[name] for name in names]
        elif isinstance(value, (tuple, list)) and len(value) == len(self._field_types):
            values = value
        else:
            return False
        return all(v is None or t.is_instance(v) for t, v in zip(self._field_types, values))

    def _key(self) -> tuple[Any, ...]:
        return self._field_types, tuple(self.get_field_names())

    def __repr__(self) -> str:
        if self._field_names is None:
            return f"RowTypeInfo({', '.join(map(repr, self._field_types))})"
        fields = (f"{n}: {t!r}" for n, t in zip(self._field_names, self._field_types))
        return f"RowTypeInfo({', '.join(fields)})"


def _require_types(owner: str, types: Sequence[Any]) -> tuple[TypeInformation, ...]:
    checked = tuple(types)
    for t in checked:
        if not isinstance(t, TypeInformation):
            hint = "; call the factory: Types.INT(), not Types.INT" if callable(t) else ""
            raise TypeError(
                f"{owner} needs TypeInformation values such as Types.INT(), got {t!r}{hint}"
            )
    return checked
