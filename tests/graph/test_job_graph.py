"""Tests for ``minicluster.graph.job_graph``: StreamGraph -> JobGraph compilation
(parallelism, partitioners, slot sharing, chaining) and the JSON execution plan.

Graphs are built through the public DataStream API and compiled without running.
Topologies are drawn as ``node(parallelism)``; ``=>`` is a chained edge, ``-X->`` a
network edge with partitioner X.
"""

import json

import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.errors import InvalidProgramError
from minicluster.graph.job_graph import (
    DEFAULT_SLOT_SHARING_GROUP,
    ChainedNode,
    compile_job_graph,
)
from minicluster.state import subtask_for_key



def _pairs(partitioner, batch):
    """``route()`` of a batch without timestamps, as ``(channel, records)`` pairs."""
    routed = partitioner.route(batch)
    assert all(timestamps is None for _, _, timestamps in routed)
    return [(channel, records) for channel, records, _ in routed]

def _env(parallelism=2):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def _seq(env, name="seq"):
    return env.from_source(NumberSequenceSource(1, 10), WatermarkStrategy.no_watermarks(), name)


def _compile(env):
    return compile_job_graph(env.get_stream_graph())


def _names(job_graph):
    return [v.name for _, v in sorted(job_graph.vertices.items())]


def _edges(job_graph):
    """``(source vertex name, partitioner, target vertex name)`` per network edge."""
    v = job_graph.vertices
    return [
        (v[e.source_vertex].name, str(e.partitioner), v[e.target_vertex].name)
        for e in job_graph.edges
    ]


def _identity(x):
    return x


def _keep(x):
    return True


# -- chaining -------------------------------------------------------------------------


def test_source_map_filter_at_equal_parallelism_fuse_into_one_vertex():
    """seq(2) => Map(2) => Filter(2)"""
    env = _env(2)
    _seq(env).map(_identity).filter(_keep)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map -> Filter"]
    assert job_graph.edges == ()
    (vertex,) = job_graph.vertices.values()
    assert vertex.parallelism == 2
    assert vertex.is_source
    assert vertex.slot_sharing_group == DEFAULT_SLOT_SHARING_GROUP == "default"
    assert vertex.chain == (
        ChainedNode(1, "Source: seq", ((2, None),)),
        ChainedNode(2, "Map", ((3, None),)),
        ChainedNode(3, "Filter", ()),
    )
    assert vertex.head.node_id == 1
    assert job_graph.vertex_of_node == {1: 1, 2: 1, 3: 1}


def test_collection_source_chains_at_parallelism_one():
    """Collection Source(1) => Map(1) => Filter(1) => Print(1)"""
    env = _env(1)
    env.from_collection([1, 2, 3]).map(_identity).filter(_keep).print()

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: Collection Source -> Map -> Filter -> Print to Std. Out"]


def test_collection_source_is_non_parallel_and_rebalances_to_a_parallel_map():
    """Collection Source(1) -REBALANCE-> Map(4)"""
    env = _env(4)
    env.from_collection([1, 2, 3]).map(_identity)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: Collection Source", "Map"]
    assert [v.parallelism for _, v in sorted(job_graph.vertices.items())] == [1, 4]
    assert _edges(job_graph) == [("Source: Collection Source", "REBALANCE", "Map")]


def test_key_by_breaks_the_chain_with_a_hash_edge():
    """seq(2) => Map(2) -HASH-> Keyed Reduce(2) => Print(2)"""
    env = _env(2)
    _seq(env).map(_identity).key_by(lambda x: x % 3).reduce(lambda a, b: a + b).print()

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map", "Keyed Reduce -> Print to Std. Out"]
    assert _edges(job_graph) == [
        ("Source: seq -> Map", "HASH", "Keyed Reduce -> Print to Std. Out")
    ]
    (edge,) = job_graph.edges
    assert (edge.source_node, edge.target_node, edge.input_index) == (2, 3, 0)
    assert (edge.source_vertex, edge.target_vertex) == (1, 3)


def test_different_parallelism_breaks_the_chain_with_rebalance():
    """seq(2) -REBALANCE-> Map(3) -REBALANCE-> Filter(2)"""
    env = _env(2)
    _seq(env).map(_identity).set_parallelism(3).filter(_keep)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq", "Map", "Filter"]
    assert _edges(job_graph) == [
        ("Source: seq", "REBALANCE", "Map"),
        ("Map", "REBALANCE", "Filter"),
    ]
    assert [v.parallelism for _, v in sorted(job_graph.vertices.items())] == [2, 3, 2]


def test_disable_chaining_isolates_the_operator():
    """seq(2) -FORWARD-> Map(2, chaining disabled) -FORWARD-> Filter(2)"""
    env = _env(2)
    _seq(env).map(_identity).disable_chaining().filter(_keep)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq", "Map", "Filter"]
    assert _edges(job_graph) == [
        ("Source: seq", "FORWARD", "Map"),
        ("Map", "FORWARD", "Filter"),
    ]


def test_start_new_chain_begins_a_chain_that_later_operators_join():
    """seq(2) => Map(2) -FORWARD-> Filter(2, new chain) => Print(2)"""
    env = _env(2)
    _seq(env).map(_identity).filter(_keep).start_new_chain().print()

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map", "Filter -> Print to Std. Out"]
    assert _edges(job_graph) == [("Source: seq -> Map", "FORWARD", "Filter -> Print to Std. Out")]


def test_different_slot_sharing_group_breaks_the_chain_and_is_inherited():
    """seq(2) => Map(2) -FORWARD-> Filter(2, group 'other') => Print(2, inherits 'other')"""
    env = _env(2)
    _seq(env).map(_identity).filter(_keep).slot_sharing_group("other").print()

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map", "Filter -> Print to Std. Out"]
    groups = [v.slot_sharing_group for _, v in sorted(job_graph.vertices.items())]
    assert groups == ["default", "other"]
    assert _edges(job_graph) == [("Source: seq -> Map", "FORWARD", "Filter -> Print to Std. Out")]


def test_union_of_different_groups_falls_back_to_the_default_group():
    env = _env(1)
    a = _seq(env, "a").slot_sharing_group("x")
    b = _seq(env, "b").slot_sharing_group("y")
    a.union(b).map(_identity)

    job_graph = _compile(env)

    assert {v.name: v.slot_sharing_group for v in job_graph.vertices.values()} == {
        "Source: a": "x",
        "Source: b": "y",
        "Map": "default",
    }


def test_node_with_two_inputs_is_not_chained():
    """seq(2) => Map(2) -FORWARD-+
       seq(2) => Flat Map(2) -FORWARD-+-> Filter(2) => Print(2)   (the union)"""
    env = _env(2)
    source = _seq(env)
    left = source.map(_identity)
    right = source.flat_map(lambda x: [x])
    left.union(right).filter(_keep).print()

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map -> Flat Map", "Filter -> Print to Std. Out"]
    assert [(e.source_node, str(e.partitioner), e.target_node) for e in job_graph.edges] == [
        (2, "FORWARD", 4),
        (3, "FORWARD", 4),
    ]


def test_union_of_two_sources_is_not_chained_to_either():
    env = _env(2)
    _seq(env, "a").union(_seq(env, "b")).map(_identity)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: a", "Source: b", "Map"]
    assert _edges(job_graph) == [("Source: a", "FORWARD", "Map"), ("Source: b", "FORWARD", "Map")]


def test_fan_out_chains_both_branches_into_a_tree():
    """seq(2) => Map(2)
              => Map(2)"""
    env = _env(2)
    source = _seq(env)
    source.map(_identity)
    source.map(_identity)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map -> Map"]
    (vertex,) = job_graph.vertices.values()
    assert vertex.chain == (
        ChainedNode(1, "Source: seq", ((2, None), (3, None))),
        ChainedNode(2, "Map", ()),
        ChainedNode(3, "Map", ()),
    )
    assert job_graph.edges == ()


def test_fan_out_chains_one_branch_and_ships_the_other():
    """seq(2) => Map(2);  seq(2) -HASH-> Keyed Reduce(2)"""
    env = _env(2)
    source = _seq(env)
    source.map(_identity)
    source.key_by(_identity).reduce(lambda a, b: a)

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: seq -> Map", "Keyed Reduce"]
    assert _edges(job_graph) == [("Source: seq -> Map", "HASH", "Keyed Reduce")]
    assert job_graph.edges[0].source_node == 1


def test_explicit_forward_at_equal_parallelism_chains():
    env = _env(3)
    _seq(env).forward().map(_identity)

    assert _names(_compile(env)) == ["Source: seq -> Map"]


@pytest.mark.parametrize(
    ("partition", "name"),
    [
        (lambda ds: ds.rebalance(), "REBALANCE"),
        (lambda ds: ds.rescale(), "RESCALE"),
        (lambda ds: ds.shuffle(), "SHUFFLE"),
        (lambda ds: ds.broadcast(), "BROADCAST"),
        (lambda ds: ds.global_(), "GLOBAL"),
        (lambda ds: ds.partition_custom(lambda k, n: 0, _identity), "CUSTOM"),
    ],
)
def test_explicit_partitioning_at_equal_parallelism_breaks_the_chain(partition, name):
    env = _env(2)
    partition(_seq(env)).map(_identity)

    job_graph = _compile(env)

    assert _edges(job_graph) == [("Source: seq", name, "Map")]


def test_sources_never_chain_to_anything_upstream():
    env = _env(1)
    _seq(env, "a")
    _seq(env, "b")

    job_graph = _compile(env)

    assert _names(job_graph) == ["Source: a", "Source: b"]
    assert all(v.is_source for v in job_graph.vertices.values())


# -- invalid programs -----------------------------------------------------------------


def test_forward_between_different_parallelisms_raises_naming_both_operators():
    env = _env(2)
    _seq(env).forward().map(_identity).name("Widen").set_parallelism(3)

    with pytest.raises(
        InvalidProgramError,
        match=r"forward partitioning does not allow a change of parallelism: "
        r"'Source: seq' has 2, 'Widen' has 3; use rebalance\(\) or rescale\(\)",
    ):
        _compile(env)


def test_set_parallelism_on_from_collection_raises():
    env = _env(1)
    with pytest.raises(
        InvalidProgramError,
        match=r"operator 'Source: Collection Source' is non-parallel \(at most 1\) but "
        r"set_parallelism\(2\) was called on it",
    ):
        env.from_collection([1, 2]).set_parallelism(2).map(_identity)
        _compile(env)


def test_parallelism_above_max_parallelism_raises():
    env = _env(2)
    env.set_max_parallelism(4)
    _seq(env).map(_identity).set_parallelism(5)

    with pytest.raises(
        InvalidProgramError, match=r"operator 'Map': parallelism 5 exceeds max parallelism 4"
    ):
        _compile(env)


def test_empty_program_raises():
    with pytest.raises(InvalidProgramError, match="no operators defined in the job"):
        _compile(_env())


def test_invalid_program_error_is_a_value_error():
    assert issubclass(InvalidProgramError, ValueError)


# -- max parallelism reaches the keyed edge -------------------------------------------


@pytest.mark.parametrize(
    ("env_max", "operator_max", "expected"),
    [(16, None, 16), (256, None, 256), (128, 32, 32)],
    ids=["env-16", "env-256", "operator-32"],
)
def test_hash_edge_uses_the_keyed_operators_max_parallelism(env_max, operator_max, expected):
    """Key groups are numbered in [0, max parallelism of the keyed operator); the
    HASH partitioner feeding it must use that same number, or records reach subtasks
    that do not own their key group (and parallelism > 128 fails at setup)."""
    env = _env(4)
    env.set_max_parallelism(env_max)
    keyed = _seq(env).key_by(_identity).reduce(lambda a, b: a)
    if operator_max is not None:
        keyed.set_max_parallelism(operator_max)

    job_graph = _compile(env)

    (edge,) = job_graph.edges
    target = job_graph.vertices[edge.target_vertex]
    assert target.max_parallelism == expected
    assert edge.partitioner.max_parallelism == expected
    partitioner = edge.partitioner.copy_for_subtask(4, 0)
    routed = dict(_pairs(partitioner, list(range(200))))
    for channel, records in routed.items():
        assert all(subtask_for_key(r, 4, expected) == channel for r in records)


def test_keyed_operator_wider_than_128_compiles_and_sets_up_with_a_raised_max():
    env = _env(2)
    env.set_max_parallelism(512)
    _seq(env).key_by(_identity).reduce(lambda a, b: a).set_parallelism(200)

    (edge,) = _compile(env).edges
    edge.partitioner.copy_for_subtask(200, 0)  # must not raise


# -- the execution plan ---------------------------------------------------------------


def test_execution_plan_json_lists_nodes_with_ship_strategies_and_chains():
    env = _env(2)
    source = _seq(env)
    source.map(_identity).key_by(_identity).reduce(lambda a, b: a).print()
    source.map(_identity).set_parallelism(3).print().set_parallelism(3)

    plan = json.loads(env.get_execution_plan())

    summary = [
        (
            n["id"], n["type"], n["pact"], n["parallelism"], n["chain"],
            [(p["id"], p["ship_strategy"]) for p in n.get("predecessors", [])],
        )
        for n in plan["nodes"]
    ]
    assert summary == [
        (1, "Source: seq", "Data Source", 2, 1, []),
        (2, "Map", "Operator", 2, 1, [(1, "FORWARD")]),
        (3, "Keyed Reduce", "Operator", 2, 3, [(2, "HASH")]),
        (4, "Print to Std. Out", "Data Sink", 2, 3, [(3, "FORWARD")]),
        (5, "Map", "Operator", 3, 5, [(1, "REBALANCE")]),
        (6, "Print to Std. Out", "Data Sink", 3, 5, [(5, "FORWARD")]),
    ]
    assert "predecessors" not in plan["nodes"][0]
    assert plan["nodes"][1]["predecessors"][0]["chained"] is True
    assert plan["nodes"][2]["predecessors"][0]["chained"] is False
    assert plan["nodes"][3]["chain_name"] == "Keyed Reduce -> Print to Std. Out"


def test_execution_plan_chain_ids_are_job_vertex_ids():
    env = _env(2)
    _seq(env).map(_identity).disable_chaining().filter(_keep)

    plan = json.loads(env.get_execution_plan())
    job_graph = _compile(env)

    assert [n["chain"] for n in plan["nodes"]] == [
        job_graph.vertex_of_node[n["id"]] for n in plan["nodes"]
    ]
    assert [n["chain"] for n in plan["nodes"]] == [1, 2, 3]
    assert plan["nodes"][1]["predecessors"] == [
        {"id": 1, "ship_strategy": "FORWARD", "side": "first", "chained": False}
    ]


def test_building_the_plan_does_not_consume_the_graph():
    env = _env(2)
    _seq(env).map(_identity)

    first = env.get_execution_plan()

    assert env.get_execution_plan() == first
    assert _names(_compile(env)) == ["Source: seq -> Map"]
