"""Pipelined regions and BATCH waves: pure passes over a compiled JobGraph."""

from __future__ import annotations

import pytest

from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.functions import CoMapFunction
from minicluster.graph.job_graph import compile_job_graph
from minicluster.graph.regions import PipelinedRegion, pipelined_regions
from minicluster.jobmanager.batch_scheduler import ready_regions, region_waves


def _word_count_graph(parallelism=4):
    env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(parallelism)
    (
        env.from_collection(["a b", "b"]).flat_map(str.split)
        .key_by(lambda w: w).map(lambda w: (w, 1)).rebalance().add_sink(lambda v: None)
    )
    return compile_job_graph(env.get_stream_graph("wc"))


def test_every_blocking_edge_is_a_region_boundary():
    job_graph = _word_count_graph()
    regions = pipelined_regions(job_graph)

    assert [len(r.vertices) for r in regions] == [1, 1, 1, 1]
    assert [r.inputs for r in regions] == [(), (0,), (1,), (2,)]
    assert repr(regions[1]) == f"Region(1: vertices [{regions[1].vertices[0]}] <- [0])"


def test_without_blocking_edges_a_connected_job_is_one_region():
    job_graph = _word_count_graph()
    (region,) = pipelined_regions(job_graph, blocking=lambda edge: False)
    assert region.vertices == tuple(job_graph.vertices)
    assert region.inputs == ()


class _Both(CoMapFunction):
    def map1(self, value):
        return value

    def map2(self, value):
        return value


def test_a_join_of_two_sources_waits_for_both():
    env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(2)
    left = env.from_collection([1]).key_by(lambda v: v)
    right = env.from_collection([2]).key_by(lambda v: v)
    left.connect(right).map(_Both()).add_sink(lambda v: None)
    regions = pipelined_regions(compile_job_graph(env.get_stream_graph("join")))

    assert [r.inputs for r in regions] == [(), (), (0, 1)]
    assert ready_regions(regions, finished={0}, running=set()) == [regions[1]]
    assert ready_regions(regions, finished={0, 1}, running=set()) == [regions[2]]


def test_a_region_wider_than_the_cluster_runs_in_waves():
    job_graph = _word_count_graph(parallelism=4)
    region = pipelined_regions(job_graph)[1]
    (vertex,) = region.vertices

    assert region_waves(job_graph, region, tm_count=1, slots_per_tm=1) == [
        {(vertex, 0): 0}, {(vertex, 1): 0}, {(vertex, 2): 0}, {(vertex, 3): 0},
    ]
    assert region_waves(job_graph, region, tm_count=2, slots_per_tm=1) == [
        {(vertex, 0): 0, (vertex, 1): 1}, {(vertex, 2): 0, (vertex, 3): 1},
    ]
    assert region_waves(job_graph, region, tm_count=2, slots_per_tm=2) == [
        {(vertex, 0): 0, (vertex, 1): 1, (vertex, 2): 0, (vertex, 3): 1},
    ]


def test_a_region_must_consume_earlier_regions():
    with pytest.raises(ValueError, match="inputs must come earlier"):
        PipelinedRegion(0, (1,), (0,))
