"""FileSource.monitor_continuously: an unbounded source that reads new files as they
appear; BATCH mode refuses it, AUTOMATIC runs it as STREAMING."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager

import psutil
import pytest

from minicluster.common import Duration, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors import Boundedness
from minicluster.datastream.connectors._file_splits import ContinuousFileSplitEnumerator
from minicluster.datastream.connectors.file_system import FileSource, StreamFormat
from minicluster.errors import InvalidProgramError
from minicluster.jobmanager.source_coordinator import SourceCoordinator
from minicluster.slots import messages as msg


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def write_atomically(path, text: str) -> None:
    """Write under a hidden name, then rename: a watcher never sees half a file."""
    hidden = path.parent / f".{path.name}.tmp"
    hidden.write_text(text)
    os.rename(hidden, path)


def watched(directory, interval=Duration.of_millis(20)) -> FileSource:
    return (
        FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(directory))
        .monitor_continuously(interval)
        .build()
    )


# -- the builder and the enumerator -----------------------------------------------------


def test_monitoring_makes_the_source_unbounded(tmp_path):
    builder = FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(tmp_path))
    assert builder.build().get_boundedness() is Boundedness.BOUNDED
    source = builder.monitor_continuously(Duration.of_seconds(2)).build()
    assert source.get_boundedness() is Boundedness.CONTINUOUS_UNBOUNDED
    assert source.discovery_interval_ms == 2000
    assert builder.process_static_file_set().build().get_boundedness() is Boundedness.BOUNDED


def test_a_bad_discovery_interval_is_refused(tmp_path):
    builder = FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(tmp_path))
    with pytest.raises(TypeError, match="takes a Duration"):
        builder.monitor_continuously(1000)
    with pytest.raises(ValueError, match="at least 1 ms"):
        builder.monitor_continuously(Duration.of_millis(0))


def test_the_enumerator_reads_each_new_file_once(tmp_path):
    (tmp_path / "a.txt").write_text("a1\na2\n")
    clock = FakeClock()
    enumerator = ContinuousFileSplitEnumerator((str(tmp_path),), 4, 500, clock=clock)

    first = [enumerator.next_split(0), enumerator.next_split(1)]
    assert [(s.path, s.offset, s.length) for s in first] == [
        (str(tmp_path / "a.txt"), 0, 4), (str(tmp_path / "a.txt"), 4, 2)
    ]
    assert enumerator.next_split(0) is None  # none yet (not "no more")
    assert enumerator.next_discovery == 100.5

    (tmp_path / "b.txt").write_text("b1\n")
    (tmp_path / ".c.txt").write_text("hidden\n")
    (tmp_path / "a.txt").write_text("a1\na2\nmore\n")  # seen already: not read again
    clock.now = 101.0
    assert enumerator.discover() == 1
    split = enumerator.next_split(1)
    assert (split.split_id, split.path, split.offset, split.length) == (
        "2", str(tmp_path / "b.txt"), 0, 3
    )
    assert enumerator.next_discovery == 101.5
    assert enumerator.discover() == 0
    assert enumerator.next_split(0) is None


def test_a_watched_folder_that_disappears_is_skipped_until_it_returns(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    enumerator = ContinuousFileSplitEnumerator((str(folder),), 1 << 20, 10, clock=FakeClock())
    folder.rmdir()
    assert enumerator.discover() == 0
    folder.mkdir()
    (folder / "x.txt").write_text("x\n")
    assert enumerator.discover() == 1


def test_a_missing_watched_path_fails_the_submission(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        ContinuousFileSplitEnumerator((str(tmp_path / "nope"),), 1 << 20, 10)


def test_requests_wait_for_a_discovery_and_are_answered_in_order(tmp_path):
    enumerator = ContinuousFileSplitEnumerator((str(tmp_path),), 2, 1, clock=FakeClock())
    enumerator.next_discovery = 0.0  # due at once (the coordinator reads time.monotonic)
    coordinator = SourceCoordinator({7: enumerator}, unbounded=frozenset({7}))
    assert coordinator.assign(msg.RequestSplit(0, 7, 1)) is None
    assert coordinator.assign(msg.RequestSplit(0, 7, 0)) is None
    assert coordinator.discover_due() == []  # nothing new: both still wait

    (tmp_path / "f.txt").write_text("abc\n")  # two splits of 2 bytes
    enumerator.next_discovery = 0.0
    answers = coordinator.discover_due()
    assert [(a.subtask_index, a.split.offset) for a in answers] == [(1, 0), (0, 2)]
    assert coordinator.next_deadline() == enumerator.next_discovery

    coordinator.take_back(answers[0])  # its reader was gone: the next asker reads it
    again = coordinator.assign(msg.RequestSplit(0, 7, 0))
    assert again.split == answers[0].split and again.subtask_index == 0


class UnboundedWithoutDiscovery:
    """An unbounded source whose enumerator cannot discover anything."""

    def get_boundedness(self):
        return Boundedness.CONTINUOUS_UNBOUNDED

    def create_enumerator(self, parallelism, config):
        return object()

    def read_split(self, split, batch_size):
        return iter(())


def test_an_unbounded_source_needs_an_enumerator_that_discovers():
    from minicluster.common.execution_config import ExecutionConfig
    from minicluster.graph.job_graph import compile_job_graph

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_source(UnboundedWithoutDiscovery(), None, "odd").print()
    graph = env.get_stream_graph("odd")
    with pytest.raises(TypeError, match="'Source: odd' is unbounded, but its split enumerator"):
        SourceCoordinator.for_job(graph, compile_job_graph(graph), ExecutionConfig())


# -- on a cluster ------------------------------------------------------------------------


@contextmanager
def deadline(seconds: int):
    """Fail (cancelling the job) instead of hanging if a discovery never comes."""
    def expire(signum, frame):
        raise TimeoutError(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_batch_mode_refuses_an_unbounded_source_before_any_process_starts(tmp_path):
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.from_source(watched(tmp_path), WatermarkStrategy.no_watermarks(), "watched").print()
    with pytest.raises(InvalidProgramError, match=(
        r"BATCH mode, but its source 'Source: watched' is unbounded \(CONTINUOUS_UNBOUNDED\)"
    )):
        env.execute("refused")
    assert {p.pid for p in psutil.Process().children(recursive=True)} == children


def test_new_files_are_read_until_the_job_is_cancelled(minicluster_cluster, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "1.txt").write_text("a\nb\na\n")
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.AUTOMATIC)  # unbounded source: STREAMING
    env.set_parallelism(2)
    counts = (
        env.from_source(watched(folder), WatermarkStrategy.no_watermarks(), "watched")
        .map(lambda word: (word, 1))
        .key_by(lambda pair: pair[0])
        .sum(1)
        .execute_and_collect()
    )
    with deadline(60):
        first = sorted(next(counts) for _ in range(3))
        write_atomically(folder / "2.txt", "b\nc\n")
        second = sorted(next(counts) for _ in range(2))
    counts.close()  # cancels the job: the source never ends by itself

    assert first == [("a", 1), ("a", 2), ("b", 1)]  # running updates: STREAMING
    assert second == [("b", 2), ("c", 1)]
    assert sorted(os.listdir(folder)) == ["1.txt", "2.txt"]
