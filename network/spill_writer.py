"""``ResultPartitionWriter``: a producer subtask's side of a blocking result partition.

    write(k, values, timestamps)
      -> pickle (values, timestamps), protocol 5 (as on the wire)
      -> pending[k] += u64 length | pickle
      -> pending[k] reaches coalesce_bytes: one lz4 frame appended to .data
      -> pending bytes over all subpartitions past buffer_bytes: the largest goes early
    finish() -> write what is pending, fsync .data, write .index atomically
             -> PartitionDescriptor (to the supervisor)

Memory stays bounded by ``buffer_bytes`` however large the partition grows. The index
is written last, under a temporary name, fsynced and renamed: until then the partition
is incomplete and no reader accepts it. The bytes are those of ``spill_format.py``.
"""

from __future__ import annotations

import os
import pickle
import re

from minicluster.network.codec import PROTOCOL
from minicluster.network.spill_format import (
    DATA_HEADER,
    DATA_MAGIC,
    DEFAULT_COALESCE_BYTES,
    LEN,
    MAX_COALESCE_BYTES,
    VERSION,
    compress_frame,
    encode_index,
)
from minicluster.network.spill_partition import (
    PartitionDescriptor,
    data_file_path,
    delete_partition,
    index_file_path,
)

_PARTITION_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class ResultPartitionWriter:
    """Appends a producer subtask's batches, per subpartition, to one partition's files.

    Args:
        directory: the spill folder (``SpillDirectory.path``).
        partition_id: letters, digits, ``-``, ``_``, ``.``; unique per producer attempt.
            Files of an earlier attempt under the same id are replaced.
        num_subpartitions: the number of consumer subtasks.
        coalesce_bytes: a subpartition's pending bytes become one frame at this size.
        buffer_bytes: bound on pending bytes over all subpartitions (default four
            frames); past it the largest pending subpartition is written out early.
        sync: fsync the files in ``finish()``.

    Attributes:
        buffered_bytes: bytes pickled but not yet written, over all subpartitions.
        max_buffered_bytes: the highest ``buffered_bytes`` seen after a ``write``.
    """

    def __init__(
        self,
        directory: str,
        partition_id: str,
        num_subpartitions: int,
        *,
        coalesce_bytes: int = DEFAULT_COALESCE_BYTES,
        buffer_bytes: int | None = None,
        sync: bool = True,
    ) -> None:
        if not isinstance(partition_id, str) or not _PARTITION_ID.fullmatch(partition_id):
            raise ValueError(
                f"partition_id must be letters, digits, '-', '_' or '.', got {partition_id!r}"
            )
        if num_subpartitions < 1:
            raise ValueError(f"num_subpartitions must be >= 1, got {num_subpartitions}")
        if not 64 <= coalesce_bytes <= MAX_COALESCE_BYTES:
            raise ValueError(
                f"coalesce_bytes must be in [64, {MAX_COALESCE_BYTES}], got {coalesce_bytes}"
            )
        buffer_bytes = 4 * coalesce_bytes if buffer_bytes is None else buffer_bytes
        if buffer_bytes < coalesce_bytes:
            raise ValueError(
                f"buffer_bytes ({buffer_bytes}) must be >= coalesce_bytes ({coalesce_bytes})"
            )
        self.partition_id = partition_id
        self.num_subpartitions = num_subpartitions
        self.path = data_file_path(os.fspath(directory), partition_id)
        self.coalesce_bytes = coalesce_bytes
        self.buffer_bytes = buffer_bytes
        self.sync = sync
        self.buffered_bytes = 0
        self.max_buffered_bytes = 0
        self._pending = [bytearray() for _ in range(num_subpartitions)]
        self._pending_records = [0] * num_subpartitions
        self._frames: list[list[tuple[int, int, int]]] = [[] for _ in range(num_subpartitions)]
        self._records = [0] * num_subpartitions
        self._bytes = [0] * num_subpartitions
        self._descriptor: PartitionDescriptor | None = None
        delete_partition(self.path)  # a stale index must never describe new data
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._file.write(DATA_HEADER.pack(DATA_MAGIC, VERSION, 0))
        self._offset = DATA_HEADER.size

    def write(self, subpartition: int, values: list, timestamps: list | None = None) -> None:
        """Append one batch to ``subpartition``; an empty batch is skipped."""
        if self._file is None:
            raise ValueError(f"partition {self.partition_id!r} is finished or closed")
        if not 0 <= subpartition < self.num_subpartitions:
            raise IndexError(
                f"subpartition {subpartition} out of range: partition "
                f"{self.partition_id!r} has {self.num_subpartitions}"
            )
        if not values:
            return
        if timestamps is not None and len(timestamps) != len(values):
            raise ValueError(
                f"{len(timestamps)} timestamps for {len(values)} values "
                f"(partition {self.partition_id!r}, subpartition {subpartition})"
            )
        payload = pickle.dumps((values, timestamps), protocol=PROTOCOL)
        self._append(subpartition, LEN.pack(len(payload)), 0)
        self._append(subpartition, payload, len(values))
        while self.buffered_bytes > self.buffer_bytes:
            largest = max(range(self.num_subpartitions), key=lambda i: len(self._pending[i]))
            self._flush(largest)
        if self.buffered_bytes > self.max_buffered_bytes:
            self.max_buffered_bytes = self.buffered_bytes

    def _append(self, subpartition: int, data: bytes, records: int) -> None:
        """Add ``data`` to the pending bytes, writing out every full frame.

        ``records`` belong to the frame in which ``data`` ends.
        """
        size = self.coalesce_bytes
        pending = self._pending[subpartition]
        view = memoryview(data)
        pos, end = 0, len(data)
        while len(pending) + end - pos >= size:
            cut = pos + size - len(pending)
            frame_records = self._pending_records[subpartition]
            if cut == end:
                frame_records += records
                records = 0
            if pending:
                self.buffered_bytes -= len(pending)
                pending += view[pos:cut]
                self._write_frame(subpartition, pending, frame_records)
                pending.clear()
            else:
                self._write_frame(subpartition, view[pos:cut], frame_records)
            self._pending_records[subpartition] = 0
            pos = cut
        if pos < end:
            pending += view[pos:]
            self.buffered_bytes += end - pos
        self._pending_records[subpartition] += records

    def _flush(self, subpartition: int) -> None:
        pending = self._pending[subpartition]
        if pending:
            self._write_frame(subpartition, pending, self._pending_records[subpartition])
            self.buffered_bytes -= len(pending)
            pending.clear()
            self._pending_records[subpartition] = 0

    def _write_frame(self, subpartition: int, content, records: int) -> None:
        frame = compress_frame(content)
        self._file.write(frame)
        self._frames[subpartition].append((self._offset, len(frame), records))
        self._offset += len(frame)
        self._records[subpartition] += records
        self._bytes[subpartition] += len(frame)

    def finish(self) -> PartitionDescriptor:
        """Write out what is pending, make the files durable, and complete the partition."""
        if self._descriptor is not None:
            return self._descriptor
        if self._file is None:
            raise ValueError(f"partition {self.partition_id!r} was closed without finish()")
        for subpartition in range(self.num_subpartitions):
            self._flush(subpartition)
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        index = encode_index(self.partition_id, self._offset, self._frames)
        index_path = index_file_path(self.path)
        fd = os.open(index_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(index)
            f.flush()
            if self.sync:
                os.fsync(f.fileno())
        os.replace(index_path + ".tmp", index_path)
        if self.sync:
            _fsync_directory(os.path.dirname(self.path))
        self._descriptor = PartitionDescriptor(
            self.path, self.partition_id, self.num_subpartitions,
            tuple(self._records), tuple(self._bytes), self._offset,
        )
        return self._descriptor

    def close(self) -> None:
        """Close the data file; an unfinished partition stays incomplete (no index)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def delete(self) -> None:
        """Close and remove the partition's files (an aborted or consumed partition)."""
        self.close()
        delete_partition(self.path)

    def __enter__(self) -> ResultPartitionWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._descriptor is None:
            self.delete()

    def __repr__(self) -> str:
        state = "finished" if self._descriptor else "open" if self._file else "closed"
        return (
            f"ResultPartitionWriter({self.partition_id!r}, {self.num_subpartitions} "
            f"subpartitions, {state}, {self._offset} bytes)"
        )


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
