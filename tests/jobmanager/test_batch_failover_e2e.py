"""BATCH region failover end to end: restart strategies, backtracking, counters.

Every job here has the same two pipelined regions (BATCH: every JobEdge is blocking):

    region 0                          region 1
    [numbers (p=2) -> Map to pair] ==HASH==> [Reduce -> Map (the test's) -> FileSink]

The test's function fails, kills its TaskManager or deletes a spill file on its first
attempt only (a marker file in ``tmp_path`` remembers), and the part files of the
FileSink must hold exactly the failure-free result: one sum per key, no duplicate.
"""

from __future__ import annotations

import ast
import os
import signal
import tempfile

import psutil
import pytest

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSink
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.functions import MapFunction
from minicluster.errors import JobExecutionError
from minicluster.jobmanager.cluster import MiniCluster

N = 2_000
KEYS = 7
EXPECTED = sorted((k, sum(v for v in range(N) if v % KEYS == k)) for k in range(KEYS))
RESTART_ONCE = {
    "restart-strategy.type": "fixed-delay",
    "restart-strategy.fixed-delay.attempts": "1",
    "restart-strategy.fixed-delay.delay": "0 ms",
}


def first_time(marker) -> bool:
    """True for exactly one caller over all processes and attempts."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def run_job(tmp_path, second_stage, **config):
    """Run the two-region job with ``second_stage`` in region 1; returns (result, rows)."""
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.batch-size": "64", "io.tmp.dirs": str(tmp_path / "spill"), **config}
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    os.makedirs(tmp_path / "spill", exist_ok=True)
    out = tmp_path / "out"
    (
        env.from_source(NumberSequenceSource(0, N - 1), WatermarkStrategy.no_watermarks(), "numbers")
        .map(lambda v: (v % KEYS, v))
        .key_by(lambda pair: pair[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
        .map(second_stage)
        .sink_to(FileSink.for_row_format(str(out), Encoder.simple_string_encoder()).build())
    )
    result = env.execute("failover")
    return result, read_rows(out)


def read_rows(out) -> list:
    rows = []
    for name in sorted(os.listdir(out)):
        if not name.startswith("."):  # hidden: in-progress parts
            with open(out / name) as file:
                rows.extend(ast.literal_eval(line) for line in file if line.strip())
    return sorted(rows)


def attempts(result) -> list[int]:
    return [stats.attempts for stats in result.region_stats]


def spill_folders(base) -> list[str]:
    return [n for n in os.listdir(base) if n.startswith("minicluster-spill-")]


class FailOnce(MapFunction):
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def map(self, value):
        if first_time(self.marker):
            raise ValueError("first attempt fails")
        return value


def test_failure_free_run_counts_one_attempt_per_region(minicluster_cluster, tmp_path):
    """numbers -> Map ==HASH==> Reduce -> Map -> FileSink: attempts [1, 1], and the
    counters add up (region 0 reads N numbers and writes one partial per key and
    producer; region 1 reads those)."""
    result, rows = run_job(tmp_path, lambda v: v, **RESTART_ONCE)

    assert rows == EXPECTED
    assert attempts(result) == [1, 1]
    first, second = result.region_stats
    assert first.records_in == N
    assert 0 < first.records_out <= 2 * KEYS  # the combiner pre-reduced per producer
    assert second.records_in == first.records_out
    assert first.bytes_spilled > 0 and second.bytes_spilled == 0
    accumulators = result.get_all_accumulator_results()
    assert accumulators["region-0.attempts"] == 1
    assert accumulators["region-1.records-in"] == second.records_in


def test_a_user_failure_in_the_second_stage_re_runs_only_that_region(
    minicluster_cluster, tmp_path
):
    """numbers -> Map ==HASH==> Reduce -> Map (raises once) -> FileSink
    region 0 finished, region 1 fails: region 1 re-runs, reading region 0's spill
    files again; region 0 does not."""
    result, rows = run_job(tmp_path, FailOnce(str(tmp_path / "marker")), **RESTART_ONCE)

    assert rows == EXPECTED
    assert attempts(result) == [1, 2]
    assert spill_folders(tmp_path / "spill") == []


def test_a_killed_taskmanager_is_replaced_and_only_its_region_re_runs(tmp_path):
    """numbers -> Map ==HASH==> Reduce -> Map (SIGKILLs its TaskManager once) -> FileSink
    on a cluster of 2 TaskManagers x 1 slot: the dead one is forked again, region 1
    re-runs on it, region 0 does not."""
    marker = str(tmp_path / "marker")

    def kill_my_taskmanager(value):
        if first_time(marker):
            os.kill(os.getpid(), signal.SIGKILL)
        return value

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    cluster = MiniCluster(taskmanagers=2, slots_per_taskmanager=1)
    with cluster.activate():
        pids = list(cluster.taskmanager_pids)
        result, rows = run_job(tmp_path, kill_my_taskmanager, **RESTART_ONCE)
        replaced = [pid for pid in cluster.taskmanager_pids if pid not in pids]
        assert not cluster.broken
    assert rows == EXPECTED
    assert attempts(result) == [1, 2]
    assert len(replaced) == 1
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_a_lost_spill_file_re_runs_the_producer_region_first(
    minicluster_cluster, tmp_path, damage
):
    """numbers -> Map ==HASH==> Reduce -> Map (its open() deletes or corrupts one of
    region 0's partition files, once) -> FileSink: region 1 fails with
    PartitionNotFoundError / PartitionCorruptedError, so region 0 re-runs (attempts
    2), then region 1 (attempts 2)."""
    spill = str(tmp_path / "spill")
    marker = str(tmp_path / "marker")

    class DeleteAPartition(MapFunction):
        def open(self, runtime_context):
            if first_time(marker):
                (folder,) = spill_folders(spill)
                path = os.path.join(spill, folder)
                victim = sorted(n for n in os.listdir(path) if n.endswith(".data"))[0]
                victim = os.path.join(path, victim)
                if damage == "delete":
                    os.unlink(victim)
                else:  # flip the last bytes: the frame's content checksum
                    with open(victim, "r+b") as file:
                        file.seek(-4, os.SEEK_END)
                        tail = file.read(4)
                        file.seek(-4, os.SEEK_END)
                        file.write(bytes(b ^ 0xFF for b in tail))

        def map(self, value):
            return value

    result, rows = run_job(tmp_path, DeleteAPartition(), **RESTART_ONCE)

    assert rows == EXPECTED
    assert attempts(result) == [2, 2]


def test_exhausted_attempts_fail_with_the_original_cause_and_leave_nothing(
    tmp_path, monkeypatch
):
    """numbers -> Map ==HASH==> Reduce -> Map (always raises) -> FileSink on a cluster
    started for the job: one restart, then the job fails with the user's error; no
    process, runtime folder (sockets) or spill folder remains."""
    runtime_base = tempfile.mkdtemp(prefix="mc-fo-")
    monkeypatch.setattr(tempfile, "tempdir", runtime_base)
    calls = str(tmp_path / "calls")

    def always_broken(value):
        with open(calls, "a") as file:
            file.write("x")
        raise ValueError("always broken")

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    try:
        with pytest.raises(JobExecutionError, match="always broken"):
            run_job(tmp_path, always_broken, **RESTART_ONCE, **{"taskmanager.count": "2"})
        assert os.listdir(runtime_base) == []
    finally:
        os.rmdir(runtime_base)
    assert spill_folders(tmp_path / "spill") == []
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before
    assert len(open(calls).read()) >= 2  # it did run twice


def test_restart_strategy_none_fails_on_the_first_failure(minicluster_cluster, tmp_path):
    """numbers -> Map ==HASH==> Reduce -> Map (raises once) -> FileSink, no restarts:
    today's behaviour, the job fails."""
    with pytest.raises(JobExecutionError, match="first attempt fails"):
        run_job(tmp_path, FailOnce(str(tmp_path / "marker")), **{"restart-strategy.type": "none"})
    assert spill_folders(tmp_path / "spill") == []


def test_full_failover_re_runs_every_region(minicluster_cluster, tmp_path):
    """numbers -> Map ==HASH==> Reduce -> Map (raises once) -> FileSink with
    failover-strategy full: both regions re-run."""
    result, rows = run_job(
        tmp_path, FailOnce(str(tmp_path / "marker")),
        **RESTART_ONCE, **{"jobmanager.execution.failover-strategy": "full"},
    )
    assert rows == EXPECTED
    assert attempts(result) == [2, 2]


def test_a_bad_restart_strategy_fails_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="restart-strategy.type='sometimes'"):
        run_job(tmp_path, lambda v: v, **{"restart-strategy.type": "sometimes"})
