"""Which input record a failing user function was processing, back to its file line.

Nothing here runs per record, nor per batch on the happy path: it all happens while an
exception travels up an operator chain.

1. The operator whose function raised notes on the exception the batch it was
   processing and the index of the failing record in it (``mark_failed_record``).
   Map, filter and sinks find the index for free: they iterate an explicit
   ``iter(values)``, and after the exception ``len(values) - it.__length_hint__() - 1``
   is the record that raised (the comprehension stays a comprehension).
2. As the exception climbs the chain (``ChainNode.push``), each operator translates
   the position from its output batch to its input batch (``trace_back``): map keeps
   positions; filter finds which input its j-th kept record was (by identity, and only
   when that is unambiguous); any other operator loses the position.
3. The source operator, when the position reaches it, asks its batch iterator where
   that batch came from: ``LineBatches`` (``read_text_file``, ``FileSource``) knows the
   file and where the batch's first line is, and counts the newlines before it only
   now (``bytes.count`` over the file's prefix, 1 MiB at a time: ~0.3 s per GiB).
4. The TaskManager appends ``record_suffix(error)`` to the failure message:
   ``[record from /data/orders.csv line 1207: '17,99']``.
"""

from __future__ import annotations

_BATCH = "_minicluster_batch"
_INDEX = "_minicluster_index"
_VALUE = "_minicluster_value"
#: ``(path, line_number or None, content or None, (first, last) line of the batch)``
RECORD = "_minicluster_record"

_MAX_CONTENT = 200


def _set(error: BaseException, name: str, value: object) -> None:
    try:
        setattr(error, name, value)
    except AttributeError:  # an exception type with __slots__: no provenance then
        pass


def mark_failed_record(error: BaseException, values: list, index: int) -> None:
    """``values[index]`` raised ``error`` (the innermost operator wins)."""
    if getattr(error, _BATCH, None) is not None or getattr(error, RECORD, None) is not None:
        return
    if 0 <= index < len(values):
        _set(error, _BATCH, values)
        _set(error, _INDEX, index)
        _set(error, _VALUE, values[index])


def failed_index(error: BaseException, batch: list) -> int | None:
    """The index in ``batch`` of the record that raised ``error``, if it is known."""
    if getattr(error, _BATCH, None) is batch:
        return getattr(error, _INDEX, None)
    return None


def trace_back(error: BaseException, operator: object, values: list) -> None:
    """``error`` escaped ``operator`` while it processed ``values``: if the failing
    record's position is known in the operator's output, move it to ``values``."""
    batch = getattr(error, _BATCH, None)
    if batch is None or batch is values:
        return
    index = None
    translate = getattr(operator, "input_index", None)
    if translate is not None:
        index = translate(values, batch, getattr(error, _INDEX))
    if index is None:
        _set(error, _BATCH, _LOST)  # the position is lost; the value stays known
    else:
        _set(error, _BATCH, values)
        _set(error, _INDEX, index)


_LOST: list = []


def kept_index(values: list, kept: list, j: int) -> int | None:
    """``kept`` is a subsequence of ``values`` (the same objects): which index of
    ``values`` is ``kept[j]``? None when identical objects make it ambiguous.

    Any embedding puts ``kept[j]`` between the greedy earliest and greedy latest
    positions; when they coincide, that is the answer."""
    if not 0 <= j < len(kept):
        return None
    earliest = -1
    position = 0
    for want in kept[: j + 1]:
        while position < len(values) and values[position] is not want:
            position += 1
        if position == len(values):
            return None
        earliest = position
        position += 1
    latest = -1
    position = len(values) - 1
    for want in reversed(kept[j:]):
        while position >= 0 and values[position] is not want:
            position -= 1
        if position < 0:
            return None
        latest = position
        position -= 1
    return earliest if earliest == latest else None


def attach_origin(error: BaseException, values: list, origin) -> None:
    """At the source: ``values`` is the batch read from a file; ``origin(index)``
    gives ``(path, line number)`` of ``values[index]`` and ``origin(None)`` the file
    and the batch's first line."""
    if getattr(error, RECORD, None) is not None or getattr(error, _BATCH, None) is None:
        return
    try:
        index = failed_index(error, values)
        if index is not None:
            path, line = origin(index)
            _set(error, RECORD, (path, line, values[index], None))
        else:
            path, first = origin(None)
            _set(error, RECORD, (path, None, None, (first, first + len(values) - 1)))
    except Exception:  # the file went away or changed: report what the error says
        return


def record_suffix(error: BaseException) -> str:
    """`` [record from PATH line N: 'content']`` or ``''``, for the failure message."""
    record = getattr(error, RECORD, None)
    if record is None:
        return ""
    path, line, content, lines = record
    if line is not None:
        return f" [record from {path} line {line}: {_short(content)}]"
    value = getattr(error, _VALUE, None)
    return (
        f" [record {_short(value)}, from {path} lines {lines[0]}-{lines[1]} (the line "
        "is unknown past a flat_map, an ambiguous filter or a partitioner)]"
    )


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} with a failing repr>"
    if len(text) > _MAX_CONTENT:
        text = text[: _MAX_CONTENT - 3] + "..."
    return text
