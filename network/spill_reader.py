"""``ResultPartitionReader``: a consumer subtask's side of a blocking result partition.

    ResultPartitionReader(descriptor, k)
      -> read and check the index: the frames of subpartition k only
      -> check the data file's size against the index
    iterate
      -> pread each frame of k (never a byte of another subpartition's frames)
      -> lz4 checksums, then the u64-length-prefixed pickles
      -> yield (values, timestamps)

Failures to read (a missing file, a checksum that fails, a truncated file, an index that
does not add up) raise a ``PartitionError``, never a user's exception: the supervisor
answers one by re-running the producing region. An error while unpickling a frame that
passed its checksums is not corruption (a user type that cannot be unpickled), so it
propagates as it is. The bytes are those of ``spill_format.py``.
"""

from __future__ import annotations

import os
import pickle
from typing import Iterator

from minicluster.network.spill_format import (
    DATA_HEADER,
    DATA_MAGIC,
    VERSION,
    LengthPrefixedStream,
    decode_index,
    decompress_frame,
)
from minicluster.network.spill_partition import (
    PartitionCorruptedError,
    PartitionDescriptor,
    PartitionError,
    PartitionNotFoundError,
    index_file_path,
)


def _read_at(fd: int, length: int, offset: int) -> bytes:
    """One positioned read: reads no byte outside ``[offset, offset + length)``."""
    return os.pread(fd, length, offset)


class ResultPartitionReader:
    """Iterates the ``(values, timestamps)`` batches of one subpartition, lazily.

    The index is read and checked at construction; each iteration opens the data file
    and reads only this subpartition's frames, one positioned read per frame, checking
    every checksum.

    Args:
        partition: a ``PartitionDescriptor``, or the path of a partition's data file.
        subpartition: the consumer subtask's subpartition.

    Raises:
        PartitionNotFoundError: the data file or the index is missing (an unfinished
            partition has no index).
        PartitionCorruptedError: the index fails its checksum, does not match the
            descriptor or the data file's size; during iteration, a frame fails its
            checksum or is cut short.
    """

    def __init__(self, partition: PartitionDescriptor | str, subpartition: int) -> None:
        descriptor = partition if isinstance(partition, PartitionDescriptor) else None
        self.path = descriptor.path if descriptor else os.fspath(partition)
        self.subpartition = subpartition
        base = os.path.basename(self.path)
        self.partition_id = (
            descriptor.partition_id if descriptor else base.removesuffix(".data")
        )
        index_path = index_file_path(self.path)
        try:
            with open(index_path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise self._error(
                PartitionNotFoundError,
                f"no index {index_path}: the partition was never finished or was removed",
            ) from None
        index = decode_index(raw, lambda what: self._error(PartitionCorruptedError, what))
        self.partition_id = index.partition_id
        n = len(index.frames)
        if not 0 <= subpartition < n:
            raise IndexError(
                f"subpartition {subpartition} out of range: partition "
                f"{index.partition_id!r} has {n}"
            )
        if descriptor is not None and (
            descriptor.partition_id, descriptor.num_subpartitions,
            descriptor.subpartition_records, descriptor.subpartition_bytes,
            descriptor.total_bytes,
        ) != (
            index.partition_id, n, index.subpartition_records, index.subpartition_bytes,
            index.data_size,
        ):
            raise self._error(PartitionCorruptedError, "index does not match the descriptor")
        self.frames = index.frames[subpartition]
        self.records = index.subpartition_records[subpartition]
        self._data_size = index.data_size
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            raise self._error(PartitionNotFoundError, "data file is missing") from None
        self._check_size(size)

    def _error(self, cls: type[PartitionError], what: str) -> PartitionError:
        return cls(what, self.partition_id, self.subpartition, self.path)

    def _check_size(self, size: int) -> None:
        if size != self._data_size:
            kind = "truncated" if size < self._data_size else "longer than its index says"
            raise self._error(
                PartitionCorruptedError,
                f"data file is {kind}: {size} bytes, the index expects {self._data_size}",
            )

    def __iter__(self) -> Iterator[tuple[list, list | None]]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise self._error(PartitionNotFoundError, "data file is missing") from None
        try:
            self._check_size(os.fstat(fd).st_size)
            magic, version, _ = DATA_HEADER.unpack(_read_at(fd, DATA_HEADER.size, 0))
            if magic != DATA_MAGIC or version != VERSION:
                raise self._error(
                    PartitionCorruptedError,
                    f"not a version {VERSION} data file (magic {magic!r}, v{version})",
                )
            stream = LengthPrefixedStream()
            for number, (offset, length, records) in enumerate(self.frames):
                content = self._read_frame(fd, number, offset, length)
                done = 0
                for payload in stream.feed(content):
                    batch = pickle.loads(payload)
                    done += len(batch[0])
                    yield batch
                if done != records:
                    raise self._error(
                        PartitionCorruptedError,
                        f"frame {number} at offset {offset} ends {done} records, "
                        f"the index says {records}",
                    )
            if not stream.at_boundary:
                raise self._error(PartitionCorruptedError, "the last batch is cut short")
        finally:
            os.close(fd)

    def _read_frame(self, fd: int, number: int, offset: int, length: int) -> bytes:
        frame = _read_at(fd, length, offset)
        where = f"frame {number} at offset {offset}"
        if len(frame) != length:
            raise self._error(
                PartitionCorruptedError,
                f"{where} is truncated: read {len(frame)} of {length} bytes",
            )
        try:
            content, used = decompress_frame(frame)
        except RuntimeError as e:
            raise self._error(PartitionCorruptedError, f"{where} fails to decode ({e})") from e
        if used != length:
            raise self._error(
                PartitionCorruptedError, f"{where} holds {length - used} stray bytes"
            )
        return content

    def __repr__(self) -> str:
        return (
            f"ResultPartitionReader({self.partition_id!r}, subpartition "
            f"{self.subpartition}, {len(self.frames)} frames, {self.records} records)"
        )
