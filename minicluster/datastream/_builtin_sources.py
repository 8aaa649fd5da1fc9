"""Sources behind ``from_collection`` and ``read_text_file``, and the line reader that
``read_text_file`` and ``FileSource`` share."""

from __future__ import annotations

import os
from typing import Iterable, Iterator

_CHUNK_BYTES = 1 << 20


class CollectionSource:
    """The elements of a collection, in order (non-parallel, as in Flink)."""

    def __init__(self, elements: list) -> None:
        self.elements = elements

    def create_batches(self, subtask_index: int, parallelism: int, batch_size: int) -> Iterator[list]:
        elements = self.elements
        for low in range(0, len(elements), batch_size):
            yield elements[low : low + batch_size]


class TextFileSource:
    """The lines of a text file, without line terminators, read in parallel.

    Subtask i reads the byte range ``[size*i/p, size*(i+1)/p)`` with ``read_lines``, so
    each line is read exactly once whatever the parallelism. (``FileSource`` cuts
    files into byte-range splits that are handed out on demand instead; it reads each
    split with the same ``read_lines``.)
    """

    def __init__(self, path: str, encoding: str = "utf-8") -> None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"read_text_file: no such file: {path!r}")
        self.path = path
        self.encoding = encoding

    def input_bytes(self) -> int:
        """The file's size: where a BATCH job spills is chosen by it."""
        return os.path.getsize(self.path)

    def create_batches(self, subtask_index: int, parallelism: int, batch_size: int) -> Iterator[list[str]]:
        size = os.path.getsize(self.path)
        start = size * subtask_index // parallelism
        end = size * (subtask_index + 1) // parallelism
        return LineBatches(self.path, start, end, self.encoding, batch_size)


def in_batches(blocks: Iterable[list], batch_size: int) -> Iterator[list]:
    """Re-cut lists of any length into lists of ``batch_size`` (the last one shorter)."""
    pending: list = []
    for block in blocks:
        pending.extend(block)
        if len(pending) < batch_size:
            continue
        full = len(pending) - len(pending) % batch_size
        for low in range(0, full, batch_size):
            yield pending[low : low + batch_size]
        pending = pending[full:]
    if pending:
        yield pending


class LineBatches:
    """``in_batches(read_lines(path, start, end, encoding), batch_size)`` that also
    knows where its latest batch starts in the file, so that a failing record can be
    named by its line (``operators/provenance.py``).

    Per batch it keeps the byte offset of a line and how many lines after it the
    batch starts (one tuple per batch, nothing per line); the line *number* is
    counted only when asked (``locate``), on the failure path: the newlines before
    that offset, read 1 MiB at a time (~0.3 s per GiB of prefix).
    """

    __slots__ = ("path", "_batches", "_last", "_last_start")

    def __init__(self, path: str, start: int, end: int, encoding: str, batch_size: int) -> None:
        self.path = path
        self._batches = _line_batches(path, start, end, encoding, batch_size)
        self._last: list | None = None
        self._last_start = (0, 0)

    def __iter__(self) -> "LineBatches":
        return self

    def __next__(self) -> list[str]:
        batch, self._last_start = next(self._batches)
        self._last = batch
        return batch

    def locate(self, batch: list):
        """For the latest batch: a function ``index -> (path, 1-based line number)``
        (``index`` None: the batch's first line); None for any other list."""
        if batch is not self._last:
            return None
        path = self.path
        offset, skip = self._last_start

        def origin(index: int | None) -> tuple[str, int]:
            return path, count_lines_before(path, offset) + skip + 1 + (index or 0)

        return origin


def count_lines_before(path: str, offset: int) -> int:
    """The newlines in the first ``offset`` bytes of a file."""
    count = 0
    with open(path, "rb") as file:
        while offset > 0:
            chunk = file.read(min(offset, _CHUNK_BYTES))
            if not chunk:
                break
            count += chunk.count(b"\n")
            offset -= len(chunk)
    return count


def _line_batches(
    path: str, start: int, end: int, encoding: str, batch_size: int
) -> Iterator[tuple[list[str], tuple[int, int]]]:
    """``in_batches`` over ``_read_blocks``, each batch with ``(offset, skip)``: it
    starts ``skip`` lines after the line that starts at byte ``offset``."""
    pending: list = []
    offset = skip = 0
    for block_offset, block in _read_blocks(path, start, end, encoding):
        if not pending:
            offset, skip = block_offset, 0
        pending.extend(block)
        if len(pending) < batch_size:
            continue
        full = len(pending) - len(pending) % batch_size
        for low in range(0, full, batch_size):
            yield pending[low : low + batch_size], (offset, skip + low)
        pending = pending[full:]
        skip += full
    if pending:
        yield pending, (offset, skip)


def read_lines(path: str, start: int, end: int, encoding: str) -> Iterator[list[str]]:
    """The lines that start in the byte range ``[start, end)`` of a file, without
    their terminators (``\n``, or ``\r\n``), one list per chunk read.

    A line belongs to the range in which it starts, so ranges that tile a file read
    each of its lines exactly once. The range is read in 1 MiB chunks that are split
    and decoded whole (a chunk is cut at its last newline, so no line or UTF-8
    sequence is split); the encoding must write ``"\n"`` as the byte ``\n``.
    """
    for _, lines in _read_blocks(path, start, end, encoding):
        yield lines


def _read_blocks(path: str, start: int, end: int, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """``read_lines`` with the file offset at which each list's first line starts."""
    with open(path, "rb") as file:
        if start > 0:
            file.seek(start - 1)
            if file.read(1) != b"\n":
                file.readline()  # the line that started before our range is not ours
        position = file.tell()  # file offset of data[0], always a line start
        if position >= end:
            return  # our range lies inside a line that started before it
        data = b""
        while True:
            chunk = file.read(_CHUNK_BYTES)
            if not chunk:  # end of file: what is left is a last line without "\n"
                if data:
                    yield position, _decode(data, encoding)
                return
            data += chunk
            # Our last line is the one holding byte end-1: it ends at the first
            # newline at or after that byte.
            cut = data.find(b"\n", max(0, end - 1 - position))
            if cut >= 0:
                yield position, _decode(data[:cut], encoding)
                return
            last = data.rfind(b"\n")
            if last >= 0:  # every line before it starts before end-1: ours
                yield position, _decode(data[:last], encoding)
                position += last + 1
                data = data[last + 1 :]


def _decode(block: bytes, encoding: str) -> list[str]:
    lines = block.decode(encoding).split("\n")
    if b"\r" in block:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines
