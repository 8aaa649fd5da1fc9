"""BATCH: keyed operators see each key's records together (grouped blocking inputs),
in memory and past the memory budget (spilled sorted runs), and a W3-shaped join."""

from __future__ import annotations

import collections
import glob
import os
import random
import subprocess
import sys
from operator import itemgetter
from pathlib import Path

import pytest

from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.functions import KeyedCoProcessFunction, KeyedProcessFunction
from minicluster.jobmanager.cluster import MiniCluster
from minicluster.testing import assert_equal_unordered

from batch_jobs import w3_job

ROOT = Path(__file__).resolve().parents[2]

# keys of mixed types (not mutually orderable) arriving interleaved
KEYS = [f"k{i}" for i in range(40)] + list(range(20)) + [None, 2.5, ("t", 1)]
RECORDS = [(KEYS[(i * 7919) % len(KEYS)], i) for i in range(1500)]


def batch_env(parallelism: int, **config: str) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.batch-size": "50", **config}
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    return env


def run_files(spill_base: str) -> list[str]:
    return glob.glob(os.path.join(spill_base, "minicluster-spill-*", "sort-*-run*"))


class RecordOrder(KeyedProcessFunction):
    """Emits ``(subtask, position, key, value, sort runs on disk)`` per record."""

    def __init__(self, spill_base: str) -> None:
        self.spill_base = spill_base

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.position = 0

    def process_element(self, value, ctx):
        self.position += 1
        yield (self.subtask, self.position, ctx.get_current_key(), value[1],
               len(run_files(self.spill_base)))


def key_sequences(result: list) -> dict[int, list]:
    """Per subtask, the ``(key, value)`` pairs in the order the function saw them."""
    per_subtask = collections.defaultdict(list)
    for subtask, position, key, value, _ in sorted(result, key=lambda r: (r[0], r[1])):
        per_subtask[subtask].append((key, value))
    return dict(per_subtask)


def assert_keys_contiguous(sequence: list) -> None:
    seen, previous = set(), object()
    for key, _ in sequence:
        if key != previous:
            assert key not in seen, f"key {key!r} appears in two runs: {sequence}"
            seen.add(key)
            previous = key


def grouped_run(parallelism: int, spill_base: str, **config: str) -> list:
    env = batch_env(parallelism, **{"io.tmp.dirs": spill_base, **config})
    stream = env.from_collection(RECORDS).key_by(itemgetter(0)).process(RecordOrder(spill_base))
    return list(stream.execute_and_collect())


@pytest.mark.parametrize("parallelism", [1, 2])
def test_keyed_process_sees_each_key_once_in_memory_and_spilled(
    minicluster_cluster, tmp_path, parallelism
):
    base = str(tmp_path)
    in_memory = grouped_run(parallelism, base)
    spilled = grouped_run(parallelism, base, **{"minicluster.batch.sort.memory-records": "60"})

    for result in (in_memory, spilled):
        sequences = key_sequences(result)
        for sequence in sequences.values():
            assert_keys_contiguous(sequence)
            for key, _ in sequence:  # stable within a key: input order
                values = [v for k, v in sequence if k == key]
                assert values == sorted(values)
        assert_equal_unordered([(k, v) for s in sequences.values() for k, v in s], RECORDS)
    assert max(r[4] for r in in_memory) == 0, "nothing spills within the budget"
    assert max(r[4] for r in spilled) > 0, "a tiny budget spills sorted runs"
    # the order does not depend on spilling, and no run (nor spill folder) is left
    assert key_sequences(spilled) == key_sequences(in_memory)
    assert run_files(base) == [] and os.listdir(base) == []


def test_grouping_can_be_switched_off(minicluster_cluster, tmp_path):
    result = grouped_run(1, str(tmp_path), **{"minicluster.batch.sort-inputs": "false"})
    sequence = key_sequences(result)[0]
    assert [v for _, v in sequence] == [v for _, v in RECORDS]  # arrival order


class Tagged(KeyedCoProcessFunction):
    def process_element1(self, value, ctx):
        yield ctx.get_current_key(), "a", value[1]

    def process_element2(self, value, ctx):
        yield ctx.get_current_key(), "b", value[1]


def test_a_keyed_co_process_sees_input_0_before_input_1_per_key(minicluster_cluster):
    env = batch_env(1, **{"minicluster.batch.sort.memory-records": "40"})
    first = env.from_collection([(f"k{i % 13}", i) for i in range(200)])
    second = env.from_collection([(f"k{i % 17}", i) for i in range(200)])
    result = list(
        first.key_by(itemgetter(0)).connect(second.key_by(itemgetter(0)))
        .process(Tagged()).execute_and_collect()
    )
    assert_keys_contiguous([(key, None) for key, _, _ in result])
    for key in {key for key, _, _ in result}:
        sides = [side for k, side, _ in result if k == key]
        assert sides == sorted(sides), f"key {key}: input 0 first, then input 1"
    assert len(result) == 400


# -- W3 shape ---------------------------------------------------------------------------


def write_w3_data(directory: Path, customers: int = 1000, orders: int = 20000) -> None:
    rng = random.Random(3)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "customers.csv", "w") as out:
        out.writelines(f"{i},C{rng.randrange(50):02d}\n" for i in range(customers))
    with open(directory / "orders.csv", "w") as out:
        out.writelines(
            f"{i},{rng.randrange(customers)},{rng.randrange(1, 50000)}\n" for i in range(orders)
        )


def w3_reference(directory: Path) -> dict[str, int]:
    """``baseline_single.py W3``: the plain-Python join and sum."""
    country = dict(line.rstrip("\n").split(",") for line in open(directory / "customers.csv"))
    totals: collections.Counter = collections.Counter()
    for line in open(directory / "orders.csv"):
        _, customer, amount = line.rstrip("\n").split(",")
        totals[country[customer]] += int(amount)
    return dict(totals)


@pytest.fixture(scope="module")
def w3_data(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("w3")
    write_w3_data(directory)
    return directory


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_w3_join_equals_the_plain_python_reference(minicluster_cluster, w3_data, parallelism):
    result = dict(w3_job(batch_env(parallelism), w3_data).execute_and_collect())
    assert "#buffered" not in result, "customers (input 0) come before their orders"
    assert result == w3_reference(w3_data)


def test_w3_join_spilled_on_one_slot_equals_the_reference(w3_data, tmp_path):
    env = batch_env(4, **{"minicluster.batch.sort.memory-records": "3000",
                          "io.tmp.dirs": str(tmp_path)})
    with MiniCluster(taskmanagers=1, slots_per_taskmanager=1) as cluster, cluster.activate():
        result = dict(w3_job(env, w3_data).execute_and_collect())
    assert "#buffered" not in result
    assert result == w3_reference(w3_data)
    assert os.listdir(tmp_path) == []


def test_the_w3_benchmark_job_writes_the_reference_output(w3_data, tmp_path):
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "w3_job.py"), str(w3_data), str(out), "2"],
        check=True, capture_output=True, timeout=120,
    )
    lines = [line for part in sorted(out.glob("part-*")) for line in part.read_text().splitlines()]
    result = {country: int(total) for country, total in (line.split("\t") for line in lines)}
    assert len(lines) == len(result)
    assert result == w3_reference(w3_data)
