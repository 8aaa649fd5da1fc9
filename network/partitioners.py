"""Partitioners: which downstream channel each record goes to (Flink's ``ChannelSelector``).

A partitioner object in the graph is a specification; each producer subtask works on
its own copy after ``setup(num_channels, subtask_index)``. ``route(values,
timestamps)`` splits a whole batch at once, so the per-record work is one tight loop
per batch; event timestamps (a parallel list, or None) go wherever their records go.

The channels a producer sees are already the ones it is connected to: all consumer
subtasks for ALL_TO_ALL patterns, its own subset for POINTWISE ones (``FORWARD``:
exactly one; ``RESCALE``: its group), ordered by consumer subtask index.
"""

from __future__ import annotations

import copy
import random
from typing import Callable, Sequence

from minicluster.state.key_groups import (
    DEFAULT_MAX_PARALLELISM,
    UnsupportedKeyError,
    cache_bounded,
    stable_hash,
    subtask_for_key,
)

Batch = list
Routed = list[tuple[int, list, "list | None"]]


def bucket_by_channel(
    channels: list[int], values: list, timestamps: list | None, num_channels: int
) -> Routed:
    """Group ``values`` (and their ``timestamps``) by the channel chosen for each."""
    value_buckets: list[list] = [[] for _ in range(num_channels)]
    if timestamps is None:
        appenders = [bucket.append for bucket in value_buckets]
        for channel, value in zip(channels, values):
            appenders[channel](value)
        return [(ch, vs, None) for ch, vs in enumerate(value_buckets) if vs]
    ts_buckets: list[list] = [[] for _ in range(num_channels)]
    for channel, value, timestamp in zip(channels, values, timestamps):
        value_buckets[channel].append(value)
        ts_buckets[channel].append(timestamp)
    return [(ch, vs, ts_buckets[ch]) for ch, vs in enumerate(value_buckets) if vs]


class StreamPartitioner:
    """Base class; subclasses set ``name`` and implement ``select_channel``.

    Attributes:
        name: stable upper-case name used in plans, logs and errors.
        is_pointwise: producer i connects to a subset of consumers (Flink's
            ``DistributionPattern.POINTWISE``) instead of all of them.
        is_broadcast: every record goes to every channel.
    """

    name = "UNKNOWN"
    is_pointwise = False
    is_broadcast = False

    def __init__(self) -> None:
        self.num_channels = 0
        self.subtask_index = 0

    def copy_for_subtask(self, num_channels: int, subtask_index: int) -> StreamPartitioner:
        """A fresh partitioner for one producer subtask (round-robin state is per subtask)."""
        clone = copy.copy(self)
        clone.setup(num_channels, subtask_index)
        return clone

    def setup(self, num_channels: int, subtask_index: int) -> None:
        if num_channels < 1:
            raise ValueError(f"{self.name} partitioner needs at least one channel")
        self.num_channels = num_channels
        self.subtask_index = subtask_index

    def select_channel(self, record: object) -> int:
        raise NotImplementedError

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        """Split a batch into ``(channel, records, timestamps)``, skipping empty channels."""
        if self.num_channels == 1:
            return [(0, batch, timestamps)]
        select = self.select_channel
        return bucket_by_channel(
            [select(record) for record in batch], batch, timestamps, self.num_channels
        )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name


class ForwardPartitioner(StreamPartitioner):
    """Subtask i sends everything to subtask i; parallelism must match."""

    name = "FORWARD"
    is_pointwise = True

    def select_channel(self, record: object) -> int:
        return 0

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        return [(0, batch, timestamps)]


class RebalancePartitioner(StreamPartitioner):
    """Round-robin over all consumers. Each producer starts at its own subtask index
    (Flink starts at a random channel) so that producers spread out and runs repeat."""

    name = "REBALANCE"

    def setup(self, num_channels: int, subtask_index: int) -> None:
        super().setup(num_channels, subtask_index)
        self._next = subtask_index % num_channels

    def select_channel(self, record: object) -> int:
        channel = self._next
        self._next = (channel + 1) % self.num_channels
        return channel

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        n = self.num_channels
        start = self._next
        self._next = (start + len(batch)) % n
        routed = []
        for offset in range(min(n, len(batch))):
            routed.append((
                (start + offset) % n,
                batch[offset::n],
                None if timestamps is None else timestamps[offset::n],
            ))
        return routed


class RescalePartitioner(RebalancePartitioner):
    """Round-robin within the producer's own group of consumers (POINTWISE)."""

    name = "RESCALE"
    is_pointwise = True

    def setup(self, num_channels: int, subtask_index: int) -> None:
        StreamPartitioner.setup(self, num_channels, subtask_index)
        self._next = 0


class GlobalPartitioner(StreamPartitioner):
    """Everything to the first consumer subtask."""

    name = "GLOBAL"

    def select_channel(self, record: object) -> int:
        return 0

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        return [(0, batch, timestamps)]


class ShufflePartitioner(StreamPartitioner):
    """A uniformly random consumer per record."""

    name = "SHUFFLE"

    def setup(self, num_channels: int, subtask_index: int) -> None:
        super().setup(num_channels, subtask_index)
        self._random = random.Random()

    def select_channel(self, record: object) -> int:
        return self._random.randrange(self.num_channels)


class BroadcastPartitioner(StreamPartitioner):
    """Every record to every consumer."""

    name = "BROADCAST"
    is_broadcast = True

    def select_channel(self, record: object) -> int:
        raise TypeError("BROADCAST selects every channel; use route()")

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        return [(ch, batch, timestamps) for ch in range(self.num_channels)]


class KeyGroupStreamPartitioner(StreamPartitioner):
    """``key_by``: key -> stable hash -> key group -> the consumer owning that group.

    The key -> channel mapping is cached per producer (keys repeat a lot), bounded so
    that a stream of distinct keys cannot grow it without limit.
    """

    name = "HASH"

    def __init__(
        self,
        key_selector: Callable[[object], object],
        max_parallelism: int = DEFAULT_MAX_PARALLELISM,
    ) -> None:
        super().__init__()
        self.key_selector = key_selector
        self.max_parallelism = max_parallelism

    def with_max_parallelism(self, max_parallelism: int) -> KeyGroupStreamPartitioner:
        """The same partitioner for a keyed operator with ``max_parallelism`` key groups."""
        return KeyGroupStreamPartitioner(self.key_selector, max_parallelism)

    def setup(self, num_channels: int, subtask_index: int) -> None:
        super().setup(num_channels, subtask_index)
        if num_channels > self.max_parallelism:
            raise ValueError(
                f"parallelism {num_channels} of a keyed operator exceeds max_parallelism "
                f"{self.max_parallelism}; raise it with env.set_max_parallelism()"
            )
        self._cache: dict = {}

    def select_channel(self, record: object) -> int:
        return subtask_for_key(self.key_selector(record), self.num_channels, self.max_parallelism)

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        return bucket_by_channel(self._channels(batch), batch, timestamps, self.num_channels)

    def _channels(self, batch: Batch) -> list[int]:
        """The channel of every record: keys and cache lookups in two C-level passes
        (a Python loop per record costs twice as much); only the keys the cache
        misses are hashed, one by one."""
        keys = list(map(self.key_selector, batch))
        try:
            channels = list(map(self._cache.get, keys))
        except TypeError:  # an unhashable key: _channel_of names it
            channels = [None] * len(keys)
        if None in channels:
            channel_of = self._channel_of
            for i, channel in enumerate(channels):
                if channel is None:
                    channels[i] = channel_of(keys[i])
        return channels

    def channel_of_key(self, key: object) -> int:
        """The channel of records with ``key`` (cached), for writers that route by key
        rather than by record (the BATCH combiner's partials)."""
        try:
            return self._cache[key]
        except (KeyError, TypeError):
            return self._channel_of(key)

    def _channel_of(self, key: object) -> int:
        channel = subtask_for_key(key, self.num_channels, self.max_parallelism)
        cache_bounded(self._cache, key, channel)
        return channel


class CustomPartitionerWrapper(StreamPartitioner):
    """``partition_custom``: the user's ``partition(key, num_partitions)`` picks the channel."""

    name = "CUSTOM"

    def __init__(
        self,
        partition: Callable[[object, int], int],
        key_selector: Callable[[object], object],
    ) -> None:
        super().__init__()
        self.partition = partition
        self.key_selector = key_selector

    def route(self, batch: Batch, timestamps: list | None = None) -> Routed:
        # No single-channel shortcut: a bad partition function fails at every parallelism.
        select = self.select_channel
        return bucket_by_channel(
            [select(record) for record in batch], batch, timestamps, self.num_channels
        )

    def select_channel(self, record: object) -> int:
        key = self.key_selector(record)
        channel = self.partition(key, self.num_channels)
        if type(channel) is not int or not 0 <= channel < self.num_channels:
            raise ValueError(
                f"custom partitioner returned {channel!r} for key {key!r}; it must return "
                f"an int in [0, {self.num_channels})"
            )
        return channel


def pointwise_targets(producer: int, producers: int, consumers: int) -> Sequence[int]:
    """The consumer subtasks a producer reaches on a POINTWISE edge, by Flink's rule
    (``EdgeManagerBuildUtil.connectPointwise``): fan-out gives producer i the targets
    ``[ceil(i*C/P), ceil((i+1)*C/P))``; fan-in gives consumer j the producers
    ``[floor(j*P/C), floor((j+1)*P/C))``."""
    if producers == consumers:
        return [producer]
    if producers < consumers:
        start = (producer * consumers + producers - 1) // producers
        end = ((producer + 1) * consumers + producers - 1) // producers
        return list(range(start, end))
    for consumer in range(consumers):
        if consumer * producers // consumers <= producer < (consumer + 1) * producers // consumers:
            return [consumer]
    raise AssertionError("unreachable: the fan-in ranges cover every producer")


__all__ = [
    "BroadcastPartitioner",
    "CustomPartitionerWrapper",
    "ForwardPartitioner",
    "GlobalPartitioner",
    "KeyGroupStreamPartitioner",
    "RebalancePartitioner",
    "RescalePartitioner",
    "ShufflePartitioner",
    "StreamPartitioner",
    "UnsupportedKeyError",
    "pointwise_targets",
    "stable_hash",
]
