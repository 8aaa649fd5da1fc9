"""The on-disk format of a blocking result partition (see ``spill.py``): lz4 frames,
their checksums and the index.

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
the subpartition's records. The writer (``spill_writer.py``) and the reader
(``spill_reader.py``) share everything about the bytes through this module, so a
change of format is made (and ``VERSION`` raised) in one place.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

import lz4.frame

from minicluster.network.spill_partition import PartitionError

DEFAULT_COALESCE_BYTES = 256 * 1024
VERSION = 1
DATA_HEADER = struct.Struct("<4sHH")
DATA_MAGIC = b"MCSP"
INDEX_HEADER = struct.Struct("<4sHHIQH")
INDEX_MAGIC = b"MCPI"
SUMMARY = struct.Struct("<IQQ")
FRAME = struct.Struct("<QIQ")
CRC = struct.Struct("<I")
LEN = struct.Struct("<Q")
MAX_COALESCE_BYTES = 64 * 1024 * 1024


def compress_frame(content) -> bytes:
    """One lz4 frame of ``content``, with block and content checksums (so a reader
    tells a damaged frame from a user's unpicklable record)."""
    return lz4.frame.compress(content, content_checksum=True, block_checksum=True)


def decompress_frame(frame: bytes) -> tuple[bytes, int]:
    """The content of the lz4 frame at the start of ``frame`` and how many bytes it took.

    Raises:
        RuntimeError: the frame fails to decode or a checksum fails (lz4's error).
    """
    return lz4.frame.decompress(frame, return_bytes_read=True)


def encode_index(
    partition_id: str, data_size: int, frames: list[list[tuple[int, int, int]]]
) -> bytes:
    """The ``.index`` bytes: per subpartition, its ``(offset, length, records)`` frames."""
    encoded_id = partition_id.encode()
    parts = [
        INDEX_HEADER.pack(INDEX_MAGIC, VERSION, 0, len(frames), data_size, len(encoded_id)),
        encoded_id,
    ]
    for sub in frames:
        parts.append(SUMMARY.pack(len(sub), sum(f[2] for f in sub), sum(f[1] for f in sub)))
    for sub in frames:
        parts.extend(FRAME.pack(*f) for f in sub)
    body = b"".join(parts)
    return body + CRC.pack(zlib.crc32(body))


@dataclass(frozen=True, slots=True)
class PartitionIndex:
    """A decoded ``.index``, checked against its own checksum and totals."""

    partition_id: str
    data_size: int
    frames: tuple[tuple[tuple[int, int, int], ...], ...]
    subpartition_records: tuple[int, ...]
    subpartition_bytes: tuple[int, ...]


def decode_index(raw: bytes, fail: Callable[[str], PartitionError]) -> PartitionIndex:
    """Decode and check an index; ``fail(what)`` builds the error raised when it is bad
    (the caller knows the partition, subpartition and path it names)."""
    if len(raw) < INDEX_HEADER.size + CRC.size:
        raise fail(f"index is truncated ({len(raw)} bytes)")
    body, (crc,) = raw[: -CRC.size], CRC.unpack(raw[-CRC.size :])
    if zlib.crc32(body) != crc:
        raise fail("index fails its CRC-32 checksum")
    magic, version, _, n, data_size, id_len = INDEX_HEADER.unpack_from(body)
    if magic != INDEX_MAGIC or version != VERSION:
        raise fail(f"not a version {VERSION} partition index (magic {magic!r}, v{version})")
    pos = INDEX_HEADER.size
    partition_id = body[pos : pos + id_len].decode("utf-8", "replace")
    pos += id_len
    summaries = [SUMMARY.unpack_from(body, pos + i * SUMMARY.size) for i in range(n)]
    pos += n * SUMMARY.size
    frames = []
    for count, records, size in summaries:
        sub = tuple(FRAME.unpack_from(body, pos + i * FRAME.size) for i in range(count))
        pos += count * FRAME.size
        if sum(f[2] for f in sub) != records or sum(f[1] for f in sub) != size or any(
            f[0] < DATA_HEADER.size or f[0] + f[1] > data_size for f in sub
        ):
            raise fail("index frames do not add up to its totals or lie outside the data")
        frames.append(sub)
    if pos != len(body):
        raise fail(f"index has {len(body) - pos} unexpected trailing bytes")
    return PartitionIndex(
        partition_id, data_size, tuple(frames),
        tuple(s[1] for s in summaries), tuple(s[2] for s in summaries),
    )


class LengthPrefixedStream:
    """Reassembles ``u64 length | payload`` items from content cut at arbitrary points."""

    __slots__ = ("_parts", "_have", "_need", "_in_length")

    def __init__(self) -> None:
        self._parts: list[memoryview] = []
        self._have = 0
        self._need = LEN.size
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
                self._need = LEN.unpack(item)[0]
                self._in_length = False
            else:
                self._need = LEN.size
                self._in_length = True
                yield item
