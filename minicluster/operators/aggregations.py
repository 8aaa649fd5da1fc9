"""The field aggregations of ``KeyedStream``: sum, min, max, min_by, max_by.

Each is a reduce function ``(accumulator, value) -> accumulator`` with PyFlink's
semantics: ``sum``/``min``/``max`` update one field and keep the other fields of the
first record seen for the key; ``min_by``/``max_by`` keep the whole record holding the
extreme value (the earlier one on ties). A position is an index into a tuple, ``Row``
or list, or a field name of a ``Row``; a plain number aggregates itself.
"""

from __future__ import annotations

import operator
from collections import _count_elements  # Counter's C counting loop
from itertools import islice
from typing import Any, Callable

_COMBINE: dict[str, Callable[[Any, Any], Any]] = {
    "sum": operator.add,
    "min": min,
    "max": max,
}


def _field_index(position: int | str, sample: Any, aggregation: str) -> int:
    if isinstance(position, int):
        if isinstance(sample, (tuple, list)) and not -len(sample) <= position < len(sample):
            raise IndexError(
                f"{aggregation}({position}): position out of range for a record of "
                f"{len(sample)} fields: {sample!r}"
            )
        return position
    names = None
    get_names = getattr(sample, "_fields", None)
    if get_names is not None:
        names = list(get_names)
    if not names or position not in names:
        raise KeyError(
            f"{aggregation}({position!r}): the record has no field named {position!r} "
            f"(fields: {names}); use a position, or a Row with named fields: {sample!r}"
        )
    return names.index(position)


def _replace(record: Any, index: int, value: Any) -> Any:
    if isinstance(record, list):
        copy = list(record)
        copy[index] = value
        return copy
    replace_at = getattr(record, "_replace_at", None)
    if replace_at is not None:
        return replace_at(index, value)
    if len(record) == 2:  # the common (key, value) case, without slicing
        return (value, record[1]) if index == 0 else (record[0], value)
    return record[:index] + (value,) + record[index + 1 :]


class FieldAggregation:
    """A picklable reduce function for one field aggregation."""

    def __init__(self, aggregation: str, position: int | str) -> None:
        if aggregation not in ("sum", "min", "max", "min_by", "max_by"):
            raise ValueError(f"unknown aggregation {aggregation!r}")
        if not isinstance(position, (int, str)) or isinstance(position, bool):
            raise TypeError(
                f"{aggregation}() takes a field position (int) or a Row field name (str), "
                f"got {position!r}"
            )
        self.aggregation = aggregation
        self.position = position
        self.specialized: Callable[[Any, Any], Any] | None = None

    def __call__(self, accumulator: Any, value: Any) -> Any:
        """Reduce; the first call picks the implementation for the record's shape."""
        reduce = self.specialized
        if reduce is None:
            reduce = self.specialized = self._build(accumulator)
        return reduce(accumulator, value)

    def __getstate__(self) -> dict:
        return {"aggregation": self.aggregation, "position": self.position, "specialized": None}

    def _build(self, sample: Any) -> Callable[[Any, Any], Any]:
        aggregation = self.aggregation
        if not isinstance(sample, (tuple, list)):  # a plain value aggregates itself
            if aggregation == "min_by":
                return lambda a, b: b if b < a else a
            if aggregation == "max_by":
                return lambda a, b: b if b > a else a
            return _COMBINE[aggregation]
        i = _field_index(self.position, sample, aggregation)
        if aggregation == "min_by":
            return lambda a, b: b if b[i] < a[i] else a
        if aggregation == "max_by":
            return lambda a, b: b if b[i] > a[i] else a
        combine = _COMBINE[aggregation]
        if aggregation == "sum" and type(sample) is tuple and len(sample) == 2:
            if i in (1, -1):
                return lambda a, b: (a[0], a[1] + b[1])
            return lambda a, b: (a[0] + b[0], a[1])
        return lambda a, b: _replace(a, i, combine(a[i], b[i]))

    def folder(self) -> FieldFolder | None:
        """A :class:`FieldFolder` for ``sum``/``min``/``max`` (None for ``min_by`` and
        ``max_by``, which keep whole records: the plain reduce already does that)."""
        if self.aggregation in ("min_by", "max_by"):
            return None
        return FieldFolder(self.aggregation, self.position)


class FieldFolder:
    """``sum``/``min``/``max`` over batches of keyed records, one plain value per key.

    Folding ``reduce(accumulator, record)`` record by record builds a new tuple per
    record; this keeps, per key, the first record and the running value of the field,
    and builds the result record once, in :meth:`items`. The results equal the
    record-by-record fold: ``sum`` adds in arrival order (``a + b``, so floats round
    alike), ``min``/``max`` keep the earlier value on ties as the builtins do, and the
    other fields are the first record's.

    A ``sum`` batch whose field is the same ``int`` in every record (the count
    pattern, ``(word, 1)``) is tallied per key in C (``collections.Counter``'s
    counting) and multiplied out at the end: exact, because integer addition does
    not depend on order. This holds only while every value folded so far is an
    ``int``; the first other batch turns the tallies into running values and the
    fold stays record by record until :meth:`clear`.
    """

    __slots__ = ("aggregation", "position", "_getter", "_index", "_firsts", "_values",
                 "_tallies", "_counting")

    def __init__(self, aggregation: str, position: int | str) -> None:
        if aggregation not in ("sum", "min", "max"):
            raise ValueError(f"a FieldFolder folds sum, min or max, not {aggregation!r}")
        self.aggregation = aggregation
        self.position = position
        self._getter: Callable[[Any], Any] | None = None  # field of a record, from the first
        self._index = 0  # the field's position in a tuple record, from the first
        self.clear()

    def clear(self) -> None:
        """Forget every key (after the results were written out)."""
        self._firsts: dict = {}  # key -> the key's first record
        self._values: dict = {}  # key -> running field value (record-by-record part)
        self._tallies: dict = {}  # int -> {key: how many records had that field value}
        self._counting = self.aggregation == "sum"

    def __len__(self) -> int:
        return len(self._firsts)

    def fold(self, keys: list, records: list) -> None:
        """Fold ``records`` (with their ``keys``, same length) into the per-key values."""
        if not records:
            return
        getter = self._getter
        if getter is None:
            getter = self._getter = self._build_getter(records[0])
        fields = records if getter is _identity else list(map(getter, records))
        firsts = self._firsts
        if self._counting:
            unit = fields[0]
            if (
                type(unit) is int
                and fields.count(unit) == len(fields)
                and set(map(type, fields)) == _INT_ONLY  # 1 == 1.0 == True: equal is not enough
            ):
                tally = self._tallies.get(unit)
                if tally is None:
                    tally = self._tallies[unit] = {}
                before = len(tally)
                _count_elements(tally, keys)
                if len(tally) > before:  # keys new to this tally sit at its end
                    new = list(islice(reversed(tally), len(tally) - before))
                    new.reverse()
                    self._add_firsts(new, keys, records)
                return
            self._stop_counting()
        values = self._values
        get = values.get
        missing = _MISSING
        aggregation = self.aggregation
        if aggregation == "sum":
            for key, field, record in zip(keys, fields, records):
                value = get(key, missing)
                if value is missing:
                    firsts[key] = record
                    values[key] = field
                else:
                    values[key] = value + field
        elif aggregation == "min":
            for key, field, record in zip(keys, fields, records):
                value = get(key, missing)
                if value is missing:
                    firsts[key] = record
                    values[key] = field
                elif field < value:  # min(a, b) keeps a unless b < a
                    values[key] = field
        else:
            for key, field, record in zip(keys, fields, records):
                value = get(key, missing)
                if value is missing:
                    firsts[key] = record
                    values[key] = field
                elif field > value:  # max(a, b) keeps a unless b > a
                    values[key] = field

    def _add_firsts(self, new_keys: list, keys: list, records: list) -> None:
        """Remember the first record of each of ``new_keys`` not seen before.

        ``new_keys`` are in the order in which they first occur in ``keys`` (the keys
        a tally gained from this batch are), so each one's first position lies after
        the previous one's: ``list.index`` from there finds it, and all of them
        together scan the batch once, in C (a dict of the whole batch cost a tuple
        per record whenever a batch brought one new key)."""
        firsts = self._firsts
        position = 0
        for key in new_keys:
            if key not in firsts:
                position = keys.index(key, position)
                firsts[key] = records[position]

    def items(self) -> list[tuple[Any, Any]]:
        """``(key, result record)`` of every key, in first-seen order."""
        self._stop_counting()
        values, getter = self._values, self._getter
        if getter is _identity:
            return list(values.items())
        index = self._index
        out = []
        for key, first in self._firsts.items():
            value = values[key]
            out.append((key, first if getter(first) is value else _replace(first, index, value)))
        return out

    def _stop_counting(self) -> None:
        """Turn the int tallies into running values (all ints so far: order is free)."""
        self._counting = False
        if not self._tallies:
            return
        values = self._values
        get = values.get
        for unit, tally in self._tallies.items():
            for key, count in tally.items():
                value = get(key, _MISSING)
                values[key] = unit * count if value is _MISSING else value + unit * count
        self._tallies = {}

    def _build_getter(self, sample: Any) -> Callable[[Any], Any]:
        if not isinstance(sample, (tuple, list)):  # a plain value aggregates itself
            return _identity
        self._index = _field_index(self.position, sample, self.aggregation)
        return operator.itemgetter(self._index)


def _identity(value: Any) -> Any:
    return value


_MISSING = object()
_INT_ONLY = {int}
