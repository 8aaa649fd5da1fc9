"""Key-group arithmetic, after Flink's ``KeyGroupRangeAssignment``.

A key is hashed to one of ``max_parallelism`` key groups; each parallel subtask owns a
contiguous range of key groups. State is addressed by key group, so a later rescale
moves whole key groups between subtasks instead of re-hashing keys.

Python's ``hash()`` of ``str`` and ``bytes`` is salted per process (``PYTHONHASHSEED``),
and every TaskManager is its own process, so routing uses ``stable_hash``: the same
key gives the same number in every process and every run.
"""

from __future__ import annotations

import numbers
import zlib
from dataclasses import dataclass

DEFAULT_MAX_PARALLELISM = 128
_MASK64 = (1 << 64) - 1
_NONE_HASH = 0x5BD1E995
_NAN_HASH = 0x7FF8000000000000
_TUPLE_SEED = 0x345678

#: How many keys a per-subtask key -> key group (or key -> channel) cache holds before
#: it starts over. Computing a key group costs a CRC-32 and 64-bit arithmetic on
#: Python ints (about a microsecond), so a cache that thrashes costs more than the
#: records it routes: sized above the ~100k distinct keys of a typical job (W3's
#: customers). Memory: 2**18 short ``str`` keys take about 23 MB with their dict
#: (the cache keeps the key objects alive), paid only by a job with that many keys.
KEY_CACHE_LIMIT = 1 << 18


class UnsupportedKeyError(TypeError):
    """A key selector returned a value that cannot be routed stably."""


def stable_hash(key: object) -> int:
    """Return a hash of ``key`` that is identical in every process and every run.

    Equal keys hash equally across types that compare equal (``1``, ``1.0``,
    ``True``, ``Decimal(1)``), as Python's own ``hash`` does: numeric hashes are
    defined by value and never salted. Every NaN hashes alike (Python hashes NaN by
    identity). ``str`` and ``bytes`` use CRC-32 of their bytes; tuples (and ``Row``, a
    tuple) combine their elements' stable hashes.

    Raises:
        UnsupportedKeyError: the key (or an element of a tuple key) is unhashable or
            of a type whose hash is not stable across processes.
    """
    kind = type(key)
    if kind is str:
        return zlib.crc32(key.encode("utf-8", "surrogatepass"))
    if kind is int or kind is bool:
        return hash(key)
    if kind is float:
        return hash(key) if key == key else _NAN_HASH
    if kind is bytes:
        return zlib.crc32(key)
    if key is None:
        return _NONE_HASH
    if isinstance(key, tuple):
        h = _TUPLE_SEED
        for item in key:
            h = ((h ^ stable_hash(item)) * 1000003) & _MASK64
        return h ^ len(key)
    if isinstance(key, str):
        return zlib.crc32(str.encode(key, "utf-8", "surrogatepass"))
    if isinstance(key, bytes):
        return zlib.crc32(bytes(key))
    if isinstance(key, (bytearray, memoryview)):
        raise UnsupportedKeyError(
            f"key {key!r} of type {kind.__name__} is mutable and cannot be a key; "
            "convert it with bytes(...)"
        )
    if isinstance(key, numbers.Number) and kind.__hash__ is not None:
        return hash(key) if key == key else _NAN_HASH
    if kind.__hash__ is None:
        raise UnsupportedKeyError(
            f"key {key!r} of type {kind.__name__} is unhashable; keys must be str, int, "
            "float, bytes, None, or a tuple/Row of these (convert lists with tuple(...))"
        )
    raise UnsupportedKeyError(
        f"key {key!r} of type {kind.__name__} has no stable hash across processes; keys "
        "must be str, int, float, bytes, None, or a tuple/Row of these"
    )


def _mix(h: int) -> int:
    """Spread the bits of a hash (murmur3's 64-bit finaliser), as Flink murmur-hashes
    ``hashCode()`` so that keys like multiples of 128 do not share a key group."""
    h &= _MASK64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def key_group_for(key: object, max_parallelism: int) -> int:
    """The key group in ``[0, max_parallelism)`` that ``key`` belongs to."""
    return _mix(stable_hash(key)) % max_parallelism


def cache_bounded(cache: dict, key: object, value: object) -> None:
    """``cache[key] = value``, first emptying ``cache`` once it holds
    ``KEY_CACHE_LIMIT`` keys: starting over costs nothing per hit, whereas evicting
    one key at a time would add work to every miss."""
    if len(cache) >= KEY_CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def subtask_for_key_group(key_group: int, parallelism: int, max_parallelism: int) -> int:
    """The subtask owning ``key_group`` (Flink's ``computeOperatorIndexForKeyGroup``)."""
    return key_group * parallelism // max_parallelism


def subtask_for_key(key: object, parallelism: int, max_parallelism: int) -> int:
    """The subtask a record with ``key`` is routed to."""
    return key_group_for(key, max_parallelism) * parallelism // max_parallelism


@dataclass(frozen=True, slots=True)
class KeyGroupRange:
    """The inclusive range ``[start, end]`` of key groups one subtask owns."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start - 1:
            raise ValueError(f"invalid key group range [{self.start}, {self.end}]")

    def __contains__(self, key_group: object) -> bool:
        return isinstance(key_group, int) and self.start <= key_group <= self.end

    def __len__(self) -> int:
        return self.end - self.start + 1

    def __iter__(self):
        return iter(range(self.start, self.end + 1))


def key_group_range_for_subtask(
    max_parallelism: int, parallelism: int, subtask_index: int
) -> KeyGroupRange:
    """The key groups subtask ``subtask_index`` owns (Flink's
    ``computeKeyGroupRangeForOperatorIndex``); consistent with ``subtask_for_key_group``."""
    if not 0 < parallelism <= max_parallelism:
        raise ValueError(
            f"parallelism {parallelism} must be in [1, max_parallelism={max_parallelism}]"
        )
    start = (subtask_index * max_parallelism + parallelism - 1) // parallelism
    end = ((subtask_index + 1) * max_parallelism - 1) // parallelism
    return KeyGroupRange(start, end)
