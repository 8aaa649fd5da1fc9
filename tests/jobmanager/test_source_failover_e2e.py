"""A re-run split-source subtask reads its splits again (Flink's ``addSplitsBack``).

    region 0                                                region 1
    [words file --FileSource (p=2, many splits)--> flat_map] ==HASH==> [sum -> FileSink]
                      (kills its TaskManager once, mid-input)

The killed subtask had taken splits from the enumerator; when it re-runs,
``SourceCoordinator.return_splits`` gives them back (its sibling, which keeps running,
may take them), so every line is counted once.
"""

from __future__ import annotations

import collections
import glob
import os
import select
import signal

import psutil

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors._file_splits import (
    FileSourceSplit,
    StaticFileSplitEnumerator,
)
from minicluster.datastream.connectors.file_system import FileSink, FileSource, StreamFormat
from minicluster.datastream.functions import FlatMapFunction
from minicluster.jobmanager.cluster import MiniCluster
from minicluster.jobmanager.source_coordinator import SourceCoordinator
from minicluster.slots import messages as msg


def test_return_splits_hands_a_re_run_subtasks_splits_out_again_first():
    splits = [FileSourceSplit(str(i), "/f", i * 10, 10) for i in range(4)]
    coordinator = SourceCoordinator({7: StaticFileSplitEnumerator(splits)})

    def ask(subtask):
        return coordinator.assign(msg.RequestSplit(1, 7, subtask)).split

    assert [ask(0), ask(1), ask(0)] == [splits[0], splits[1], splits[2]]
    coordinator.return_splits({(7, 0)})
    assert [ask(1), ask(1), ask(1), ask(1)] == [splits[0], splits[2], splits[3], None]
    coordinator.return_splits({(7, 0)})  # nothing more was given to subtask 0
    assert ask(0) is None


def word_count(tmp_path, lines, splitter, **config) -> tuple[object, dict[str, int]]:
    """Run the job over ``lines`` with ``splitter`` as the flat_map; (result, counts)."""
    (tmp_path / "words.txt").write_text("\n".join(lines) + "\n")
    env = StreamExecutionEnvironment.get_execution_environment({
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "2",
        "restart-strategy.fixed-delay.delay": "0 ms",
        "minicluster.batch-size": "64",
        "minicluster.source.file.split-size": "2048",  # many splits per subtask
        **config,
    })
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), str(tmp_path / "words.txt")
    ).process_static_file_set().build()
    out = tmp_path / "out"
    (
        env.from_source(source, WatermarkStrategy.no_watermarks(), "words")
        .flat_map(splitter)
        .key_by(lambda pair: pair[0])
        .sum(1)
        .map(lambda pair: f"{pair[0]}\t{pair[1]}")
        .sink_to(FileSink.for_row_format(str(out), Encoder.simple_string_encoder()).build())
    )
    result = env.execute("source failover")
    counted = {}
    for name in os.listdir(out):
        if not name.startswith("."):
            for row in (out / name).read_text().splitlines():
                word, count = row.split("\t")
                assert word not in counted
                counted[word] = int(count)
    return result, counted


LINES = [" ".join(f"w{(i * 7 + j) % 13}" for j in range(i % 5 + 1)) for i in range(3000)]
EXPECTED = dict(collections.Counter(word for line in LINES for word in line.split()))


def first_time(marker: str) -> bool:
    """True for exactly one caller over all processes and attempts."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def test_a_killed_source_subtask_re_reads_its_splits(tmp_path):
    marker = str(tmp_path / "killed")
    seen = [0]

    def words_then_die(line):
        seen[0] += 1
        if seen[0] == 500 and first_time(marker):
            os.kill(os.getpid(), signal.SIGKILL)
        return [(word, 1) for word in line.split()]

    _, counted = word_count(tmp_path, LINES, words_then_die)
    assert os.path.exists(marker)
    assert counted == EXPECTED


class KillZeroWhileOneWaits(FlatMapFunction):
    """Splits lines into ``(word, 1)``; every attempt appends ``subtask:attempt`` to
    ``log`` when it opens. Subtask 0's first attempt SIGKILLs its TaskManager at its
    500th line; subtask 1's first record waits on ``fifo`` until subtask 0's next
    attempt opens and writes a byte into it."""

    def __init__(self, log: str, fifo: str, marker: str, spill_base: str) -> None:
        self.log, self.fifo, self.marker, self.spill_base = log, fifo, marker, spill_base

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.attempt = runtime_context.get_attempt_number()
        self.lines = 0
        with open(self.log, "a") as file:
            file.write(f"{self.subtask}:{self.attempt}\n")
        if self.subtask == 0 and self.attempt > 0:  # the re-run: release subtask 1
            spilled = glob.glob(os.path.join(self.spill_base, "*", "*"))
            with open(self.log + ".spill", "w") as file:  # what the killed attempt left
                file.write("\n".join(sorted(os.path.basename(p) for p in spilled)))
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"x")
            os.close(fd)

    def flat_map(self, line):
        self.lines += 1
        if self.subtask == 1 and self.lines == 1:
            fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                readable, _, _ = select.select([fd], [], [], 60.0)
            finally:
                os.close(fd)
            if not readable:
                raise AssertionError("subtask 0 did not run again within 60 s")
        elif self.subtask == 0 and self.lines == 500 and first_time(self.marker):
            os.kill(os.getpid(), signal.SIGKILL)
        return [(word, 1) for word in line.split()]


def test_a_killed_subtask_re_runs_alone_while_its_sibling_keeps_running(tmp_path):
    """words (p=2) -> flat_map ==HASH==> sum -> FileSink on 2 TaskManagers x 1 slot.

    Subtask 0 of region 0 kills its TaskManager at its 500th line. Subtask 1 is
    mid-record meanwhile: its first record waits until subtask 0's next attempt opens,
    so it cannot finish before the failover, and the old behaviour (cancel the region)
    would have cancelled it. Only subtask 0 runs again (attempt 1, on the replacement
    TaskManager; subtask 1 may take the splits it gave back): subtask 1 opens once,
    every line is pushed exactly once by a finished attempt, region 0 counts two
    attempts and region 1 one."""
    log, fifo, marker = (str(tmp_path / name) for name in ("log", "fifo", "killed"))
    os.mkfifo(fifo)
    keep = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # keeps the byte until it is read
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    cluster = MiniCluster(taskmanagers=2, slots_per_taskmanager=1)
    try:
        with cluster.activate():
            pids = list(cluster.taskmanager_pids)
            spill_base = tmp_path / "spill"
            result, counted = word_count(
                tmp_path, LINES, KillZeroWhileOneWaits(log, fifo, marker, str(spill_base)),
                **{"io.tmp.dirs": str(spill_base)},
            )
            replaced = [pid for pid in cluster.taskmanager_pids if pid not in pids]
            assert not cluster.broken
    finally:
        os.close(keep)
    assert counted == EXPECTED
    assert sorted(open(log).read().split()) == ["0:0", "0:1", "1:0"]
    # the killed attempt's partial partition was deleted before its re-run deployed;
    # the re-run's and the running sibling's are there
    left = open(log + ".spill").read().split()
    assert not [name for name in left if "-subtask0." in name], left
    assert [name for name in left if "-subtask0-attempt1." in name]
    assert [name for name in left if "-subtask1." in name]
    assert [stats.attempts for stats in result.region_stats] == [2, 1]
    assert result.region_stats[0].records_in == len(LINES)
    assert result.region_stats[1].records_in == result.region_stats[0].records_out
    assert len(replaced) == 1
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before
