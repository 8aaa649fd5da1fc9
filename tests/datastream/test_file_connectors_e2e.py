"""FileSource and FileSink on a real cluster.

    FileSource(dir) --splits on demand--> readers (p = 1, 2, 4) --> map --> collect
    NumberSequenceSource --> map(str) --> FileSink(out)   part files, committed at end
    FileSource(dir) --> map --> FileSink(out) --> FileSource(out)   (round trip)

Checked: every line exactly once against plain Python (empty file, no final newline,
lines straddling tiny splits, nested and hidden entries); more splits than readers,
each split read whole by one reader and some reader reading several; part-file names,
contents and rolling; a failing job leaves no file at all; a missing path fails before
any process starts.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict

import psutil
import pytest

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors import NumberSequenceSource
from minicluster.datastream.connectors.file_system import (
    FileSink,
    FileSource,
    OutputFileConfig,
    RollingPolicy,
    StreamFormat,
)
from minicluster.datastream.functions import MapFunction
from minicluster.errors import JobExecutionError
from minicluster.jobmanager.cluster import MiniCluster
from minicluster.testing import assert_equal_unordered

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SPLIT_SIZE = "minicluster.source.file.split-size"


def text_source(*paths) -> FileSource:
    return FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), *map(str, paths)
    ).process_static_file_set().build()


def read(env, *paths):
    return env.from_source(text_source(*paths), WatermarkStrategy.no_watermarks(), "files")


def plain_lines(data: bytes) -> list[str]:
    """What Python's own line reading gives (terminators removed)."""
    return [line.rstrip("\r\n") for line in data.decode("utf-8").splitlines(keepends=True)]


def make_input(root) -> dict[str, bytes]:
    """A directory of every awkward case; returns the visible files' contents."""
    files = {
        "a.txt": "".join(f"alpha {i} {'x' * (i % 13)}\n" for i in range(60)).encode(),
        "b.txt": b"no trailing newline\nsecond\nlast",
        "empty.txt": b"",
        "crlf.txt": b"one\r\ntwo\r\n\r\nfour\r\n",
        "nested/deeper/c.txt": "é日本\n\n\nü\n".encode(),
        "nested/d.txt": b"\n".join(b"d%03d" % i + b"." * (i % 29) for i in range(120)),
    }
    hidden = {
        ".hidden.txt": b"never\n",
        "_SUCCESS": b"never\n",
        ".git/config": b"never\n",
        "_temporary/part-0": b"never\n",
        "nested/.part-0.inprogress.1234": b"never\n",
    }
    for name, data in {**files, **hidden}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


class TagSubtask(MapFunction):
    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        return (self.subtask, value)


# -- FileSource ---------------------------------------------------------------------


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_every_line_of_a_directory_exactly_once(stream_env, tmp_path, parallelism):
    files = make_input(tmp_path / "in")
    expected = [line for data in files.values() for line in plain_lines(data)]
    stream_env.set_parallelism(parallelism)
    stream_env.configure({SPLIT_SIZE: "7"})  # lines straddle most split boundaries

    out = list(read(stream_env, tmp_path / "in").execute_and_collect())

    assert_equal_unordered(out, expected)


def test_several_paths_files_and_directories(stream_env, tmp_path):
    files = make_input(tmp_path / "in")
    stream_env.set_parallelism(2)

    out = list(
        read(stream_env, tmp_path / "in" / "b.txt", tmp_path / "in" / "nested").execute_and_collect()
    )

    assert_equal_unordered(
        out,
        plain_lines(files["b.txt"]) + plain_lines(files["nested/deeper/c.txt"])
        + plain_lines(files["nested/d.txt"]),
    )


def test_more_splits_than_readers_are_handed_out_on_demand(stream_env, tmp_path):
    """Each split is read whole by one reader; with 4 readers and dozens of splits,
    some reader reads several: splits are assigned as readers ask, not up front."""
    split_size = 64
    root = tmp_path / "in"
    root.mkdir()
    owner_split = {}  # line -> (file, split index), each line unique
    for f in range(3):
        data = "".join(f"f{f} line {i:04d} {'z' * (i % 37)}\n" for i in range(150)).encode()
        (root / f"f{f}.txt").write_bytes(data)
        offset = 0
        for line in data.split(b"\n")[:-1]:
            owner_split[line.decode()] = (f, offset // split_size)
            offset += len(line) + 1
    splits = {s for s in owner_split.values()}
    stream_env.set_parallelism(4)
    stream_env.configure({SPLIT_SIZE: str(split_size), "minicluster.batch-size": "8"})

    out = list(read(stream_env, root).map(TagSubtask()).execute_and_collect())

    assert_equal_unordered([line for _, line in out], list(owner_split))
    readers_of_split = defaultdict(set)
    for subtask, line in out:
        readers_of_split[owner_split[line]].add(subtask)
    assert set(readers_of_split) == splits
    assert all(len(readers) == 1 for readers in readers_of_split.values())
    splits_per_reader = Counter(next(iter(r)) for r in readers_of_split.values())
    assert max(splits_per_reader.values()) > 1
    assert sum(splits_per_reader.values()) == len(splits) > 4


def test_an_empty_directory_gives_an_empty_stream(stream_env, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty").write_bytes(b"")
    stream_env.set_parallelism(2)

    assert list(read(stream_env, tmp_path / "in").execute_and_collect()) == []


def test_a_missing_path_fails_before_any_process_starts(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(MiniCluster, "start", lambda self: started.append(self))
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    (tmp_path / "there.txt").write_text("x\n")
    env = StreamExecutionEnvironment.get_execution_environment({"taskmanager.count": "1"})
    read(env, tmp_path / "there.txt", tmp_path / "absent").map(str).add_sink(print)

    with pytest.raises(FileNotFoundError, match=re.escape(repr(str(tmp_path / "absent")))):
        env.execute("missing input")

    assert started == []
    assert {p.pid for p in psutil.Process().children(recursive=True)} == children


# -- FileSink -----------------------------------------------------------------------


def numbers(env, first, last):
    return env.from_source(
        NumberSequenceSource(first, last), WatermarkStrategy.no_watermarks(), "numbers"
    )


def row_sink(base, prefix="part", suffix="", policy=None):
    builder = FileSink.for_row_format(str(base), Encoder.simple_string_encoder())
    builder = builder.with_output_file_config(
        OutputFileConfig.builder().with_part_prefix(prefix).with_part_suffix(suffix).build()
    )
    if policy is not None:
        builder = builder.with_rolling_policy(policy)
    return builder.build()


def part_files(base) -> dict[str, str]:
    return {name: (base / name).read_text() for name in sorted(os.listdir(base))}


@pytest.mark.parametrize("parallelism", [1, 3])
def test_one_part_file_per_subtask_named_by_the_output_file_config(stream_env, tmp_path, parallelism):
    stream_env.set_parallelism(parallelism)
    numbers(stream_env, 1, 1000).map(lambda n: f"n={n}").sink_to(
        row_sink(tmp_path / "out", prefix="result", suffix=".csv",
                 policy=RollingPolicy.on_checkpoint_rolling_policy())
    )

    stream_env.execute("file sink")

    parts = part_files(tmp_path / "out")  # hidden in-progress files would show here
    assert len(parts) == parallelism
    assert all(re.fullmatch(rf"result-{UUID}-0\.csv", name) for name in parts)
    lines = "".join(parts.values()).splitlines()
    assert_equal_unordered(lines, [f"n={n}" for n in range(1, 1001)])


def test_the_default_rolling_policy_rolls_by_size(stream_env, tmp_path):
    stream_env.set_parallelism(2)
    numbers(stream_env, 0, 999).map(lambda n: f"{n:09d}").sink_to(
        row_sink(tmp_path / "out", policy=RollingPolicy.default_rolling_policy(part_size=1000))
    )

    stream_env.execute("rolling sink")

    parts = part_files(tmp_path / "out")
    by_writer = defaultdict(list)
    for name, text in parts.items():
        match = re.fullmatch(rf"part-({UUID})-(\d+)", name)
        assert match, name
        by_writer[match.group(1)].append((int(match.group(2)), len(text)))
    assert len(by_writer) == 2  # one UUID per subtask
    for sizes in by_writer.values():
        sizes.sort()
        assert [counter for counter, _ in sizes] == list(range(len(sizes)))
        assert all(1000 < size <= 1010 for _, size in sizes[:-1])  # rolled past 1000 bytes
    assert sum(len(sizes) for sizes in by_writer.values()) >= 10
    lines = "".join(parts.values()).splitlines()
    assert_equal_unordered(lines, [f"{n:09d}" for n in range(1000)])


class FailAfter(MapFunction):
    """Raises at its ``count``-th record, naming the files in ``directory`` then."""

    def __init__(self, count, directory):
        self.count, self.directory, self.seen = count, str(directory), 0

    def map(self, value):
        self.seen += 1
        if self.seen == self.count:
            raise RuntimeError(f"boom; files then: {sorted(os.listdir(self.directory))}")
        return value


def test_a_failed_job_leaves_no_part_file(stream_env, tmp_path):
    """source -> map (fails at record 500) -> FileSink, chained, parallelism 1, batches
    of 50: the sink has written 9 batches into its in-progress file when the map fails."""
    out = tmp_path / "out"
    out.mkdir()
    stream_env.set_parallelism(1)
    stream_env.configure({"minicluster.batch-size": "50"})
    numbers(stream_env, 1, 10_000).map(FailAfter(500, out)).sink_to(row_sink(out))

    with pytest.raises(JobExecutionError, match=r"boom; files then: \['\.part-.*\.inprogress\."):
        stream_env.execute("failing sink")

    assert os.listdir(out) == []


def test_a_failed_parallel_job_leaves_no_part_file(stream_env, tmp_path):
    """numbers (p=2) -> map, fails in one subtask -> REBALANCE -> FileSink (p=2): each
    sink subtask waits for both map subtasks, so none ends before the failure, and
    the cancel removes what both were writing. Credit-based flow control keeps the
    failing map within a few batches of both sinks, so after 250 batches both have
    an in-progress file when it fails."""
    out = tmp_path / "out"
    stream_env.set_parallelism(2)
    stream_env.configure({"minicluster.batch-size": "20"})
    (
        numbers(stream_env, 1, 20_000)
        .map(FailAfter(5_000, out))
        .rebalance()
        .map(str)
        .sink_to(row_sink(out))
    )

    with pytest.raises(JobExecutionError, match="boom") as failure:
        stream_env.execute("failing parallel sink")

    assert len(re.findall(rf"'\.part-{UUID}-0\.inprogress\.{UUID}'", str(failure.value))) == 2
    assert os.listdir(out) == []


def test_file_source_to_file_sink_round_trip(stream_env, tmp_path):
    files = make_input(tmp_path / "in")
    stream_env.set_parallelism(2)
    stream_env.configure({SPLIT_SIZE: "32"})
    read(stream_env, tmp_path / "in").map(str.upper).sink_to(row_sink(tmp_path / "out"))
    stream_env.execute("etl")

    again = list(read(stream_env, tmp_path / "out").execute_and_collect())

    expected = [line.upper() for data in files.values() for line in plain_lines(data)]
    assert_equal_unordered(again, expected)
