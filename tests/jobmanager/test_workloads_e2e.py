"""W1 and W3 of the benchmark workloads, at 1% scale, in BATCH mode: the results equal
the single-process plain-Python reference (``../shared/bench/baseline_single.py``) on
the generator's own inputs (``../shared/bench/gen.py --scale 0.01``), at parallelism
1, 2 and 4, and at parallelism 4 on a single slot.

The generator and the reference live outside the repository (the shared benchmark
material); without them these tests are skipped, and the smaller self-generated W1/W3
shapes in ``test_batch_e2e.py`` and ``test_batch_grouping_e2e.py`` still run.
"""

from __future__ import annotations

import subprocess
import sys
from operator import itemgetter
from pathlib import Path

import pytest

from minicluster.common import Types, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSource, StreamFormat
from minicluster.datastream.functions import KeyedCoProcessFunction
from minicluster.datastream.state import ValueStateDescriptor
from minicluster.jobmanager.cluster import MiniCluster

SHARED_BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench"

pytestmark = pytest.mark.skipif(
    not (SHARED_BENCH / "gen.py").exists(),
    reason=f"the shared benchmark generator is not at {SHARED_BENCH}",
)


@pytest.fixture(scope="module")
def workloads(tmp_path_factory) -> tuple[Path, dict[str, dict[str, int]]]:
    """The inputs at scale 0.01 and the reference results of W1 and W3."""
    data = tmp_path_factory.mktemp("workloads")
    subprocess.run(
        [sys.executable, str(SHARED_BENCH / "gen.py"), str(data), "--scale", "0.01"],
        check=True, timeout=120,
    )
    references = {}
    for workload in ("W1", "W3"):
        out = data / f"{workload}.ref"
        subprocess.run(
            [sys.executable, str(SHARED_BENCH / "baseline_single.py"), workload, str(data),
             str(out)],
            check=True, timeout=120,
        )
        references[workload] = {
            name: int(total)
            for name, total in (line.split("\t") for line in out.read_text().splitlines())
        }
    return data, references


def batch_env(parallelism: int) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.source.file.split-size": "64kb"}  # several splits per file
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    return env


def read(env: StreamExecutionEnvironment, path: Path, name: str):
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), str(path)
    ).process_static_file_set().build()
    return env.from_source(source, WatermarkStrategy.no_watermarks(), name)


def w1(env: StreamExecutionEnvironment, data: Path):
    return (
        read(env, data / "words.txt", "words")
        .flat_map(lambda line: [(word, 1) for word in line.split()])
        .key_by(lambda pair: pair[0])
        .sum(1)
    )


class JoinCountry(KeyedCoProcessFunction):
    """Customers (input 0) come before their orders (input 1) in BATCH."""

    def open(self, runtime_context):
        self.country = runtime_context.get_state(ValueStateDescriptor("country", Types.STRING()))

    def process_element1(self, customer, ctx):
        self.country.update(customer[1])

    def process_element2(self, order, ctx):
        yield self.country.value(), order[1]


def w3(env: StreamExecutionEnvironment, data: Path):
    customers = read(env, data / "customers.csv", "customers").map(lambda l: tuple(l.split(",")))
    orders = read(env, data / "orders.csv", "orders").map(
        lambda line: (line.split(",")[1], int(line.split(",")[2]))
    )
    return (
        customers.key_by(itemgetter(0))
        .connect(orders.key_by(itemgetter(0)))
        .process(JoinCountry())
        .key_by(itemgetter(0))
        .sum(1)
    )


def collect_once_per_key(stream) -> dict:
    results = list(stream.execute_and_collect())
    as_dict = dict(results)
    assert len(as_dict) == len(results), "one final result per key"
    return as_dict


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_w1_equals_the_reference(minicluster_cluster, workloads, parallelism):
    data, references = workloads
    assert collect_once_per_key(w1(batch_env(parallelism), data)) == references["W1"]


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_w3_equals_the_reference(minicluster_cluster, workloads, parallelism):
    data, references = workloads
    assert collect_once_per_key(w3(batch_env(parallelism), data)) == references["W3"]


def test_w1_and_w3_at_parallelism_4_on_one_slot(workloads):
    data, references = workloads
    with MiniCluster(taskmanagers=1, slots_per_taskmanager=1) as cluster, cluster.activate():
        assert collect_once_per_key(w1(batch_env(4), data)) == references["W1"]
        assert collect_once_per_key(w3(batch_env(4), data)) == references["W3"]
