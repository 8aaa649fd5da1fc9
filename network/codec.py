"""The wire format of the data plane.

A message is one ZeroMQ frame: a fixed 9-byte header ``(job, channel, kind)``
followed by the payload. ``DATA`` payloads are a pickled list of records (pickle protocol 5: fast, and
out-of-band buffers are possible later); ``EVENT`` payloads a pickled control event;
``CREDIT`` payloads the number of batches the consumer can take.
"""

from __future__ import annotations

import pickle
import struct

DATA = 0
EVENT = 1
CREDIT = 2

_HEADER = struct.Struct("<IIB")
PROTOCOL = 5


def encode_header(job_seq: int, channel_id: int, kind: int) -> bytes:
    return _HEADER.pack(job_seq, channel_id, kind)


def decode_header(frame: bytes) -> tuple[int, int, int]:
    return _HEADER.unpack(frame)


HEADER_SIZE = _HEADER.size


def split_message(frame: bytes) -> tuple[int, int, int, memoryview]:
    """``(job, channel, kind, payload)`` of one message; the payload is not copied."""
    job_seq, channel_id, kind = _HEADER.unpack_from(frame)
    return job_seq, channel_id, kind, memoryview(frame)[HEADER_SIZE:]


def encode_payload(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=PROTOCOL)


def decode_payload(frame: bytes) -> object:
    return pickle.loads(frame)


def encode_credit(n: int) -> bytes:
    return n.to_bytes(4, "little")


def decode_credit(frame: bytes) -> int:
    return int.from_bytes(frame, "little")
