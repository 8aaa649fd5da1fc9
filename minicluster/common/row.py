"""``Row`` and ``RowKind``: the record type of PyFlink, as an immutable tuple.

PyFlink's ``Row`` is a list-backed object; ours is a ``tuple`` subclass because the
engine hashes records to route them to key groups and keeps them as keys of keyed
state. A tuple gives that for free: ``Row(1, 'a') == (1, 'a')`` and both hash alike,
whatever the row's field names or kind, so ``key_by(lambda r: r)`` and
``key_by(lambda r: tuple(r))`` put a record on the same subtask.

Where a row keeps its field names and kind:
    An instance holds only its values. Names and kind live on a small per-schema
    subclass of ``Row``, created once per ``(names, kind)`` and cached, the way
    ``collections.namedtuple`` keeps ``_fields`` on the class. A named row costs
    what a plain tuple costs (no per-row ``__dict__``), its fields are C-speed
    properties, and an unnamed ``INSERT`` row is an instance of ``Row`` itself.
    ``set_field_names``/``set_row_kind`` move the row to another cached subclass.
    So use ``isinstance(x, Row)``, not ``type(x) is Row``.

Differences from PyFlink, each on purpose:
    * Keyword fields keep keyword order (``Row(name='a', age=1)[0] == 'a'``);
      PyFlink sorts them by name. Keyword order is what a ``Types.ROW_NAMED``
      output type listing the same names yields in PyFlink after serialization.
    * ``row[i] = v`` raises ``TypeError``: rows are shared, uncopied, between
      chained operators and may be keys in state, so mutating one in place would
      corrupt others. Build a new row with ``row._replace_at(i, v)``.
    * Equality and hashing are the tuple's: kind and names do not take part.
    * Calling a row "class" (``Person = Row('name', 'age')``) needs exactly one
      value per field; PyFlink silently accepts fewer.
"""

from __future__ import annotations

from enum import Enum
from operator import itemgetter
from typing import Any, Iterable, Sequence

try:  # The C accessor namedtuple uses: reads the slot, bypassing __getitem__.
    from _collections import _tuplegetter
except ImportError:  # pragma: no cover - non-CPython

    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)

__all__ = ["Row", "RowKind"]


class RowKind(Enum):
    """The kind of change a row describes in a changelog, as Flink's ``RowKind``."""

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3


# Reading an Enum member off its class, or hashing it, runs Python code; rows are
# built per record, so the hot paths use this constant and int-indexed caches.
_INSERT = RowKind.INSERT

# Per-schema classes, one dict per kind keyed by field names. Bounded so that rows
# built from ever-changing keyword sets (``Row(**json)``) cannot grow memory without
# limit; clearing a dict only costs re-creating classes.
_MAX_CACHED_CLASSES = 4096
_classes: list[dict[tuple[str, ...] | None, type[Row]]] = [{} for _ in RowKind]
_insert_classes = _classes[_INSERT.value]


class Row(tuple):
    """A record whose fields are read by position, by name, or as attributes.

    Examples:
        >>> row = Row(name='Alice', age=11)
        >>> row
        Row(name='Alice', age=11)
        >>> row.name, row['age'], row[0]
        ('Alice', 11, 'Alice')
        >>> Row(1, 'a')
        <Row(1, 'a')>
        >>> Person = Row('name', 'age')
        >>> Person('Bob', 3)
        Row(name='Bob', age=3)

    A field named like a tuple method (``count``, ``index``) is read as the field,
    as in PyFlink, whose ``Row`` has no such methods. Row's own methods
    (``as_dict``, ...) win over fields of the same name, as in PyFlink.
    """

    __slots__ = ()

    # Overridden on the cached per-schema subclasses (see module docstring).
    _names: tuple[str, ...] | None = None
    _index: dict[str, int] | None = None
    _kind: RowKind = _INSERT

    def __new__(cls, *args: Any, **kwargs: Any) -> Row:
        """Builds a row from positional values or from keyword fields.

        Raises:
            ValueError: if both positional and keyword arguments are given, or
                ``cls`` is a named row class and the value count differs.
        """
        if kwargs:
            if args:
                raise ValueError(
                    f"Row() takes positional values or keyword fields, not both; got "
                    f"{args!r} and {kwargs!r}"
                )
            names = tuple(kwargs)
            named = _insert_classes.get(names) or _row_class(names, _INSERT)
            return tuple.__new__(named, kwargs.values())
        names = cls._names
        if names is not None and len(args) != len(names):
            raise ValueError(f"Row with fields {names} needs {len(names)} values, got {args!r}")
        return tuple.__new__(cls, args)

    def __call__(self, *args: Any) -> Row:
        """Uses this row's values as field names and builds a named row from ``args``.

        Raises:
            TypeError: if this row's values are not all strings.
            ValueError: if a field name repeats, or ``len(args)`` differs from the
                number of field names.
        """
        if not all(isinstance(name, str) for name in self):
            raise TypeError(
                f"only a row of field names (all str) can build rows; {self!r} is not "
                f"one. Did you mean Row('name', 'age')('Alice', 11)?"
            )
        names = _check_names(self, len(self))
        if len(args) != len(names):
            raise ValueError(
                f"Row with fields {names} needs {len(names)} values, got "
                f"{len(args)}: {args!r}"
            )
        return tuple.__new__(_row_class(names, self._kind), args)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: named fields are properties.
        if name.startswith("_"):
            raise AttributeError(name)
        if self._names is None:
            raise AttributeError(
                f"Row has no field names, so it has no field {name!r}; read it by "
                f"position or name its fields (Row(name=...) or set_field_names())"
            )
        raise AttributeError(f"Row has no field {name!r}; its fields are {self._names}")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            f"Row is immutable in minicluster (it can be a state key and is shared "
            f"between chained operators); cannot set [{key!r}] = {value!r}. Build a "
            f"new row instead: row._replace_at(index, value) or Row(*values)"
        )

    def __contains__(self, item: object) -> bool:
        # PyFlink (FLINK-35112): a named row answers for its field names.
        if self._names is not None:
            return item in self._names
        return tuple.__contains__(self, item)

    def __repr__(self) -> str:
        # PyFlink's spelling: a row without names prints in angle brackets.
        if self._names is None:
            return f"<Row({', '.join(map(repr, self))})>"
        fields = (f"{name}={value!r}" for name, value in zip(self._names, self))
        return f"Row({', '.join(fields)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The per-schema subclasses cannot be imported by name, so pickle rebuilds
        # the row from names, values and kind (the kind as its small int value).
        if self._names is None and self._kind is _INSERT:
            return Row, tuple(self)
        return _make_row, (self._names, tuple(self), self._kind.value)

    def as_dict(self, recursive: bool = False) -> dict[str, Any]:
        """Returns the fields as a ``{name: value}`` dict.

        Args:
            recursive: also convert named rows nested in fields, lists and dicts.
                Nested rows without names are left as they are.

        Raises:
            TypeError: if this row has no field names.
        """
        if self._names is None:
            raise TypeError(
                f"{self!r} has no field names, so it cannot become a dict; name its "
                f"fields with Row(name=...) or set_field_names()"
            )
        if recursive:
            return {name: _to_plain(value) for name, value in zip(self._names, self)}
        return dict(zip(self._names, self))

    def get_row_kind(self) -> RowKind:
        """Returns the kind of change this row describes (``INSERT`` by default)."""
        return self._kind

    def set_row_kind(self, row_kind: RowKind) -> None:
        """Sets the row kind in place, as PyFlink does.

        Like ``set_field_names``, this changes the row object itself, so every
        holder of it sees the change; values never change in place.

        Raises:
            TypeError: if ``row_kind`` is not a ``RowKind``.
        """
        if not isinstance(row_kind, RowKind):
            raise TypeError(f"row kind must be a RowKind, got {row_kind!r}")
        self.__class__ = _row_class(self._names, row_kind)

    def set_field_names(self, field_names: Sequence[str]) -> None:
        """Names the fields in place, one unique ``str`` per value.

        Raises:
            TypeError: if a name is not a ``str``.
            ValueError: if the count differs from the number of values, or a name
                repeats.
        """
        names = _check_names(field_names, len(self))
        self.__class__ = _row_class(names, self._kind)

    def _replace_at(self, index: int, value: Any) -> Row:
        """Returns a copy with the field at ``index`` replaced; names and kind kept.

        The fast path for operators that update one field of a running aggregate.
        Underscore-prefixed, like ``namedtuple._replace``, so no field name can
        hide it.

        Raises:
            IndexError: if ``index`` is out of range.
        """
        values = list(self)
        values[index] = value
        return tuple.__new__(self.__class__, values)


def _check_names(field_names: Iterable[str], arity: int) -> tuple[str, ...]:
    names = tuple(field_names)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"field names must be str, got {name!r} in {names}")
    if len(names) != arity:
        raise ValueError(f"{len(names)} field names {names} for a row of {arity} values")
    if len(set(names)) != len(names):
        raise ValueError(f"field names must be unique, got {names}")
    return names


def _named_getitem(self: Row, item: Any) -> Any:
    if item.__class__ is str:
        try:
            return tuple.__getitem__(self, self._index[item])
        except KeyError:
            raise KeyError(
                f"Row has no field {item!r}; its fields are {self._names}"
            ) from None
    return tuple.__getitem__(self, item)


def _row_class(names: tuple[str, ...] | None, kind: RowKind) -> type[Row]:
    """Returns the cached ``Row`` subclass carrying ``names`` and ``kind``."""
    if names is None and kind is _INSERT:
        return Row
    classes = _classes[kind._value_]
    cls = classes.get(names)
    if cls is None:
        if len(classes) >= _MAX_CACHED_CLASSES:
            classes.clear()
        namespace: dict[str, Any] = {
            "__slots__": (),
            "__module__": __name__,
            "__qualname__": "Row",
            "_kind": kind,
        }
        if names is not None:
            namespace.update(
                _names=names,
                _fields=names,  # PyFlink code tests hasattr(row, '_fields').
                _index={name: i for i, name in enumerate(names)},
                __getitem__=_named_getitem,
            )
            for i, name in enumerate(names):
                if not name.startswith("_") and name not in Row.__dict__:
                    namespace[name] = _tuplegetter(i, f"Field {i} of the row.")
        cls = classes[names] = type("Row", (Row,), namespace)
    return cls


def _make_row(
    names: tuple[str, ...] | None, values: tuple[Any, ...], kind: int | RowKind
) -> Row:
    """Rebuilds a row from its parts; the target of ``Row.__reduce__``."""
    return tuple.__new__(_row_class(names, RowKind(kind)), values)


def _to_plain(value: Any) -> Any:
    if isinstance(value, Row) and value._names is not None:
        return value.as_dict(recursive=True)
    if isinstance(value, list):
        return [_to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_plain(item) for key, item in value.items()}
    return value
