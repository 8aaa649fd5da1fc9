"""A blocking result partition as the rest of the runtime sees it: its descriptor, the
names of its files, their deletion, and the errors of reading it.

``PartitionDescriptor`` is what a finished ``ResultPartitionWriter`` returns and the
supervisor hands to consumers; ``delete_partition`` is how the supervisor drops one.
A ``PartitionError`` (``PartitionNotFoundError``, ``PartitionCorruptedError``) is never
a user's exception: it crosses from the consuming TaskManager to the supervisor
(pickled, rebuilt by ``__reduce__``), whose failover recognises it by its class name
(``jobmanager/failover.py``) and re-runs the producing region (backtracking).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


class PartitionError(Exception):
    """A result partition cannot be read: the producing region must run again.

    Attributes:
        partition_id: the partition.
        subpartition: the subpartition being read, or None.
        path: the file at fault.
    """

    def __init__(
        self, what: str, partition_id: str, subpartition: int | None, path: str
    ) -> None:
        where = f"result partition {partition_id!r}"
        if subpartition is not None:
            where += f" subpartition {subpartition}"
        super().__init__(f"{where} ({path}): {what}; the producing region must run again")
        self.what = what
        self.partition_id = partition_id
        self.subpartition = subpartition
        self.path = path

    def __reduce__(self):
        # Crosses from a TaskManager to the supervisor: rebuild from all four fields.
        return type(self), (self.what, self.partition_id, self.subpartition, self.path)


class PartitionNotFoundError(PartitionError):
    """A file of the partition is missing, or the partition was never finished."""


class PartitionCorruptedError(PartitionError):
    """A checksum fails, a file is truncated, or the index does not add up."""


@dataclass(frozen=True, slots=True)
class PartitionDescriptor:
    """A finished partition, as the supervisor registers it.

    Attributes:
        path: the data file; the index is ``index_path``.
        partition_id: unique per producer subtask attempt, used in file names.
        num_subpartitions: one per consumer subtask.
        subpartition_records: records per subpartition.
        subpartition_bytes: compressed bytes per subpartition in the data file.
        total_bytes: size of the data file.
    """

    path: str
    partition_id: str
    num_subpartitions: int
    subpartition_records: tuple[int, ...]
    subpartition_bytes: tuple[int, ...]
    total_bytes: int

    def __post_init__(self) -> None:
        n = self.num_subpartitions
        records, sizes = self.subpartition_records, self.subpartition_bytes
        if n < 1 or len(records) != n or len(sizes) != n:
            raise ValueError(
                f"PartitionDescriptor {self.partition_id!r}: expected {n} >= 1 record and "
                f"byte counts, got {len(records)} and {len(sizes)}"
            )
        if min(records) < 0 or min(sizes) < 0 or sum(sizes) > self.total_bytes:
            raise ValueError(
                f"PartitionDescriptor {self.partition_id!r}: counts do not add up "
                f"(records {records}, bytes {sizes}, total {self.total_bytes})"
            )

    @property
    def index_path(self) -> str:
        return index_file_path(self.path)


def attempt_partition_id(edge_id: int, subtask_index: int, attempt: int) -> str:
    """The partition id of one producer attempt on one edge: a re-run writes beside
    the failed attempt's files, never over them (attempt 0 has no suffix)."""
    return f"edge{edge_id}-subtask{subtask_index}" + (f"-attempt{attempt}" if attempt else "")


def data_file_path(directory: str, partition_id: str) -> str:
    """``<directory>/<partition_id>.data``."""
    return os.path.join(directory, partition_id + ".data")


def index_file_path(data_path: str) -> str:
    """The index that belongs to a data file: ``<partition_id>.index`` beside it."""
    return data_path.removesuffix(".data") + ".index"


def delete_partition(partition: PartitionDescriptor | str) -> None:
    """Remove a partition's data, index and any temporary index; missing files are fine."""
    if isinstance(partition, PartitionDescriptor):
        partition = partition.path
    path = os.fspath(partition)
    index = index_file_path(path)
    for name in (index, index + ".tmp", path):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
