"""Tests for ``minicluster.graph.execution_graph`` (subtasks and channels) and for slot
assignment in ``minicluster.jobmanager.scheduler``.

Jobs are built through the public API and compiled without running. Topologies are
drawn as ``node(parallelism)``; ``-X->`` is a network edge with partitioner X.
"""

import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.errors import MiniClusterError, NotEnoughSlotsError
from minicluster.graph.execution_graph import Channel, build_execution_graph
from minicluster.graph.job_graph import compile_job_graph
from minicluster.jobmanager.scheduler import assign_slots, required_slots


def _env(parallelism=2):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def _seq(env, name="seq"):
    return env.from_source(NumberSequenceSource(1, 10), WatermarkStrategy.no_watermarks(), name)


def _identity(x):
    return x


def _two_stage(up, down, partition=lambda ds: ds):
    """seq(up) -?-> Map(down)"""
    env = _env(up)
    partition(_seq(env)).map(_identity).set_parallelism(down)
    return compile_job_graph(env.get_stream_graph())


def _pairs(execution_edge):
    return [(c.producer, c.consumer) for c in execution_edge.channels]


# -- channels per edge ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("up", "down", "partition", "name"),
    [
        (2, 3, lambda ds: ds, "REBALANCE"),
        (3, 3, lambda ds: ds.rebalance(), "REBALANCE"),
        (2, 2, lambda ds: ds.key_by(_identity), "HASH"),
        (3, 2, lambda ds: ds.shuffle(), "SHUFFLE"),
        (2, 4, lambda ds: ds.broadcast(), "BROADCAST"),
        (4, 2, lambda ds: ds.global_(), "GLOBAL"),
        (1, 3, lambda ds: ds.partition_custom(lambda k, n: 0, _identity), "CUSTOM"),
    ],
)
def test_all_to_all_edge_connects_every_producer_to_every_consumer(up, down, partition, name):
    execution_graph = build_execution_graph(_two_stage(up, down, partition))

    (edge,) = execution_graph.edges
    assert str(edge.job_edge.partitioner) == name
    assert len(edge.channels) == up * down
    assert _pairs(edge) == [(p, c) for p in range(up) for c in range(down)]


def test_forward_edge_has_one_channel_per_subtask():
    """seq(3) -FORWARD-> Map(3)   (chaining disabled)"""
    env = _env(3)
    _seq(env).map(_identity).disable_chaining()
    execution_graph = build_execution_graph(compile_job_graph(env.get_stream_graph()))

    (edge,) = execution_graph.edges
    assert str(edge.job_edge.partitioner) == "FORWARD"
    assert _pairs(edge) == [(0, 0), (1, 1), (2, 2)]


def test_rescale_fan_out_has_the_pointwise_pairs():
    """seq(2) -RESCALE-> Map(4): 0 -> {0, 1}, 1 -> {2, 3}"""
    execution_graph = build_execution_graph(_two_stage(2, 4, lambda ds: ds.rescale()))

    (edge,) = execution_graph.edges
    assert _pairs(edge) == [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert [c.consumer for c in edge.producer_channels(1)] == [2, 3]
    assert [c.producer for c in edge.consumer_channels(3)] == [1]


def test_rescale_fan_in_has_the_pointwise_pairs():
    """seq(4) -RESCALE-> Map(2): {0, 1} -> 0, {2, 3} -> 1"""
    execution_graph = build_execution_graph(_two_stage(4, 2, lambda ds: ds.rescale()))

    (edge,) = execution_graph.edges
    assert _pairs(edge) == [(0, 0), (1, 0), (2, 1), (3, 1)]
    assert [c.producer for c in edge.consumer_channels(0)] == [0, 1]
    assert [c.consumer for c in edge.producer_channels(2)] == [1]


@pytest.mark.parametrize(("up", "down"), [(1, 5), (3, 7), (7, 3), (5, 1), (4, 4)])
def test_rescale_gives_every_consumer_a_producer_and_every_producer_a_consumer(up, down):
    execution_graph = build_execution_graph(_two_stage(up, down, lambda ds: ds.rescale()))

    (edge,) = execution_graph.edges
    assert {c.producer for c in edge.channels} == set(range(up))
    assert {c.consumer for c in edge.channels} == set(range(down))
    assert len(edge.channels) == max(up, down)


def test_channel_ids_are_unique_and_dense_across_the_job():
    """seq(2) -HASH-> Keyed Reduce(2) -REBALANCE-> Map(3) -RESCALE-> Filter(6)"""
    env = _env(2)
    (
        _seq(env)
        .key_by(_identity).reduce(lambda a, b: a)
        .map(_identity).set_parallelism(3)
        .rescale().filter(_identity).set_parallelism(6)
    )
    execution_graph = build_execution_graph(compile_job_graph(env.get_stream_graph()))

    assert [len(e.channels) for e in execution_graph.edges] == [4, 6, 6]
    ids = [c.channel_id for e in execution_graph.edges for c in e.channels]
    assert sorted(ids) == list(range(16))


def test_producer_channels_are_ordered_by_consumer():
    execution_graph = build_execution_graph(_two_stage(2, 3))

    (edge,) = execution_graph.edges
    assert edge.producer_channels(1) == [Channel(3, 1, 0), Channel(4, 1, 1), Channel(5, 1, 2)]
    assert edge.consumer_channels(2) == [Channel(2, 0, 2), Channel(5, 1, 2)]


def test_subtasks_lists_every_parallel_instance():
    job_graph = _two_stage(2, 3)

    assert build_execution_graph(job_graph).subtasks() == [
        (1, 0), (1, 1), (2, 0), (2, 1), (2, 2),
    ]


def test_chained_job_has_no_channels():
    env = _env(4)
    _seq(env).map(_identity).filter(_identity)

    execution_graph = build_execution_graph(compile_job_graph(env.get_stream_graph()))

    assert execution_graph.edges == ()
    assert len(execution_graph.subtasks()) == 4


# -- slot assignment ------------------------------------------------------------------


def _job(parallelism, second_group=None):
    """seq(p) -HASH-> Keyed Reduce(p), the reduce optionally in its own group."""
    env = _env(parallelism)
    reduced = _seq(env).key_by(_identity).reduce(lambda a, b: a)
    if second_group is not None:
        reduced.slot_sharing_group(second_group[0]).set_parallelism(second_group[1])
    return compile_job_graph(env.get_stream_graph())


@pytest.mark.parametrize("parallelism", [1, 2, 5])
def test_one_sharing_group_needs_as_many_slots_as_its_parallelism(parallelism):
    assert required_slots(_job(parallelism)) == {"default": parallelism}


def test_a_group_needs_as_many_slots_as_its_widest_vertex():
    env = _env(2)
    _seq(env).map(_identity).set_parallelism(5).map(_identity).set_parallelism(3)

    assert required_slots(compile_job_graph(env.get_stream_graph())) == {"default": 5}


def test_two_groups_need_the_sum_of_their_widths():
    job_graph = _job(2, second_group=("other", 3))

    assert required_slots(job_graph) == {"default": 2, "other": 3}
    assignment = assign_slots(job_graph, tm_count=5, slots_per_tm=1)
    assert len(assignment) == 5
    # Slots 0-1 hold the default group, 2-4 the other group: one TM per slot here.
    assert sorted(assignment.values()) == [0, 1, 2, 3, 4]


def test_exactly_enough_slots_is_enough():
    job_graph = _job(4)

    assignment = assign_slots(job_graph, tm_count=2, slots_per_tm=2)

    assert set(assignment) == {(v, i) for v in job_graph.vertices for i in range(4)}


def test_too_few_slots_raises_saying_needed_and_available():
    job_graph = _job(2, second_group=("other", 3))

    with pytest.raises(
        NotEnoughSlotsError,
        match=r"needs 5 slots \(per slot sharing group: 'default': 2, 'other': 3\) but the "
        r"cluster has 4 \(2 TaskManagers x 2 slots\)",
    ):
        assign_slots(job_graph, tm_count=2, slots_per_tm=2)


def test_not_enough_slots_error_is_a_minicluster_error():
    assert issubclass(NotEnoughSlotsError, MiniClusterError)


def test_two_wide_group_on_two_taskmanagers_puts_subtask_i_on_taskmanager_i():
    job_graph = _job(2)

    assignment = assign_slots(job_graph, tm_count=2, slots_per_tm=4)

    for vertex_id in job_graph.vertices:
        assert assignment[(vertex_id, 0)] == 0
        assert assignment[(vertex_id, 1)] == 1


@pytest.mark.parametrize(
    ("parallelism", "second_group", "tm_count", "slots_per_tm"),
    [(4, None, 4, 1), (6, None, 3, 2), (3, ("b", 5), 4, 2), (1, ("b", 1), 2, 1), (7, None, 2, 4)],
)
def test_assignment_shares_slots_and_respects_slots_per_taskmanager(
    parallelism, second_group, tm_count, slots_per_tm
):
    job_graph = _job(parallelism, second_group)

    assignment = assign_slots(job_graph, tm_count, slots_per_tm)

    vertices = job_graph.vertices
    assert set(assignment) == {(v, i) for v in vertices for i in range(vertices[v].parallelism)}
    assert all(0 <= tm < tm_count for tm in assignment.values())
    # A slot is (group, subtask index): each one lives on exactly one TaskManager...
    slot_tm = {}
    for (vertex_id, subtask), tm in assignment.items():
        slot = (vertices[vertex_id].slot_sharing_group, subtask)
        assert slot_tm.setdefault(slot, tm) == tm
    # ...no TaskManager holds more slots than it has...
    per_tm = [sum(1 for tm in slot_tm.values() if tm == t) for t in range(tm_count)]
    assert max(per_tm) <= slots_per_tm
    # ...and slots are spread: TaskManager loads differ by at most one.
    assert max(per_tm) - min(per_tm) <= 1
