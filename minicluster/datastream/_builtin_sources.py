"""Sources behind ``from_collection`` and ``read_text_file``."""

from __future__ import annotations

import os
from typing import Iterator


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

    Subtask i reads the byte range ``[size*i/p, size*(i+1)/p)``; a line belongs to the
    range in which it starts, so each line is read exactly once whatever the
    parallelism.
    """

    def __init__(self, path: str, encoding: str = "utf-8") -> None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"read_text_file: no such file: {path!r}")
        self.path = path
        self.encoding = encoding

    def create_batches(self, subtask_index: int, parallelism: int, batch_size: int) -> Iterator[list[str]]:
        size = os.path.getsize(self.path)
        start = size * subtask_index // parallelism
        end = size * (subtask_index + 1) // parallelism
        encoding = self.encoding
        with open(self.path, "rb") as file:
            if start > 0:
                file.seek(start - 1)
                if file.read(1) != b"\n":
                    file.readline()  # the line that started before our range is not ours
            batch: list[str] = []
            position = file.tell()
            while position < end:
                raw = file.readline()
                if not raw:
                    break
                position += len(raw)
                batch.append(raw.decode(encoding).rstrip("\r\n"))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch
