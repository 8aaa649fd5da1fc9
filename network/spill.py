"""Blocking result partitions: a producer subtask's output, spilled to disk for BATCH mode.

A producer writes one partition; each consumer subtask later reads its subpartition.

    producer subtask                                   consumer subtask k
    write(k, values, timestamps)
      -> pickle (values, timestamps), protocol 5       ResultPartitionReader(desc, k)
      -> pending[k] += len + pickle                      -> index: frames of k only
      -> pending[k] full: one lz4 frame -> .data         -> pread each frame, verify
    finish() -> fsync .data, write .index atomically     -> yield (values, timestamps)
             -> PartitionDescriptor (to the supervisor)

Files of one partition (``<partition_id>.data`` and ``<partition_id>.index``)::

    .data   "MCSP" u16 version u16 0 | frame | frame | frame | ...
            frames of all subpartitions interleaved, in the order they filled up;
            a frame is one lz4 frame (header, block and content checksums) whose
            content is a slice of its subpartition's byte stream:
                u64 length | pickle (values, timestamps) | u64 length | pickle | ...
            cut every ``coalesce_bytes``: small batches share a frame, a large
            batch spans several frames.

    .index  "MCPI" u16 version u16 0 | u32 subpartitions | u64 data size
            | u16 id length | partition id (UTF-8)
            | per subpartition: u32 frames | u64 records | u64 bytes
            | per subpartition, per frame: u64 offset | u32 length | u64 records
            | u32 CRC-32 of all the above

A frame's record count is that of the batches that end in it, so the counts add up to
the subpartition's records. The index is written last, under a temporary name, fsynced
and renamed: a partition without an index is incomplete and no reader accepts it.

Failures to read a partition (a missing file, a checksum that fails, a truncated file,
an index that does not add up) raise a ``PartitionError``, never a user's exception: the
supervisor answers one by re-running the producing region (backtracking). An error
while unpickling a frame that passed its checksums is not corruption (a user type that
cannot be unpickled), so it propagates as it is.

The folder the files live in is chosen by ``spill_directory.create_spill_directory``
(re-exported here).
"""

from __future__ import annotations

import os
import pickle
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

import lz4.frame

from minicluster.network.codec import PROTOCOL
from minicluster.network.spill_directory import SpillDirectory, create_spill_directory

__all__ = [
    "PartitionCorruptedError",
    "PartitionDescriptor",
    "PartitionError",
    "PartitionNotFoundError",
    "ResultPartitionReader",
    "ResultPartitionWriter",
    "SpillDirectory",
    "create_spill_directory",
    "delete_partition",
]

DEFAULT_COALESCE_BYTES = 256 * 1024
VERSION = 1
_DATA_HEADER = struct.Struct("<4sHH")
_DATA_MAGIC = b"MCSP"
_INDEX_HEADER = struct.Struct("<4sHHIQH")
_INDEX_MAGIC = b"MCPI"
_SUMMARY = struct.Struct("<IQQ")
_FRAME = struct.Struct("<QIQ")
_CRC = struct.Struct("<I")
_LEN = struct.Struct("<Q")
_MAX_COALESCE_BYTES = 64 * 1024 * 1024


_PARTITION_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


# -- errors -----------------------------------------------------------------------------


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


# -- the descriptor ---------------------------------------------------------------------


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
        return _index_path(self.path)


def _data_path(directory: str, partition_id: str) -> str:
    return os.path.join(directory, partition_id + ".data")


def _index_path(data_path: str) -> str:
    return data_path.removesuffix(".data") + ".index"


def delete_partition(partition: PartitionDescriptor | str) -> None:
    """Remove a partition's data, index and any temporary index; missing files are fine."""
    if isinstance(partition, PartitionDescriptor):
        partition = partition.path
    path = os.fspath(partition)
    index = _index_path(path)
    for name in (index, index + ".tmp", path):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass


# -- the writer -------------------------------------------------------------------------


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
        if not 64 <= coalesce_bytes <= _MAX_COALESCE_BYTES:
            raise ValueError(
                f"coalesce_bytes must be in [64, {_MAX_COALESCE_BYTES}], got {coalesce_bytes}"
            )
        buffer_bytes = 4 * coalesce_bytes if buffer_bytes is None else buffer_bytes
        if buffer_bytes < coalesce_bytes:
            raise ValueError(
                f"buffer_bytes ({buffer_bytes}) must be >= coalesce_bytes ({coalesce_bytes})"
            )
        self.partition_id = partition_id
        self.num_subpartitions = num_subpartitions
        self.path = _data_path(os.fspath(directory), partition_id)
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
        self._file.write(_DATA_HEADER.pack(_DATA_MAGIC, VERSION, 0))
        self._offset = _DATA_HEADER.size

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
        self._append(subpartition, _LEN.pack(len(payload)), 0)
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
        frame = lz4.frame.compress(content, content_checksum=True, block_checksum=True)
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
        index = _encode_index(self.partition_id, self._offset, self._frames)
        index_path = _index_path(self.path)
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


# -- the index --------------------------------------------------------------------------


def _encode_index(
    partition_id: str, data_size: int, frames: list[list[tuple[int, int, int]]]
) -> bytes:
    encoded_id = partition_id.encode()
    parts = [
        _INDEX_HEADER.pack(_INDEX_MAGIC, VERSION, 0, len(frames), data_size, len(encoded_id)),
        encoded_id,
    ]
    for sub in frames:
        parts.append(_SUMMARY.pack(len(sub), sum(f[2] for f in sub), sum(f[1] for f in sub)))
    for sub in frames:
        parts.extend(_FRAME.pack(*f) for f in sub)
    body = b"".join(parts)
    return body + _CRC.pack(zlib.crc32(body))


@dataclass(frozen=True, slots=True)
class _Index:
    partition_id: str
    data_size: int
    frames: tuple[tuple[tuple[int, int, int], ...], ...]
    subpartition_records: tuple[int, ...]
    subpartition_bytes: tuple[int, ...]


def _decode_index(raw: bytes, fail: Callable[[str], PartitionError]) -> _Index:
    if len(raw) < _INDEX_HEADER.size + _CRC.size:
        raise fail(f"index is truncated ({len(raw)} bytes)")
    body, (crc,) = raw[: -_CRC.size], _CRC.unpack(raw[-_CRC.size :])
    if zlib.crc32(body) != crc:
        raise fail("index fails its CRC-32 checksum")
    magic, version, _, n, data_size, id_len = _INDEX_HEADER.unpack_from(body)
    if magic != _INDEX_MAGIC or version != VERSION:
        raise fail(f"not a version {VERSION} partition index (magic {magic!r}, v{version})")
    pos = _INDEX_HEADER.size
    partition_id = body[pos : pos + id_len].decode("utf-8", "replace")
    pos += id_len
    summaries = [_SUMMARY.unpack_from(body, pos + i * _SUMMARY.size) for i in range(n)]
    pos += n * _SUMMARY.size
    frames = []
    for count, records, size in summaries:
        sub = tuple(_FRAME.unpack_from(body, pos + i * _FRAME.size) for i in range(count))
        pos += count * _FRAME.size
        if sum(f[2] for f in sub) != records or sum(f[1] for f in sub) != size or any(
            f[0] < _DATA_HEADER.size or f[0] + f[1] > data_size for f in sub
        ):
            raise fail("index frames do not add up to its totals or lie outside the data")
        frames.append(sub)
    if pos != len(body):
        raise fail(f"index has {len(body) - pos} unexpected trailing bytes")
    return _Index(
        partition_id, data_size, tuple(frames),
        tuple(s[1] for s in summaries), tuple(s[2] for s in summaries),
    )


# -- the reader -------------------------------------------------------------------------


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
        index_path = _index_path(self.path)
        try:
            with open(index_path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise self._error(
                PartitionNotFoundError,
                f"no index {index_path}: the partition was never finished or was removed",
            ) from None
        index = _decode_index(raw, lambda what: self._error(PartitionCorruptedError, what))
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
            magic, version, _ = _DATA_HEADER.unpack(_read_at(fd, _DATA_HEADER.size, 0))
            if magic != _DATA_MAGIC or version != VERSION:
                raise self._error(
                    PartitionCorruptedError,
                    f"not a version {VERSION} data file (magic {magic!r}, v{version})",
                )
            stream = _LengthPrefixedStream()
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
            content, used = lz4.frame.decompress(frame, return_bytes_read=True)
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


class _LengthPrefixedStream:
    """Reassembles ``u64 length | payload`` items from content cut at arbitrary points."""

    __slots__ = ("_parts", "_have", "_need", "_in_length")

    def __init__(self) -> None:
        self._parts: list[memoryview] = []
        self._have = 0
        self._need = _LEN.size
        self._in_length = True

    @property
    def at_boundary(self) -> bool:
        return self._in_length and not self._parts

    def feed(self, data: bytes) -> Iterator[memoryview | bytes]:
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end:
            need = self._need
            if self._parts or end - pos < need:
                take = min(need - self._have, end - pos)
                self._parts.append(view[pos : pos + take])
                self._have += take
                pos += take
                if self._have < need:
                    return
                item = b"".join(self._parts)
                self._parts.clear()
                self._have = 0
            else:
                item = view[pos : pos + need]
                pos += need
            if self._in_length:
                self._need = _LEN.unpack(item)[0]
                self._in_length = False
            else:
                self._need = _LEN.size
                self._in_length = True
                yield item
