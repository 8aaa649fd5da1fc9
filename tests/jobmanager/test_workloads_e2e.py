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
from pathlib import Path

import pytest

from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.jobmanager.cluster import MiniCluster

from batch_jobs import w1_job, w3_job

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


def collect_once_per_key(stream) -> dict:
    results = list(stream.execute_and_collect())
    as_dict = dict(results)
    assert len(as_dict) == len(results), "one final result per key"
    return as_dict


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_w1_equals_the_reference(minicluster_cluster, workloads, parallelism):
    data, references = workloads
    result = collect_once_per_key(w1_job(batch_env(parallelism), data / "words.txt"))
    assert result == references["W1"]


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_w3_equals_the_reference(minicluster_cluster, workloads, parallelism):
    data, references = workloads
    assert collect_once_per_key(w3_job(batch_env(parallelism), data)) == references["W3"]


def test_w1_and_w3_at_parallelism_4_on_one_slot(workloads):
    data, references = workloads
    with MiniCluster(taskmanagers=1, slots_per_taskmanager=1) as cluster, cluster.activate():
        assert collect_once_per_key(w1_job(batch_env(4), data / "words.txt")) == references["W1"]
        assert collect_once_per_key(w3_job(batch_env(4), data)) == references["W3"]
