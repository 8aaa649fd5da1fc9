"""Each partitioner's routing, observed at run time on real TaskManager processes.

Every test tags records with the subtask that saw them (``Tag``, a MapFunction that
returns ``(subtask_index, value)``), collects the tagged records in the client and
checks them against the partitioner's contract:

    source (p) --[partitioner]--> Map: Tag (p') --> collect

The session cluster (2 TaskManagers x 2 slots) runs every job.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.functions import MapFunction, Partitioner
from minicluster.errors import JobExecutionError
from minicluster.state import subtask_for_key


@pytest.fixture
def stream_env(stream_env):
    """The plugin's environment with a default parallelism of 2 instead of the CPU
    count, so that chains and sink parallelism are the same on every machine."""
    return stream_env.set_parallelism(2)


class Tag(MapFunction):
    """``value -> (index of the subtask that saw it, value)``."""

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        return (self.subtask, value)


def numbers(env, first, last, parallelism):
    return env.from_source(
        NumberSequenceSource(first, last), WatermarkStrategy.no_watermarks(), "numbers"
    ).set_parallelism(parallelism)


def shares(first, last, parallelism):
    """The contiguous share of ``first..last`` each NumberSequenceSource subtask reads."""
    count = last - first + 1
    return [
        range(first + count * i // parallelism, first + count * (i + 1) // parallelism)
        for i in range(parallelism)
    ]


def ship_strategy(env, source_name, target_name):
    """``(ship strategy, chained?)`` of the edge between two named operators, from
    the execution plan."""
    nodes = json.loads(env.get_execution_plan())["nodes"]
    ids = {node["type"]: node["id"] for node in nodes}
    (target,) = [node for node in nodes if node["id"] == ids[target_name]]
    (edge,) = [p for p in target["predecessors"] if p["id"] == ids[source_name]]
    return edge["ship_strategy"], edge["chained"]


# -- FORWARD ------------------------------------------------------------------------


@pytest.mark.parametrize("chained", [True, False], ids=["chained", "network"])
def test_forward_keeps_producer_subtask_i_on_consumer_subtask_i(stream_env, chained):
    """source (p=2) -> Map: Tag (producer) -FORWARD-> Map: Tag (consumer), p=2."""
    producers = numbers(stream_env, 0, 999, 2).map(Tag()).name("producer").set_parallelism(2)
    consumer = producers.forward().map(Tag()).name("consumer").set_parallelism(2)
    if not chained:
        consumer.disable_chaining()
    assert ship_strategy(stream_env, "producer", "consumer") == ("FORWARD", chained)

    out = list(consumer.execute_and_collect())

    assert sorted(value for _, (_, value) in out) == list(range(1000))
    share = shares(0, 999, 2)
    for consumer_index, (producer_index, value) in out:
        assert value in share[producer_index]  # subtask i reads the i-th share
        assert consumer_index == producer_index, (value, producer_index, consumer_index)
    assert Counter(c for c, _ in out) == {0: 500, 1: 500}


# -- HASH ---------------------------------------------------------------------------


@pytest.mark.parametrize("parallelism", [2, 3, 4])
def test_hash_sends_every_occurrence_of_a_key_to_its_key_group_owner(stream_env, parallelism):
    def key_of(value):
        # str, int and tuple keys: each kind must route by its stable hash.
        kind = value % 3
        if kind == 0:
            return f"word-{value % 41}"
        if kind == 1:
            return value % 29
        return ("pair", value % 17)

    out = list(
        numbers(stream_env, 0, 2999, 2)
        .key_by(key_of)
        .map(Tag())
        .set_parallelism(parallelism)
        .execute_and_collect()
    )

    assert sorted(value for _, value in out) == list(range(3000))
    seen_by: dict[object, set[int]] = defaultdict(set)
    for subtask, value in out:
        seen_by[key_of(value)].add(subtask)
    assert len(seen_by) == 41 + 29 + 17
    for key, subtasks in seen_by.items():
        assert subtasks == {subtask_for_key(key, parallelism, 128)}, key
    # The keys spread over every subtask (else the check above proves little).
    assert set().union(*seen_by.values()) == set(range(parallelism))


def test_hash_routing_follows_the_configured_max_parallelism(stream_env):
    """Key groups come from ``pipeline.max-parallelism``, not from the default 128."""
    stream_env.set_max_parallelism(256)
    keys = [f"key-{i}" for i in range(64)]
    # Sanity: with these keys the two max parallelisms route differently.
    assert any(subtask_for_key(k, 2, 256) != subtask_for_key(k, 2, 128) for k in keys)

    out = list(
        stream_env.from_collection(keys)
        .key_by(lambda key: key)
        .map(Tag())
        .set_parallelism(2)
        .execute_and_collect()
    )

    assert sorted(out) == sorted((subtask_for_key(k, 2, 256), k) for k in keys)


# -- REBALANCE ----------------------------------------------------------------------


@pytest.mark.parametrize("parallelism", [2, 3])
def test_rebalance_round_robins_in_source_order_starting_at_subtask_0(stream_env, parallelism):
    # Small batches, so the round robin must carry on across batch boundaries.
    stream_env.configure({"minicluster.batch-size": "7"})
    records = [f"r{i}" for i in range(50)]

    out = list(
        stream_env.from_collection(records)  # non-parallel: one producer, in order
        .rebalance()
        .map(Tag())
        .set_parallelism(parallelism)
        .execute_and_collect()
    )

    position = {record: i for i, record in enumerate(records)}
    assert sorted(out, key=lambda pair: position[pair[1]]) == [
        (i % parallelism, record) for i, record in enumerate(records)
    ]


# -- BROADCAST ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "producers,consumers", [(1, 3), (2, 4)], ids=["1-to-3", "2-to-4"]
)
def test_broadcast_reaches_every_subtask_once(stream_env, producers, consumers):
    out = list(
        numbers(stream_env, 0, 99, producers)
        .broadcast()
        .map(Tag())
        .set_parallelism(consumers)
        .execute_and_collect()
    )

    assert Counter(out) == Counter(
        {(subtask, value): 1 for subtask in range(consumers) for value in range(100)}
    )


# -- RESCALE ------------------------------------------------------------------------


def test_rescale_fans_out_within_the_producers_group(stream_env):
    """numbers (p=2) -> Map: Tag (p=2) -RESCALE-> Map: Tag (p=4):
    producer 0 reaches consumers {0, 1}, producer 1 reaches {2, 3}, round robin."""
    out = list(
        numbers(stream_env, 0, 199, 2)
        .map(Tag())
        .set_parallelism(2)
        .rescale()
        .map(Tag())
        .set_parallelism(4)
        .execute_and_collect()
    )

    assert sorted(value for _, (_, value) in out) == list(range(200))
    groups = {0: (0, 1), 1: (2, 3)}
    share = shares(0, 199, 2)
    for consumer, (producer, value) in out:
        assert value in share[producer]
        # The k-th record of a producer goes to the (k mod 2)-th consumer of its group.
        k = value - share[producer].start
        assert consumer == groups[producer][k % 2], (producer, value, consumer)


def test_rescale_merges_producer_groups_into_fewer_consumers(stream_env):
    """p=4 -RESCALE-> p=2: producers {0, 1} feed consumer 0, {2, 3} feed consumer 1."""
    out = list(
        numbers(stream_env, 0, 399, 4)
        .map(Tag())
        .set_parallelism(4)
        .rescale()
        .map(Tag())
        .set_parallelism(2)
        .execute_and_collect()
    )

    assert sorted(value for _, (_, value) in out) == list(range(400))
    assert {(producer, consumer) for consumer, (producer, _) in out} == {
        (0, 0), (1, 0), (2, 1), (3, 1),
    }


@pytest.mark.parametrize(
    "producers,consumers,links",
    [
        # Flink's EdgeManagerBuildUtil.connectPointwise: on fan-out producer i reaches
        # [ceil(i*C/P), ceil((i+1)*C/P)); on fan-in consumer j reads from
        # [floor(j*P/C), floor((j+1)*P/C)).
        (2, 3, {(0, 0), (0, 1), (1, 2)}),
        (3, 2, {(0, 0), (1, 1), (2, 1)}),
        (3, 4, {(0, 0), (0, 1), (1, 2), (2, 3)}),
    ],
    ids=["2-to-3", "3-to-2", "3-to-4"],
)
def test_rescale_with_uneven_parallelism_follows_flinks_pointwise_rule(
    stream_env, producers, consumers, links
):
    out = list(
        numbers(stream_env, 0, 599, producers)
        .map(Tag())
        .set_parallelism(producers)
        .rescale()
        .map(Tag())
        .set_parallelism(consumers)
        .execute_and_collect()
    )

    assert sorted(value for _, (_, value) in out) == list(range(600))
    assert {(producer, consumer) for consumer, (producer, _) in out} == links


# -- GLOBAL and SHUFFLE -------------------------------------------------------------


def test_global_sends_everything_to_subtask_0(stream_env):
    out = list(
        numbers(stream_env, 0, 999, 2)
        .global_()
        .map(Tag())
        .set_parallelism(3)
        .execute_and_collect()
    )

    assert sorted(out) == [(0, value) for value in range(1000)]


def test_shuffle_delivers_every_record_exactly_once(stream_env):
    out = list(
        numbers(stream_env, 0, 2999, 2)
        .shuffle()
        .map(Tag())
        .set_parallelism(3)
        .execute_and_collect()
    )

    assert sorted(value for _, value in out) == list(range(3000))
    # 3000 uniform draws over 3 channels: each is used (P(miss) ~ 3 * (2/3)^3000).
    assert {subtask for subtask, _ in out} == {0, 1, 2}


# -- CUSTOM -------------------------------------------------------------------------


class ByLastDigit(Partitioner):
    def partition(self, key, num_partitions):
        return (key % 10) % num_partitions


@pytest.mark.parametrize(
    "partitioner,expected",
    [
        (lambda key, n: (key * 7 + 1) % n, lambda key, n: (key * 7 + 1) % n),
        (ByLastDigit(), lambda key, n: (key % 10) % n),
    ],
    ids=["callable", "Partitioner"],
)
def test_custom_partitioner_picks_the_channel(stream_env, partitioner, expected):
    out = list(
        numbers(stream_env, 0, 499, 2)
        .partition_custom(partitioner, lambda value: value // 3)
        .map(Tag())
        .set_parallelism(3)
        .execute_and_collect()
    )

    assert sorted(out) == sorted((expected(v // 3, 3), v) for v in range(500))


@pytest.mark.parametrize("consumers", [1, 2])
def test_custom_partitioner_out_of_range_fails_the_job(stream_env, consumers):
    stream = (
        stream_env.from_collection([10, 11, 12])
        .partition_custom(lambda key, n: n + 5 if key == 11 else 0, lambda value: value)
        .map(Tag())
        .set_parallelism(consumers)
    )

    with pytest.raises(JobExecutionError) as raised:
        list(stream.execute_and_collect())

    message = str(raised.value)
    assert f"custom partitioner returned {consumers + 5} for key 11" in message
    assert f"[0, {consumers})" in message
    assert raised.value.error_type == "ValueError"
