"""The field aggregations of ``KeyedStream``: sum, min, max, min_by, max_by.

Each is a reduce function ``(accumulator, value) -> accumulator`` with PyFlink's
semantics: ``sum``/``min``/``max`` update one field and keep the other fields of the
first record seen for the key; ``min_by``/``max_by`` keep the whole record holding the
extreme value (the earlier one on ties). A position is an index into a tuple, ``Row``
or list, or a field name of a ``Row``; a plain number aggregates itself.
"""

from __future__ import annotations

import operator
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
