"""BATCH execution end to end: stage by stage over spill files, on real clusters."""

from __future__ import annotations

import collections
import os

import pytest

from minicluster.common import Duration, Time, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.window import TumblingEventTimeWindows
from minicluster.errors import JobExecutionError
from minicluster.jobmanager.cluster import MiniCluster
from minicluster.testing import assert_equal_unordered

LINES = [
    " ".join(f"w{(i * 7 + j * 13) % 37}" for j in range(i % 9 + 1)) for i in range(400)
] + ["", "solo"]
WORDS = [w for line in LINES for w in line.split()]


def batch_env(parallelism: int, **config: str) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.batch-size": "64", **config}
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    return env


def word_count(env: StreamExecutionEnvironment):
    return (
        env.from_collection(LINES)
        .flat_map(lambda line: line.split())
        .map(lambda word: (word, 1))
        .key_by(lambda pair: pair[0])
        .sum(1)
    )


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_w1_word_count_emits_one_final_count_per_word(minicluster_cluster, parallelism):
    result = list(word_count(batch_env(parallelism)).execute_and_collect())

    assert len(result) == len(set(WORDS)), "one result per word, not running sums"
    assert collections.Counter(dict(result)) == collections.Counter(WORDS)


@pytest.mark.parametrize("aggregate", ["reduce", "min", "max", "min_by", "max_by"])
def test_reduce_like_operators_emit_only_the_final_value(minicluster_cluster, aggregate):
    data = [(k, v) for v in range(50) for k in "abc"]
    keyed = batch_env(2).from_collection(data).key_by(lambda t: t[0])
    if aggregate == "reduce":
        stream = keyed.reduce(lambda a, b: (a[0], a[1] + b[1]))
        expected = [(k, sum(range(50))) for k in "abc"]
    else:
        stream = getattr(keyed, aggregate)(1)
        best = 0 if aggregate.startswith("min") else 49
        expected = [(k, best) for k in "abc"]
    assert_equal_unordered(list(stream.execute_and_collect()), expected)


def test_parallelism_4_runs_in_waves_on_a_single_slot():
    with MiniCluster(taskmanagers=1, slots_per_taskmanager=1) as cluster, cluster.activate():
        result = list(word_count(batch_env(4)).execute_and_collect())
    assert collections.Counter(dict(result)) == collections.Counter(WORDS)
    assert len(result) == len(set(WORDS))


EVENTS = [(f"k{i % 5}", i * 137, i) for i in range(3000)]  # (key, timestamp ms, value)


def window_sums(mode: RuntimeExecutionMode) -> list:
    env = StreamExecutionEnvironment.get_execution_environment({"minicluster.batch-size": "100"})
    env.set_runtime_mode(mode)
    env.set_parallelism(2)
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_millis(500)
    ).with_timestamp_assigner(lambda event, _: event[1])
    return list(
        env.from_collection(EVENTS)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda e: e[0])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .reduce(lambda a, b: (a[0], max(a[1], b[1]), a[2] + b[2]))
        .execute_and_collect()
    )


def test_event_time_windows_fire_at_end_of_input_with_streaming_results(minicluster_cluster):
    batch = window_sums(RuntimeExecutionMode.BATCH)
    assert len(batch) > 5 * 30
    assert_equal_unordered(batch, window_sums(RuntimeExecutionMode.STREAMING))


def spill_folders(base) -> list[str]:
    return [name for name in os.listdir(base) if name.startswith("minicluster-spill-")]


def test_spill_files_exist_while_the_job_runs_and_are_removed_after(
    minicluster_cluster, tmp_path
):
    base = str(tmp_path)

    def list_spill_files(word):
        folders = spill_folders(base)
        return [name for folder in folders for name in os.listdir(os.path.join(base, folder))]

    env = batch_env(2, **{"io.tmp.dirs": base})
    listings = list(
        env.from_collection(WORDS).rebalance().map(list_spill_files).execute_and_collect()
    )

    assert len(listings) == len(WORDS)
    # The (non-parallel) collection source's finished partition, data and index, was
    # there when the map of the second stage ran.
    assert {"edge0-subtask0.data", "edge0-subtask0.index"} <= set(listings[0])
    assert spill_folders(base) == []


def test_no_spill_folder_is_left_after_a_failure(minicluster_cluster, tmp_path):
    def fail_on_solo(word):
        if word == "solo":
            raise ValueError("bad word")
        return word

    env = batch_env(2, **{"io.tmp.dirs": str(tmp_path)})
    env.from_collection(WORDS).rebalance().map(fail_on_solo).add_sink(lambda v: None)
    with pytest.raises(JobExecutionError, match="bad word"):
        env.execute("fails")
    assert spill_folders(tmp_path) == []


def test_no_spill_folder_is_left_after_cancel(minicluster_cluster, tmp_path):
    env = batch_env(2, **{"io.tmp.dirs": str(tmp_path)})
    results = env.from_collection(WORDS).rebalance().map(str.upper).execute_and_collect()
    first = next(results)
    assert spill_folders(tmp_path) != []  # the job is in its second stage
    results.close()  # cancels the job

    assert first.startswith("W") or first == "SOLO"
    assert spill_folders(tmp_path) == []


def test_a_cluster_stays_usable_after_a_batch_job(minicluster_cluster):
    env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(2)
    streaming = list(
        env.from_collection([("a", 1), ("a", 2)]).key_by(lambda t: t[0]).sum(1)
        .execute_and_collect()
    )
    assert sorted(streaming) == [("a", 1), ("a", 3)]  # STREAMING keeps running updates


def _run_word_count(config: dict[str, str]):
    from minicluster.jobmanager.client import submit

    env = batch_env(2, **config)
    word_count(env).add_sink(lambda v: None)
    graph = env.get_stream_graph("wc")
    run = submit(graph, env._execution_config(graph))
    assert list(run.run()) == []
    job_graph = run.deployment.execution_graph.job_graph
    keyed = [e.id for e in job_graph.edges if str(e.partitioner) == "HASH"]
    return [d for (edge, _), d in run.partitions.items() if edge in keyed], run


def test_the_combiner_ships_one_record_per_word_and_producer(minicluster_cluster):
    partitions, run = _run_word_count({})
    assert len(partitions) == 2  # one per producer subtask
    for descriptor in partitions:
        assert sum(descriptor.subpartition_records) <= len(set(WORDS))
    assert sum(sum(d.subpartition_records) for d in partitions) < len(WORDS)
    assert [s.region for s in run.stages] == [0, 1, 2]

    without, _ = _run_word_count({"minicluster.batch.combiner": "false"})
    assert sum(sum(d.subpartition_records) for d in without) == len(WORDS)


def test_a_small_combiner_budget_still_gives_exact_counts(minicluster_cluster):
    env = batch_env(2, **{"minicluster.batch.combiner.max-entries": "3"})
    result = list(word_count(env).execute_and_collect())
    assert collections.Counter(dict(result)) == collections.Counter(WORDS)
    assert len(result) == len(set(WORDS))
