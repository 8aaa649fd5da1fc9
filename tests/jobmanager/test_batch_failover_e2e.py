"""BATCH region failover end to end: restart strategies, backtracking, counters.

Every job here has the same two pipelined regions (BATCH: every JobEdge is blocking):

    region 0                          region 1
    [numbers (p=2) -> Map to pair] ==HASH==> [Reduce -> Map (the test's) -> FileSink]

The test's function fails, kills its TaskManager or deletes a spill file on its first
attempt only (a marker file in ``tmp_path`` remembers), and the part files of the
FileSink must hold exactly the failure-free result: one sum per key, no duplicate.
Some runs add a map of their own behind the numbers, in region 0.
"""

from __future__ import annotations

import ast
import os
import select
import signal
import tempfile
import time

import psutil
import pytest

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSink
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.functions import MapFunction
from minicluster.errors import JobExecutionError
from minicluster.jobmanager.cluster import MiniCluster
from minicluster.operators.sources import SourceWatermark

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


def run_job(tmp_path, second_stage, first_stage=None, source=None, **config):
    """Run the two-region job with ``second_stage`` in region 1 (and ``first_stage``, a
    map chained behind the numbers in region 0, if given; ``source`` in place of the
    NumberSequenceSource); returns (result, rows)."""
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.batch-size": "64", "io.tmp.dirs": str(tmp_path / "spill"), **config}
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    os.makedirs(tmp_path / "spill", exist_ok=True)
    out = tmp_path / "out"
    numbers = env.from_source(
        source or NumberSequenceSource(0, N - 1), WatermarkStrategy.no_watermarks(), "numbers"
    )
    if first_stage is not None:
        numbers = numbers.map(first_stage)
    (
        numbers
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


class NumbersOneWaitsFor:
    """``NumberSequenceSource(0, N - 1)``, except that subtask 1 first repeats a
    watermark (one item per task step, no record) until ``release`` exists: it stays
    runnable, so its TaskManager's loop keeps turning (and reading control messages)
    while it waits."""

    def __init__(self, release: str) -> None:
        self.release = release

    def create_batches(self, subtask_index, parallelism, batch_size):
        if subtask_index == 1:
            while not os.path.exists(self.release):
                yield SourceWatermark(0)  # only the first one advances; BATCH drops it
        yield from NumberSequenceSource(0, N - 1).create_batches(
            subtask_index, parallelism, batch_size
        )


class ZeroFailsOnceThenReleases(MapFunction):
    """Every attempt appends ``subtask:attempt`` to ``log`` when it opens; subtask 0's
    first attempt raises at its first record, its next attempt creates ``release``."""

    def __init__(self, log: str, release: str) -> None:
        self.log, self.release = log, release

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.attempt = runtime_context.get_attempt_number()
        with open(self.log, "a") as file:
            file.write(f"{self.subtask}:{self.attempt}\n")
        if self.subtask == 0 and self.attempt > 0:
            open(self.release, "w").close()

    def map(self, value):
        if self.subtask == 0 and self.attempt == 0:
            raise ValueError("the first attempt of subtask 0 fails")
        return value


def test_a_failed_subtask_is_deployed_again_beside_its_running_sibling(tmp_path):
    """numbers (p=2; subtask 1 waits) -> Map (subtask 0's first attempt raises) -> Map
    to pair ==HASH==> Reduce -> Map -> FileSink, on ONE TaskManager with 2 slots.

    Subtask 1 cannot finish before subtask 0's second attempt opened, so that attempt
    is deployed and started on the TaskManager while subtask 1 runs there: subtask 1
    is neither cancelled nor opened again (one line in the log), the result is exact,
    region 0 counts two attempts and every number once."""
    log, release = str(tmp_path / "log"), str(tmp_path / "release")
    cluster = MiniCluster(taskmanagers=1, slots_per_taskmanager=2)
    with cluster.activate():
        result, rows = run_job(
            tmp_path, lambda v: v, ZeroFailsOnceThenReleases(log, release),
            NumbersOneWaitsFor(release), **RESTART_ONCE,
        )
    assert rows == EXPECTED
    assert sorted(open(log).read().split()) == ["0:0", "0:1", "1:0"]
    assert attempts(result) == [2, 1]
    assert result.region_stats[0].records_in == N


class ZeroAlwaysFailsWhileOneWaits(MapFunction):
    """Every attempt appends ``subtask:attempt:monotonic time`` to ``log`` when it
    opens. Subtask 0 raises at its first record, in every attempt; subtask 1's first
    record waits on ``fifo``, which nobody writes, until the cancel interrupts it."""

    def __init__(self, log: str, fifo: str) -> None:
        self.log, self.fifo = log, fifo

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        attempt = runtime_context.get_attempt_number()
        with open(self.log, "a") as file:
            file.write(f"{self.subtask}:{attempt}:{time.monotonic()}\n")

    def map(self, value):
        if self.subtask == 0:
            raise ValueError("subtask 0 is always broken")
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            select.select([fd], [], [], 60.0)
        finally:
            os.close(fd)
        return value


def test_exhausted_attempts_while_a_sibling_runs_fail_the_job_and_leave_nothing(
    tmp_path, monkeypatch
):
    """numbers (p=2) -> Map (subtask 0 raises in every attempt; subtask 1 waits in its
    first record until cancelled) -> Map to pair ==HASH==> Reduce -> Map -> FileSink, on
    a cluster of 2 TaskManagers started for the job, 2 restarts 100 ms apart.

    Subtask 0 runs three times, alone, at least 100 ms apart; subtask 1 keeps running
    (one attempt) until the third failure fails the job with the user's error and
    cancels it; no process, runtime folder (sockets) or spill folder remains."""
    runtime_base = tempfile.mkdtemp(prefix="mc-fo-")
    monkeypatch.setattr(tempfile, "tempdir", runtime_base)
    log, fifo = str(tmp_path / "log"), str(tmp_path / "fifo")
    os.mkfifo(fifo)
    restarts = {
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "2",
        "restart-strategy.fixed-delay.delay": "100 ms",
        "taskmanager.count": "2",
    }
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    try:
        with pytest.raises(JobExecutionError, match="subtask 0 is always broken") as failed:
            run_job(tmp_path, lambda v: v, ZeroAlwaysFailsWhileOneWaits(log, fifo), **restarts)
        assert os.listdir(runtime_base) == []
    finally:
        os.rmdir(runtime_base)
    assert failed.value.subtask_index == 0
    assert "ValueError: subtask 0 is always broken" in str(failed.value.__cause__)
    opens = [line.split(":") for line in open(log).read().split()]
    assert sorted((s, a) for s, a, _ in opens) == [("0", "0"), ("0", "1"), ("0", "2"), ("1", "0")]
    zero = [float(t) for s, _, t in opens if s == "0"]
    assert all(later - earlier >= 0.1 for earlier, later in zip(zero, zero[1:]))
    assert spill_folders(tmp_path / "spill") == []
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


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


def collect_numbers(tmp_path, function) -> list:
    """numbers (p=2) -> Map (``function``) -> collect, in BATCH with one restart: one
    region, whose subtasks send their records to the client as they go."""
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.batch-size": "64", **RESTART_ONCE}
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    numbers = env.from_source(
        NumberSequenceSource(0, N - 1), WatermarkStrategy.no_watermarks(), "numbers"
    )
    return list(numbers.map(function).execute_and_collect())


def test_a_collecting_subtask_that_failed_before_it_sent_anything_re_runs(
    minicluster_cluster, tmp_path
):
    """numbers -> Map (raises at the first number of subtask 1, once) -> collect: the
    failed subtask had sent nothing, so it re-runs; every number arrives once."""
    marker = str(tmp_path / "marker")

    def fail_at_first_number_of_subtask_1(value):
        if value == N // 2 and first_time(marker):
            raise ValueError("subtask 1 fails at its first number")
        return value

    assert sorted(collect_numbers(tmp_path, fail_at_first_number_of_subtask_1)) == list(range(N))
    assert os.path.exists(marker)


def test_a_collecting_subtask_whose_records_reached_the_client_is_not_re_run(
    minicluster_cluster, tmp_path
):
    """numbers -> Map (raises half-way through subtask 0's share, once) -> collect:
    subtask 0 sent records to the client before it failed (they cannot be taken back),
    so the job fails with its error instead of re-running it and repeating them."""
    marker = str(tmp_path / "marker")

    def fail_half_way_through_subtask_0(value):
        if value == N // 4 and first_time(marker):
            raise ValueError("subtask 0 fails after it sent records")
        return value

    with pytest.raises(JobExecutionError, match="subtask 0 fails after it sent records"):
        collect_numbers(tmp_path, fail_half_way_through_subtask_0)


class FailsToUnpickleOnce(MapFunction):
    """``v -> (v % 7, v)``; unpickling it in a TaskManager fails once over the whole
    job (a marker file remembers), so one TaskManager cannot create its tasks."""

    def __init__(self, marker: str) -> None:
        self.marker, self.client = marker, os.getpid()

    def __getstate__(self):
        return {"marker": self.marker, "client": self.client}

    def __setstate__(self, state):
        self.marker, self.client = state["marker"], state["client"]
        if os.getpid() != self.client and first_time(self.marker):
            raise RuntimeError("unpickling fails once")

    def map(self, value):
        return (value % 7, value)


def test_a_taskmanager_that_cannot_create_its_tasks_re_runs_the_unfinished_subtasks(tmp_path):
    """The deploy failure does not say which subtasks it hit: the region's unfinished
    subtasks re-run (everything running is cancelled first), and the result is exact."""
    marker = str(tmp_path / "failed-once")
    count = 2000
    with MiniCluster(taskmanagers=2, slots_per_taskmanager=1) as cluster, cluster.activate():
        env = StreamExecutionEnvironment.get_execution_environment({
            "restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": "1",
            "restart-strategy.fixed-delay.delay": "0 ms",
            "minicluster.batch-size": "64",
        })
        env.set_runtime_mode(RuntimeExecutionMode.BATCH)
        env.set_parallelism(2)
        sums = (
            env.from_source(
                NumberSequenceSource(0, count - 1), WatermarkStrategy.no_watermarks(), "n"
            )
            .map(FailsToUnpickleOnce(marker))
            .key_by(lambda pair: pair[0])
            .reduce(lambda a, b: (a[0], a[1] + b[1]))
        )
        result = dict(sums.execute_and_collect())
        assert not cluster.broken
    expected: dict[int, int] = {}
    for value in range(count):
        expected[value % 7] = expected.get(value % 7, 0) + value
    assert os.path.exists(marker), "a TaskManager failed to create its tasks once"
    assert result == expected
