"""Tests for ``minicluster.network.partitioners``: which channel each record goes to.

Every partitioner is used as the runtime uses it: a per-producer copy from
``copy_for_subtask(num_channels, subtask_index)``, then ``route(batch)``, which
returns ``(channel, records)`` pairs.
"""

from collections import Counter
from decimal import Decimal

import pytest

from minicluster.network import partitioners
from minicluster.network.partitioners import (
    BroadcastPartitioner,
    CustomPartitionerWrapper,
    ForwardPartitioner,
    GlobalPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    RescalePartitioner,
    ShufflePartitioner,
    StreamPartitioner,
    pointwise_targets,
)
from minicluster.state import UnsupportedKeyError, key_groups, subtask_for_key



def _pairs(partitioner, batch):
    """``route()`` of a batch without timestamps, as ``(channel, records)`` pairs."""
    routed = partitioner.route(batch)
    assert all(timestamps is None for _, _, timestamps in routed)
    return [(channel, records) for channel, records, _ in routed]

def _channels(routed):
    """``{channel: records}`` from a route() result, checking no channel repeats."""
    as_dict = dict(routed)
    assert len(as_dict) == len(routed), f"a channel appears twice in {routed}"
    return as_dict


def _channel_per_record(routed):
    """Record -> channel, for batches of distinct records."""
    return {record: ch for ch, records in routed for record in records}


def _round_robin_order(routed, batch):
    """The channel of each record of ``batch`` in batch order (distinct records)."""
    where = _channel_per_record(routed)
    assert sorted(where) == sorted(batch)
    return [where[r] for r in batch]


# -- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partitioner", "name"),
    [
        (ForwardPartitioner(), "FORWARD"),
        (RebalancePartitioner(), "REBALANCE"),
        (RescalePartitioner(), "RESCALE"),
        (GlobalPartitioner(), "GLOBAL"),
        (ShufflePartitioner(), "SHUFFLE"),
        (BroadcastPartitioner(), "BROADCAST"),
        (KeyGroupStreamPartitioner(lambda r: r), "HASH"),
        (CustomPartitionerWrapper(lambda k, n: 0, lambda r: r), "CUSTOM"),
    ],
)
def test_str_is_the_stable_upper_case_name(partitioner, name):
    assert str(partitioner) == name
    assert repr(partitioner) == name
    assert str(partitioner.copy_for_subtask(3, 1)) == name


def test_pointwise_and_broadcast_flags():
    pointwise = {
        type(p).__name__
        for p in [
            ForwardPartitioner(), RebalancePartitioner(), RescalePartitioner(),
            GlobalPartitioner(), ShufflePartitioner(), BroadcastPartitioner(),
            KeyGroupStreamPartitioner(lambda r: r),
            CustomPartitionerWrapper(lambda k, n: 0, lambda r: r),
        ]
        if p.is_pointwise
    }
    assert pointwise == {"ForwardPartitioner", "RescalePartitioner"}
    assert BroadcastPartitioner.is_broadcast
    assert not RebalancePartitioner.is_broadcast


# -- setup ----------------------------------------------------------------------------


def test_copy_for_subtask_leaves_the_specification_untouched():
    spec = RebalancePartitioner()
    first = spec.copy_for_subtask(4, 1)
    second = spec.copy_for_subtask(4, 3)

    assert first is not spec and second is not first
    assert spec.num_channels == 0
    assert (first.num_channels, first.subtask_index) == (4, 1)
    assert (second.num_channels, second.subtask_index) == (4, 3)
    _pairs(first, [1, 2, 3])
    assert _round_robin_order(_pairs(second, [1, 2]), [1, 2]) == [3, 0]  # own state


@pytest.mark.parametrize("cls", [ForwardPartitioner, RebalancePartitioner, GlobalPartitioner])
def test_zero_channels_raise(cls):
    with pytest.raises(ValueError, match=f"{cls.name} partitioner needs at least one channel"):
        cls().copy_for_subtask(0, 0)


def test_base_class_has_no_channel_selection():
    with pytest.raises(NotImplementedError):
        StreamPartitioner().copy_for_subtask(2, 0).select_channel("x")


# -- FORWARD / GLOBAL -----------------------------------------------------------------


@pytest.mark.parametrize("cls", [ForwardPartitioner, GlobalPartitioner])
def test_forward_and_global_send_the_whole_batch_to_channel_0(cls):
    batch = list(range(10))
    partitioner = cls().copy_for_subtask(1 if cls is ForwardPartitioner else 4, 3)

    assert _pairs(partitioner, batch) == [(0, batch)]
    assert _pairs(partitioner, ["x"]) == [(0, ["x"])]
    assert partitioner.select_channel("anything") == 0


def test_global_sends_everything_to_channel_0_of_many():
    partitioner = GlobalPartitioner().copy_for_subtask(5, 2)

    for batch in ([1], list(range(7)), list(range(100))):
        assert _pairs(partitioner, batch) == [(0, batch)]


# -- REBALANCE ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num_channels", "subtask", "expected"),
    [
        # batches of sizes 3, 5, 1, 7 -> the channel of each record, in order
        (3, 0, [[0, 1, 2], [0, 1, 2, 0, 1], [2], [0, 1, 2, 0, 1, 2, 0]]),
        (3, 1, [[1, 2, 0], [1, 2, 0, 1, 2], [0], [1, 2, 0, 1, 2, 0, 1]]),
        (4, 6, [[2, 3, 0], [1, 2, 3, 0, 1], [2], [3, 0, 1, 2, 3, 0, 1]]),
        (1, 5, [[0, 0, 0], [0] * 5, [0], [0] * 7]),
    ],
)
def test_rebalance_round_robins_from_the_subtask_index_across_batches(
    num_channels, subtask, expected
):
    partitioner = RebalancePartitioner().copy_for_subtask(num_channels, subtask)
    sizes = [3, 5, 1, 7]
    start = 0
    actual = []
    for size in sizes:
        batch = list(range(start, start + size))
        start += size
        actual.append(_round_robin_order(_pairs(partitioner, batch), batch))

    assert actual == expected


def test_rebalance_route_agrees_with_repeated_select_channel():
    by_route = RebalancePartitioner().copy_for_subtask(5, 3)
    by_select = RebalancePartitioner().copy_for_subtask(5, 3)
    start = 0
    for size in [1, 2, 3, 4, 5, 6, 7, 11, 13]:
        batch = list(range(start, start + size))
        start += size
        expected = [by_select.select_channel(r) for r in batch]
        assert _round_robin_order(_pairs(by_route, batch), batch) == expected


def test_rebalance_keeps_record_order_within_a_channel():
    partitioner = RebalancePartitioner().copy_for_subtask(3, 0)

    assert _channels(_pairs(partitioner, list(range(8)))) == {
        0: [0, 3, 6],
        1: [1, 4, 7],
        2: [2, 5],
    }


def test_rebalance_skips_nothing_and_empty_batch_routes_nowhere():
    partitioner = RebalancePartitioner().copy_for_subtask(4, 1)

    assert _pairs(partitioner, []) == []
    assert _round_robin_order(_pairs(partitioner, ["a", "b"]), ["a", "b"]) == [1, 2]
    assert _channels(_pairs(partitioner, ["c"])) == {3: ["c"]}


# -- RESCALE --------------------------------------------------------------------------


def test_rescale_round_robins_within_its_channels_from_0_across_batches():
    partitioner = RescalePartitioner().copy_for_subtask(2, 5)
    orders = []
    start = 0
    for size in [3, 1, 4]:
        batch = list(range(start, start + size))
        start += size
        orders.append(_round_robin_order(_pairs(partitioner, batch), batch))

    assert orders == [[0, 1, 0], [1], [0, 1, 0, 1]]


def test_rescale_starts_at_0_whatever_the_subtask_index():
    for subtask in range(4):
        partitioner = RescalePartitioner().copy_for_subtask(3, subtask)
        assert _round_robin_order(_pairs(partitioner, [10, 11, 12, 13]), [10, 11, 12, 13]) == [
            0, 1, 2, 0,
        ]


# -- SHUFFLE --------------------------------------------------------------------------


def test_shuffle_sends_every_record_exactly_once_and_uses_all_channels():
    partitioner = ShufflePartitioner().copy_for_subtask(4, 0)
    batch = list(range(2000))

    routed = _pairs(partitioner, batch)
    where = _channel_per_record(routed)

    assert sum(len(records) for _, records in routed) == 2000
    assert sorted(where) == batch
    counts = Counter(where.values())
    assert sorted(counts) == [0, 1, 2, 3]
    assert min(counts.values()) >= 350  # mean 500; binomial sd ~19
    for _, records in routed:
        assert records == sorted(records)  # batch order is kept within a channel


def test_shuffle_select_channel_is_in_range():
    partitioner = ShufflePartitioner().copy_for_subtask(3, 0)

    assert {partitioner.select_channel(None) for _ in range(300)} == {0, 1, 2}


# -- BROADCAST ------------------------------------------------------------------------


def test_broadcast_sends_the_whole_batch_to_every_channel():
    partitioner = BroadcastPartitioner().copy_for_subtask(3, 1)
    batch = ["a", "b", "c", "d"]

    assert _pairs(partitioner, batch) == [(0, batch), (1, batch), (2, batch)]


def test_broadcast_has_no_single_channel():
    with pytest.raises(TypeError, match="BROADCAST selects every channel; use route"):
        BroadcastPartitioner().copy_for_subtask(3, 0).select_channel("a")


# -- HASH -----------------------------------------------------------------------------


def _first(record):
    return record[0]


@pytest.mark.parametrize(("num_channels", "max_p"), [(1, 128), (2, 128), (3, 128), (4, 10), (7, 7)])
def test_hash_sends_each_record_to_the_owner_of_its_key_group(num_channels, max_p):
    partitioner = KeyGroupStreamPartitioner(_first, max_p).copy_for_subtask(num_channels, 0)
    batch = [(f"k{i % 97}", i) for i in range(500)]

    routed = _pairs(partitioner, batch)

    assert sorted(r for _, records in routed for r in records) == sorted(batch)
    for channel, records in routed:
        assert records  # empty channels are skipped
        for record in records:
            assert channel == subtask_for_key(record[0], num_channels, max_p)
            assert channel == partitioner.select_channel(record)
        assert [r[1] for r in records] == sorted(r[1] for r in records)  # order kept


def test_hash_routes_equal_keys_of_different_types_together():
    partitioner = KeyGroupStreamPartitioner(_first).copy_for_subtask(4, 0)

    routed = _pairs(partitioner, [(1, "int"), (1.0, "float"), (True, "bool")])

    assert len(routed) == 1
    assert [r[1] for r in routed[0][1]] == ["int", "float", "bool"]


def test_hash_is_stable_across_calls_and_producer_subtasks():
    batch = [(i * 7919 % 1000, i) for i in range(3000)]
    expected = {r: subtask_for_key(r[0], 5, 128) for r in batch}

    for subtask in range(3):
        partitioner = KeyGroupStreamPartitioner(_first).copy_for_subtask(5, subtask)
        for _ in range(3):  # cold cache, then warm
            assert _channel_per_record(_pairs(partitioner, batch)) == expected


def test_hash_stays_correct_past_the_key_cache_limit(monkeypatch):
    monkeypatch.setattr(key_groups, "KEY_CACHE_LIMIT", 1000)
    partitioner = KeyGroupStreamPartitioner(_first).copy_for_subtask(6, 0)
    n = 5500  # more distinct keys than the cache holds
    keys = [f"key-{i}" for i in range(n)]

    for chunk in range(0, n, 1000):
        batch = [(k, None) for k in keys[chunk:chunk + 1000]]
        routed = _pairs(partitioner, batch)
        for channel, records in routed:
            assert all(subtask_for_key(r[0], 6, 128) == channel for r in records)
        assert len(partitioner._cache) <= 1000  # bounded: it starts over when full
    # The earliest keys, evicted from the cache by now, route as before.
    again = _pairs(partitioner, [(k, None) for k in keys[:2000]])
    for channel, records in again:
        assert all(subtask_for_key(r[0], 6, 128) == channel for r in records)


def test_hash_computes_each_of_100k_keys_once(monkeypatch):
    """The cache holds a job's 100k distinct keys (W3's customers), so routing them
    over and over computes each key's channel once, not once per record."""
    computed = Counter()

    def counting_subtask_for_key(key, parallelism, max_parallelism):
        computed[key] += 1
        return subtask_for_key(key, parallelism, max_parallelism)

    monkeypatch.setattr(partitioners, "subtask_for_key", counting_subtask_for_key)
    partitioner = KeyGroupStreamPartitioner(_first).copy_for_subtask(2, 0)
    batch = [(str(i), None) for i in range(100_000)]

    first = _pairs(partitioner, batch)
    assert _pairs(partitioner, batch) == first
    assert len(computed) == 100_000 and set(computed.values()) == {1}


def test_hash_raises_for_a_list_key():
    partitioner = KeyGroupStreamPartitioner(_first).copy_for_subtask(3, 0)

    with pytest.raises(UnsupportedKeyError, match="of type list is unhashable"):
        _pairs(partitioner, [(["a"], 1)])
    with pytest.raises(UnsupportedKeyError, match="of type list is unhashable"):
        _pairs(partitioner, [(("a", ["b"]), 1)])


def test_hash_result_does_not_depend_on_keys_seen_before():
    """``Decimal(1) == 1`` and numeric hashes are defined by value, so a Decimal key
    routes like the equal int, whether or not the int was routed (and cached) first."""
    fresh = KeyGroupStreamPartitioner(_first).copy_for_subtask(4, 0)
    expected = subtask_for_key(1, 4, 128)
    assert _pairs(fresh, [(Decimal(1), "decimal")]) == [(expected, [(Decimal(1), "decimal")])]

    warm = KeyGroupStreamPartitioner(_first).copy_for_subtask(4, 0)
    _pairs(warm, [(1, "int")])
    assert _pairs(warm, [(Decimal(1), "decimal")]) == [(expected, [(Decimal(1), "decimal")])]


@pytest.mark.parametrize(("num_channels", "max_p"), [(129, 128), (11, 10)])
def test_hash_with_more_channels_than_key_groups_raises_at_setup(num_channels, max_p):
    with pytest.raises(
        ValueError,
        match=rf"parallelism {num_channels} of a keyed operator exceeds max_parallelism {max_p}",
    ):
        KeyGroupStreamPartitioner(_first, max_p).copy_for_subtask(num_channels, 0)


def test_hash_with_as_many_channels_as_key_groups_gives_one_group_per_channel():
    partitioner = KeyGroupStreamPartitioner(lambda r: r, 8).copy_for_subtask(8, 0)

    routed = _pairs(partitioner, list(range(1000)))

    assert sorted(ch for ch, _ in routed) == list(range(8))


# -- CUSTOM ---------------------------------------------------------------------------


def test_custom_obeys_the_partition_function():
    seen = []

    def partition(key, num_partitions):
        seen.append((key, num_partitions))
        return key % num_partitions

    partitioner = CustomPartitionerWrapper(partition, lambda r: r[0]).copy_for_subtask(3, 1)
    batch = [(i, str(i)) for i in range(7)]

    assert _channels(_pairs(partitioner, batch)) == {
        0: [(0, "0"), (3, "3"), (6, "6")],
        1: [(1, "1"), (4, "4")],
        2: [(2, "2"), (5, "5")],
    }
    assert seen == [(i, 3) for i in range(7)]


@pytest.mark.parametrize("bad", [3, -1, 99])
def test_custom_out_of_range_channel_raises_naming_the_value(bad):
    partitioner = CustomPartitionerWrapper(lambda k, n: bad, lambda r: r).copy_for_subtask(3, 0)

    with pytest.raises(
        ValueError,
        match=rf"custom partitioner returned {bad} for key 'x'; it must return an int in \[0, 3\)",
    ):
        _pairs(partitioner, ["x", "y"])


@pytest.mark.parametrize(("bad", "shown"), [(1.0, r"1\.0"), ("1", "'1'"), (None, "None"), (True, "True")])
def test_custom_non_int_channel_raises_naming_the_value(bad, shown):
    partitioner = CustomPartitionerWrapper(lambda k, n: bad, lambda r: r).copy_for_subtask(3, 0)

    with pytest.raises(ValueError, match=rf"custom partitioner returned {shown} for key 'x'"):
        _pairs(partitioner, ["x"])


def test_custom_with_one_channel_still_checks_the_function():
    partitioner = CustomPartitionerWrapper(lambda k, n: 1, lambda r: r).copy_for_subtask(1, 0)

    with pytest.raises(ValueError, match=r"custom partitioner returned 1 for key 'x'"):
        _pairs(partitioner, ["x"])


# -- pointwise_targets ----------------------------------------------------------------


def test_pointwise_equal_parallelism_is_one_to_one():
    assert [list(pointwise_targets(i, 3, 3)) for i in range(3)] == [[0], [1], [2]]


def test_pointwise_fan_out():
    assert [list(pointwise_targets(i, 2, 4)) for i in range(2)] == [[0, 1], [2, 3]]
    assert [list(pointwise_targets(i, 1, 3)) for i in range(1)] == [[0, 1, 2]]


def test_pointwise_fan_in():
    assert [list(pointwise_targets(i, 4, 2)) for i in range(4)] == [[0], [0], [1], [1]]
    assert [list(pointwise_targets(i, 3, 1)) for i in range(3)] == [[0], [0], [0]]


@pytest.mark.parametrize("producers", range(1, 10))
@pytest.mark.parametrize("consumers", range(1, 10))
def test_pointwise_connects_every_consumer_in_contiguous_balanced_groups(producers, consumers):
    targets = [list(pointwise_targets(p, producers, consumers)) for p in range(producers)]
    producers_of = {c: [p for p in range(producers) if c in targets[p]] for c in range(consumers)}

    for group in targets:
        assert group, "every producer reaches a consumer"
        assert group == list(range(group[0], group[-1] + 1))
        assert all(0 <= c < consumers for c in group)
    for c, group in producers_of.items():
        assert group, f"consumer {c} has no producer"
        assert group == list(range(group[0], group[-1] + 1))
    if producers <= consumers:
        assert all(len(g) == 1 for g in producers_of.values())
        sizes = [len(g) for g in targets]
    else:
        assert all(len(g) == 1 for g in targets)
        sizes = [len(g) for g in producers_of.values()]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(
    "partitioner",
    [
        RebalancePartitioner(),
        ShufflePartitioner(),
        BroadcastPartitioner(),
        KeyGroupStreamPartitioner(lambda r: r % 5),
        CustomPartitionerWrapper(lambda k, n: k % n, lambda r: r),
    ],
    ids=str,
)
def test_timestamps_travel_with_their_records(partitioner):
    """Event timestamps are a parallel list; every partitioner keeps each one next to
    its record."""
    routed = partitioner.copy_for_subtask(3, 0).route(list(range(30)), [v * 10 for v in range(30)])
    for _, records, timestamps in routed:
        assert timestamps == [r * 10 for r in records]
