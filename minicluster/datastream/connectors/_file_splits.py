"""File splits and the split enumerators behind ``FileSource`` (Flink's
``FileSourceSplit``, ``StaticFileSplitEnumerator`` and ``ContinuousFileSplitEnumerator``).

    client (submit):  paths --list files--> files --cut by split size--> splits
    supervisor:       StaticFileSplitEnumerator hands them out in order, one per
                      RequestSplit, then None ("no more splits")
                      ContinuousFileSplitEnumerator (monitor_continuously): the same,
                      but "none yet" instead of "no more": every discovery interval
                      it lists the paths again and cuts the files it has not seen
    readers:          read the lines that start in their split's byte range

Listing follows Flink's default enumerator: directories are walked recursively (each
level in name order), and entries whose name starts with ``.`` or ``_`` are skipped
(hidden files, ``_SUCCESS`` markers, in-progress part files of a ``FileSink``). A path
the user names explicitly is read even if its own name starts with ``.`` or ``_``
(Flink would skip it silently, which only ever surprises).
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class FileSourceSplit:
    """The byte range ``[offset, offset + length)`` of one file.

    The lines that *start* in the range belong to the split, so the splits of a file
    together read each line exactly once.
    """

    split_id: str
    path: str
    offset: int
    length: int

    def __post_init__(self) -> None:
        if self.offset < 0 or self.length < 1:
            raise ValueError(
                f"FileSourceSplit {self.split_id}: offset must be >= 0 and length >= 1, "
                f"got offset={self.offset}, length={self.length}"
            )

    @property
    def end(self) -> int:
        return self.offset + self.length

    def __repr__(self) -> str:
        return f"FileSourceSplit({self.split_id}: {self.path} [{self.offset}, {self.end}))"


def list_files(paths: tuple[str, ...]) -> list[str]:
    """The files under ``paths``, in order: each path as given, directories walked
    recursively in name order, hidden entries (``.``/``_``) inside them skipped.

    Raises:
        FileNotFoundError: a path does not exist (named in the message).
    """
    files: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(f"FileSource: no such file or directory: {path!r}")
        if os.path.isdir(path):
            _walk(path, files, set())
        else:
            files.append(path)
    return files


def _walk(directory: str, files: list[str], seen: set[tuple[int, int]]) -> None:
    status = os.stat(directory)
    if (status.st_dev, status.st_ino) in seen:  # a symlink cycle
        return
    seen.add((status.st_dev, status.st_ino))
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir():
                _walk(entry.path, files, seen)
            elif entry.is_file():
                files.append(entry.path)


def create_splits(paths: tuple[str, ...], split_size: int) -> list[FileSourceSplit]:
    """Cut every file under ``paths`` into byte ranges of ``split_size``."""
    return cut_splits(list_files(paths), split_size, first_id=0)


def cut_splits(files: list[str], split_size: int, first_id: int) -> list[FileSourceSplit]:
    """Cut each file into byte ranges of ``split_size`` (the last one shorter): a
    non-empty file has at least one split, an empty file none. Split ids count up
    from ``first_id``."""
    splits: list[FileSourceSplit] = []
    for path in files:
        size = os.path.getsize(path)
        for offset in range(0, size, split_size):
            length = min(split_size, size - offset)
            splits.append(FileSourceSplit(str(first_id + len(splits)), path, offset, length))
    return splits


class StaticFileSplitEnumerator:
    """Hands a fixed list of splits out in order, one per request, to whichever
    reader asks; then answers None (no more splits), and the reader finishes.

    Lives in the supervisor for the whole job. ``assignments`` records who got what.
    """

    def __init__(self, splits: list[FileSourceSplit]) -> None:
        self._remaining = deque(splits)
        self.assignments: list[tuple[int, FileSourceSplit]] = []
        self._input_bytes = sum(split.length for split in splits)

    def next_split(self, subtask_index: int) -> FileSourceSplit | None:
        if not self._remaining:
            return None
        split = self._remaining.popleft()
        self.assignments.append((subtask_index, split))
        return split

    def add_splits_back(self, splits: list[FileSourceSplit], subtask_index: int) -> None:
        """Take back the splits of a reader that failed before it finished (Flink's
        ``SplitEnumerator.addSplitsBack``): they are handed out again, first."""
        self._remaining.extendleft(reversed(splits))

    def input_bytes(self) -> int:
        """The bytes of the files listed at submission (the spill folder's estimate)."""
        return self._input_bytes

    @property
    def remaining(self) -> int:
        return len(self._remaining)

    def __repr__(self) -> str:
        return (
            f"StaticFileSplitEnumerator({len(self.assignments)} assigned, "
            f"{len(self._remaining)} remaining)"
        )


class ContinuousFileSplitEnumerator(StaticFileSplitEnumerator):
    """``FileSource.monitor_continuously``: hands out the splits of the files present
    at submission, then, every ``discovery_interval_ms``, lists the paths again and
    adds the splits of every file it has not seen before (by path).

    ``next_split`` answers None when nothing is there *yet*; the ``SourceCoordinator``
    keeps that reader's request and answers it after a discovery finds a file. A file
    is read once, as it is when discovered: write files under a hidden name (``.`` or
    ``_`` first) or elsewhere and rename them into the watched folder when complete,
    as with Flink. A watched path that disappears is skipped until it comes back.
    """

    def __init__(
        self,
        paths: tuple[str, ...],
        split_size: int,
        discovery_interval_ms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        files = list_files(paths)  # a missing path fails the submission
        super().__init__(cut_splits(files, split_size, first_id=0))
        self.paths = paths
        self.split_size = split_size
        self.discovery_interval_s = discovery_interval_ms / 1000
        self._clock = clock
        self._seen = set(files)
        self._next_id = len(self._remaining)
        self.next_discovery = clock() + self.discovery_interval_s

    def discover(self) -> int:
        """List the paths now; queue the splits of new files. Returns how many."""
        self.next_discovery = self._clock() + self.discovery_interval_s
        present = [p for p in self.paths if os.path.exists(p)]
        try:
            new = [f for f in list_files(tuple(present)) if f not in self._seen]
            splits = cut_splits(new, self.split_size, first_id=self._next_id)
        except FileNotFoundError:  # removed while listing: the next discovery sees it
            return 0
        self._seen.update(new)
        self._next_id += len(splits)
        self._remaining.extend(splits)
        return len(splits)

    def __repr__(self) -> str:
        return (
            f"ContinuousFileSplitEnumerator({len(self._seen)} files seen, "
            f"{len(self._remaining)} splits waiting)"
        )
