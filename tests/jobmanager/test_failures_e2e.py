"""Failures on real TaskManager processes: what the user sees, how fast, and what is
left behind.

    user function raises  -> JobExecutionError (operator, subtask i/p, TaskManager,
                             error type and message; __cause__: the user's traceback)
    open() raises         -> the same, naming open()
    unhashable key        -> JobExecutionError naming the key
    too few slots         -> NotEnoughSlotsError before any process starts
    a TaskManager killed  -> TaskManagerLostError naming it and the signal; the
                             cluster forks a replacement and stays usable
    Ctrl-C on the CLI     -> exit 130 within a couple of seconds, mid-batch

After each: no TaskManager process and no runtime folder of that cluster remains
(the session cluster's own TaskManagers stay, and must still run jobs).
"""

from __future__ import annotations

import inspect
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.functions import MapFunction
from minicluster.errors import (
    InvalidProgramError,
    JobExecutionError,
    NotEnoughSlotsError,
    RemoteTraceback,
    TaskManagerLostError,
)
from minicluster.jobmanager.cluster import MiniCluster

# A job that fails must fail in about the time a cancel takes, not in the ~1000 s the
# slow jobs below would run for; generous for a loaded 2-core machine.
PROMPT_S = 5.0


@pytest.fixture
def stream_env(stream_env):
    """The plugin's environment with a default parallelism of 2 instead of the CPU
    count, so that chains and sink parallelism are the same on every machine."""
    return stream_env.set_parallelism(2)


def numbers(env, first, last, parallelism):
    return env.from_source(
        NumberSequenceSource(first, last), WatermarkStrategy.no_watermarks(), "numbers"
    ).set_parallelism(parallelism)


def line_of(function, text):
    """The line number of the first line of ``function`` containing ``text``."""
    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if text in line)


def child_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def assert_session_cluster_still_works():
    env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(2)
    out = numbers(env, 0, 99, 2).map(lambda v: v * 3).execute_and_collect()
    assert sorted(out) == [v * 3 for v in range(100)]


@pytest.fixture
def private_tmpdir():
    """A short private TMPDIR for a subprocess, so its runtime folder is found (and its
    absence checked) without racing other clusters under /tmp; short, because ipc
    socket paths are limited to ~107 bytes."""
    path = tempfile.mkdtemp(prefix="mc-e2e-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


# -- a user function raises ---------------------------------------------------------


def fail_on_75(value):
    if value == 75:
        raise ValueError(f"bad record {value}")
    return value


@pytest.mark.parametrize("name", [None, "Validate"])
def test_user_function_error_names_operator_subtask_and_cause(
    stream_env, minicluster_cluster, name
):
    stream = numbers(stream_env, 0, 99, 2).map(fail_on_75)  # 75 is in subtask 2's share
    if name:
        stream.name(name)
    stream.add_sink(lambda v: None)

    with pytest.raises(JobExecutionError) as raised:
        stream_env.execute("failing job")

    error = raised.value
    operator = name or "Map"
    assert re.fullmatch(
        rf"Job 'failing job' failed: operator '{operator}' \(subtask 2/2 of task "
        rf"'Source: numbers -> {operator} -> Sink: Unnamed', TaskManager 1\) raised "
        r"ValueError: bad record 75",
        str(error),
    ), str(error)
    assert (error.operator_name, error.subtask_index, error.error_type) == (
        operator, 1, "ValueError",
    )
    assert not isinstance(error, TaskManagerLostError)
    cause = error.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert (
        f'File "{__file__}", line {line_of(fail_on_75, "raise ValueError")}, in fail_on_75'
        in str(cause)
    )
    assert "ValueError: bad record 75" in str(cause)
    assert_session_cluster_still_works()


def test_failure_is_reported_promptly_while_other_subtasks_are_busy(
    stream_env, minicluster_cluster
):
    """Subtask 2's first record fails; subtask 1 is inside a 1024-record batch at
    10 ms per record (the whole job would take ~1000 s)."""
    stream_env.configure({"minicluster.batch-size": "1024"})

    def slow_or_fail(value):
        if value == 100_000:
            raise RuntimeError("first record of subtask 2")
        time.sleep(0.01)
        return value

    numbers(stream_env, 0, 199_999, 2).map(slow_or_fail).add_sink(lambda v: None)

    started = time.monotonic()
    with pytest.raises(JobExecutionError, match=r"subtask 2/2 .* raised RuntimeError: "
                       r"first record of subtask 2"):
        stream_env.execute("slow and failing")

    assert time.monotonic() - started < PROMPT_S
    assert_session_cluster_still_works()


class FailingOpen(MapFunction):
    def open(self, runtime_context):
        if runtime_context.get_index_of_this_subtask() == 1:
            raise ConnectionError("cannot reach the database")

    def map(self, value):
        return value


def test_failure_in_open_names_the_operator(stream_env, minicluster_cluster):
    numbers(stream_env, 0, 99, 2).map(FailingOpen()).name("Enrich").add_sink(lambda v: None)

    with pytest.raises(JobExecutionError) as raised:
        stream_env.execute("open fails")

    error = raised.value
    assert "operator 'Enrich' (subtask 2/2" in str(error)
    assert "raised ConnectionError: cannot reach the database" in str(error)
    assert (error.operator_name, error.subtask_index, error.error_type) == (
        "Enrich", 1, "ConnectionError",
    )
    line = line_of(FailingOpen.open, "raise ConnectionError")
    assert f'File "{__file__}", line {line}, in open' in str(error.__cause__)
    assert_session_cluster_still_works()


def test_key_selector_returning_a_list_fails_clearly(stream_env, minicluster_cluster):
    (
        numbers(stream_env, 0, 9, 1)
        .key_by(lambda v: [v % 3])
        .sum()
        .set_parallelism(2)
        .add_sink(lambda v: None)
    )

    with pytest.raises(JobExecutionError) as raised:
        stream_env.execute("list keys")

    message = str(raised.value)
    assert "key [0] of type list is unhashable" in message
    assert "tuple(...)" in message  # the hint
    assert "Keyed Aggregation" in message  # where
    assert_session_cluster_still_works()


class FailingClose(MapFunction):
    def map(self, value):
        return value

    def close(self):
        raise OSError("could not flush the output file")


def test_failure_in_close_fails_the_job(stream_env, minicluster_cluster):
    numbers(stream_env, 0, 99, 2).map(FailingClose()).name("Writer").add_sink(lambda v: None)

    with pytest.raises(JobExecutionError) as raised:
        stream_env.execute("close fails")

    assert "operator 'Writer' (subtask " in str(raised.value)
    assert "raised OSError: could not flush the output file" in str(raised.value)
    assert "in close" in str(raised.value.__cause__)
    assert_session_cluster_still_works()


def test_unpicklable_function_is_rejected_before_the_job_runs(stream_env, minicluster_cluster):
    lock = threading.Lock()
    numbers(stream_env, 0, 9, 2).map(lambda v: (lock, v)[1]).name("Locked").add_sink(print)

    with pytest.raises(InvalidProgramError, match=r"operator 'Locked' cannot be shipped to "
                       r"the TaskManagers: TypeError: cannot pickle '_thread.lock' object"):
        stream_env.execute("unpicklable")

    assert_session_cluster_still_works()


def exit_on_3(value):
    if value == 3:
        sys.exit(f"giving up on {value}")
    return value


def test_sys_exit_in_a_user_function_fails_the_job_not_the_taskmanager():
    """``sys.exit()`` (or argparse failing) inside a function raises SystemExit: that is
    the user's error, to be reported like any other, while the TaskManager and so the
    cluster live on."""
    with MiniCluster(taskmanagers=2, slots_per_taskmanager=2) as cluster, cluster.activate():
        env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(2)
        numbers(env, 0, 9, 1).map(exit_on_3).name("Quitter").add_sink(lambda v: None)

        with pytest.raises(JobExecutionError) as raised:
            env.execute("exits")

        assert not isinstance(raised.value, TaskManagerLostError), str(raised.value)
        assert raised.value.error_type == "SystemExit"
        assert "operator 'Quitter'" in str(raised.value)
        assert "giving up on 3" in str(raised.value)
        assert cluster.broken is None
        assert_session_cluster_still_works()  # the same cluster, still whole


TWO_JOBS_AT_ONCE = """
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.errors import MiniClusterError
from minicluster.jobmanager.cluster import MiniCluster

with MiniCluster(taskmanagers=2, slots_per_taskmanager=2) as cluster, cluster.activate():
    env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(1)
    first = env.from_collection(list(range(100_000))).map(lambda v: v)
    results_1 = first.execute_and_collect()
    head_1 = next(results_1)
    print("FIRST JOB RUNNING", flush=True)
    env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(1)
    second = env.from_collection(list(range(10))).map(lambda v: -v)
    try:
        results_2 = list(second.execute_and_collect())
    except MiniClusterError as error:
        print("REFUSED", type(error).__name__, error, flush=True)
        results_2 = None
    rest_1 = list(results_1)
    print("FIRST", sorted([head_1, *rest_1]) == list(range(100_000)), flush=True)
    if results_2 is not None:
        print("SECOND", sorted(results_2) == [-v for v in range(10)], flush=True)
"""


def test_a_second_job_while_one_is_collecting_neither_hangs_nor_loses_a_job(
    tmp_path, private_tmpdir
):
    """Two ``execute_and_collect`` iterators open on one cluster (say, to zip them):
    both jobs must complete, or the second must be refused with a clear error; the
    first must never be dropped silently and leave its iterator waiting forever."""
    script = tmp_path / "two_jobs.py"
    script.write_text(TWO_JOBS_AT_ONCE)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(private_tmpdir)},
    )
    try:
        stdout, stderr = process.communicate(timeout=10)  # < 1 s when it works
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the script and its TaskManagers
        stdout, stderr = process.communicate()
        pytest.fail(f"the script hung; its output: {stdout!r}")

    assert process.returncode == 0, stderr
    lines = stdout.splitlines()
    assert "FIRST True" in lines
    assert "SECOND True" in lines or any(line.startswith("REFUSED") for line in lines)
    assert list(private_tmpdir.iterdir()) == []


# -- not enough slots ---------------------------------------------------------------


def test_not_enough_slots_is_raised_before_any_process_starts(monkeypatch):
    started = []
    original_start = MiniCluster.start

    def spy_start(self):
        started.append(self)
        return original_start(self)

    monkeypatch.setattr(MiniCluster, "start", spy_start)
    before = child_pids()
    env = StreamExecutionEnvironment.get_execution_environment(
        {"taskmanager.count": "1", "taskmanager.numberOfTaskSlots": "2"}
    )
    env.set_parallelism(3)
    numbers(env, 0, 9, 3).map(lambda v: v).add_sink(lambda v: None)

    with pytest.raises(NotEnoughSlotsError, match=re.escape(
        "needs 3 slots (per slot sharing group: 'default': 3) but the cluster has 2 "
        "(1 TaskManagers x 2 slots)"
    )):
        env.execute("too wide")

    assert started == []
    assert child_pids() == before


def test_not_enough_slots_on_an_active_cluster_leaves_it_usable(stream_env, minicluster_cluster):
    numbers(stream_env, 0, 9, 2).map(lambda v: v).set_parallelism(5).add_sink(print)

    with pytest.raises(NotEnoughSlotsError, match=r"needs 5 slots .* has 4 \(2 TaskManagers x 2"):
        stream_env.execute("too wide")

    assert not minicluster_cluster.broken
    assert_session_cluster_still_works()


def test_slot_sharing_groups_add_up(stream_env, minicluster_cluster):
    (
        numbers(stream_env, 0, 9, 2)
        .map(lambda v: v).set_parallelism(3)
        .slot_sharing_group("other")
        .add_sink(lambda v: None).set_parallelism(3)
    )

    with pytest.raises(NotEnoughSlotsError, match=r"needs 5 slots \(per slot sharing group: "
                       r"'default': 2, 'other': 3\)"):
        stream_env.execute("two groups")


# -- a per-job cluster cleans up after a failure ------------------------------------


def test_per_job_cluster_is_removed_after_a_failure(monkeypatch):
    clusters = []
    original_start = MiniCluster.start

    def spy_start(self):
        result = original_start(self)
        clusters.append((self, self.runtime_dir, list(self.taskmanager_pids)))
        return result

    monkeypatch.setattr(MiniCluster, "start", spy_start)
    before = child_pids()
    env = StreamExecutionEnvironment.get_execution_environment(
        {"taskmanager.count": "2", "taskmanager.numberOfTaskSlots": "1"}
    ).set_parallelism(2)
    numbers(env, 0, 99, 2).map(fail_on_75).add_sink(lambda v: None)

    with pytest.raises(JobExecutionError, match="bad record 75"):
        env.execute("per-job failure")

    ((cluster, runtime_dir, pids),) = clusters
    assert len(pids) == 2
    assert not os.path.exists(runtime_dir)
    assert not any(psutil.pid_exists(pid) for pid in pids)
    assert child_pids() == before


# -- a TaskManager is killed --------------------------------------------------------


def test_sigkill_of_a_taskmanager_fails_the_job_with_taskmanager_lost():
    """numbers (p=2) -> Map (p=2): subtask 1 runs on TaskManager 0 and, on its first
    record, kills TaskManager 1 (running subtask 2) with SIGKILL."""
    before = child_pids()
    cluster = MiniCluster(taskmanagers=2, slots_per_taskmanager=2)
    cluster.start()
    runtime_dir = cluster.runtime_dir
    pids = list(cluster.taskmanager_pids)
    victim = pids[1]

    def kill_the_other_taskmanager(value):
        if os.getpid() != victim:
            os.kill(victim, signal.SIGKILL)
        time.sleep(0.001)
        return value

    try:
        with cluster.activate():
            env = StreamExecutionEnvironment.get_execution_environment().set_parallelism(2)
            numbers(env, 0, 10**9, 2).map(kill_the_other_taskmanager).add_sink(lambda v: None)
            started = time.monotonic()
            with pytest.raises(TaskManagerLostError) as raised:
                env.execute("victim")
            elapsed = time.monotonic() - started
            # The dead TaskManager was replaced: the cluster runs the next job.
            assert not cluster.broken
            assert cluster.taskmanager_pids[0] == pids[0]
            assert cluster.taskmanager_pids[1] not in pids
            replacement = cluster.taskmanager_pids[1]
            env.from_collection([1, 2, 3]).map(lambda v: v * 2).add_sink(lambda v: None)
            env.execute("after the loss")
    finally:
        cluster.stop()

    assert str(raised.value) == (
        f"Job 'victim' failed: TaskManager 1 (pid {victim}) was killed by SIGKILL "
        "while the job was running"
    )
    assert isinstance(raised.value, JobExecutionError)
    assert elapsed < PROMPT_S
    assert not os.path.exists(runtime_dir)
    assert not any(psutil.pid_exists(pid) for pid in pids + [replacement])
    assert child_pids() == before


# -- Ctrl-C on `minicluster run` ----------------------------------------------------

SLOW_JOB = """
import os
import time

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource


def slow(value):
    if value in (0, 50_000):  # the first record of each subtask
        os.write(1, f"MARKER {value}\\n".encode())  # straight to the terminal
    time.sleep(0.01)  # a batch of 1024 records takes ~10 s
    return value


env = StreamExecutionEnvironment.get_execution_environment()
env.from_source(
    NumberSequenceSource(0, 99_999), WatermarkStrategy.no_watermarks(), "numbers"
).map(slow).add_sink(lambda v: None)
env.execute("slow")
"""


def test_ctrl_c_cancels_a_running_job_mid_batch(tmp_path, private_tmpdir):
    script = tmp_path / "slow_job.py"
    script.write_text(SLOW_JOB)
    cli = shutil.which("minicluster")
    assert cli, "the minicluster console script is not installed"
    process = subprocess.Popen(
        [cli, "run", str(script), "-p", "2", "-D", "taskmanager.count=2",
         "-D", "minicluster.batch-size=1024"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(private_tmpdir)},
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(l) for l in process.stdout], daemon=True)
    reader.start()
    try:
        markers = {lines.get(timeout=30).strip() for _ in range(2)}
        assert markers == {"MARKER 0", "MARKER 50000"}
        taskmanagers = psutil.Process(process.pid).children()
        (runtime_dir,) = list(private_tmpdir.glob("minicluster-*"))
        assert len(taskmanagers) == 2

        os.killpg(process.pid, signal.SIGINT)
        interrupted = time.monotonic()
        returncode = process.wait(timeout=30)
        took = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    reader.join(5)

    assert returncode == 130, process.stderr.read()
    assert took < 3.0, f"cancelling took {took:.1f} s"
    assert "Cancelled." in process.stderr.read()
    alive = [tm for tm in taskmanagers if _running(tm)]
    assert alive == []
    assert not runtime_dir.exists()
    assert list(private_tmpdir.iterdir()) == []


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- the supervisor dies (SIGKILL): its TaskManagers clean up after it ------------------

BLOCKED_BATCH_JOB = """
import os
import sys
import time

from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment


def blocked(value):
    if value == 0:
        os.write(1, b"MARKER\\n")  # straight to the test: the first stage runs
        while True:
            time.sleep(0.05)  # until the TaskManager goes with its supervisor
    return value


env = StreamExecutionEnvironment.get_execution_environment({"io.tmp.dirs": sys.argv[1]})
env.set_runtime_mode(RuntimeExecutionMode.BATCH)
env.set_parallelism(2)
env.from_collection(list(range(100))).map(blocked).rebalance().add_sink(lambda v: None)
env.execute("blocked")
"""


def test_a_killed_supervisor_leaves_no_taskmanager_runtime_or_spill_folder(
    tmp_path, private_tmpdir
):
    script = tmp_path / "blocked_job.py"
    script.write_text(BLOCKED_BATCH_JOB)
    spill_base = private_tmpdir / "spill"
    process = subprocess.Popen(
        [sys.executable, str(script), str(spill_base)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(private_tmpdir)},
    )
    try:
        assert process.stdout.readline().strip() == "MARKER"
        taskmanagers = psutil.Process(process.pid).children()
        assert len(taskmanagers) == 2
        assert list(spill_base.glob("minicluster-spill-*")) != []
        process.kill()  # SIGKILL: the supervisor runs no cleanup at all
        process.wait(timeout=30)
        _, alive = psutil.wait_procs(taskmanagers, timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert alive == []
    assert list(spill_base.iterdir()) == []  # the spill folder went with them
    assert [p for p in private_tmpdir.iterdir() if p != spill_base] == []  # runtime folder
