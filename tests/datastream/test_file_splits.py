"""FileSource's pieces without processes: listing, splits, the enumerator, the split
reader's state machine (REQUEST_SPLIT / add_split), and every line exactly once when a
file is read split by split, whatever the split size.
"""

from __future__ import annotations

import random
import types

import pytest

from minicluster.datastream import _builtin_sources
from minicluster.common.execution_config import ExecutionConfig
from minicluster.datastream.connectors._file_splits import (
    FileSourceSplit,
    StaticFileSplitEnumerator,
    create_splits,
    list_files,
)
from minicluster.datastream.connectors.file_system import FileSource, StreamFormat
from minicluster.operators.sources import REQUEST_SPLIT
from minicluster.operators.split_source import SplitSourceOperator


def expected_lines(content: bytes) -> list[str]:
    if not content:
        return []
    lines = content.decode("utf-8").split("\n")
    if content.endswith(b"\n"):
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def source_over(*paths) -> FileSource:
    return FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), *map(str, paths)
    ).process_static_file_set().build()


def read_by_splits(source: FileSource, split_size: int, batch_size: int = 3) -> list[str]:
    enumerator = source.create_enumerator(2, ExecutionConfig(file_split_size=split_size))
    lines = []
    while (split := enumerator.next_split(0)) is not None:
        for batch in source.read_split(split, batch_size):
            assert 0 < len(batch) <= batch_size
            lines.extend(batch)
    return lines


# -- listing and splits ---------------------------------------------------------------


def test_directories_are_walked_recursively_in_name_order_skipping_hidden(tmp_path):
    for name in ["b.txt", "a.txt", "sub/z.txt", "sub/deeper/c.txt", ".hidden", "_SUCCESS",
                 ".git/config", "_temporary/part-0", "sub/.part-1.inprogress.x"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")

    files = list_files((str(tmp_path),))

    assert [f[len(str(tmp_path)) + 1 :] for f in files] == [
        "a.txt", "b.txt", "sub/deeper/c.txt", "sub/z.txt",
    ]


def test_a_path_named_explicitly_is_read_even_if_hidden(tmp_path):
    (tmp_path / "_data.txt").write_text("x\n")
    (tmp_path / "a.txt").write_text("y\n")

    assert list_files((str(tmp_path / "_data.txt"), str(tmp_path))) == [
        str(tmp_path / "_data.txt"), str(tmp_path / "a.txt"),
    ]


def test_a_missing_path_is_named(tmp_path):
    (tmp_path / "there.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="no such file or directory: .*absent"):
        list_files((str(tmp_path / "there.txt"), str(tmp_path / "absent")))


def test_files_are_cut_by_split_size_and_empty_files_have_none(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "b").write_bytes(b"")
    (tmp_path / "c").write_bytes(b"y" * 4)

    splits = create_splits((str(tmp_path),), 4)

    assert [(s.path[-1], s.offset, s.length) for s in splits] == [
        ("a", 0, 4), ("a", 4, 4), ("a", 8, 2), ("c", 0, 4),
    ]
    assert [s.split_id for s in splits] == ["0", "1", "2", "3"]
    assert len(create_splits((str(tmp_path),), 1 << 20)) == 2  # one per non-empty file


def test_a_split_validates_its_range():
    with pytest.raises(ValueError, match="length >= 1, got offset=0, length=0"):
        FileSourceSplit("0", "/x", 0, 0)


def test_the_enumerator_hands_out_splits_in_order_then_none():
    splits = [FileSourceSplit(str(i), "/f", i * 10, 10) for i in range(3)]
    enumerator = StaticFileSplitEnumerator(splits)

    got = [enumerator.next_split(1), enumerator.next_split(0), enumerator.next_split(1)]

    assert got == splits
    assert enumerator.next_split(0) is None
    assert enumerator.assignments == [(1, splits[0]), (0, splits[1]), (1, splits[2])]


def test_the_job_input_size_is_the_estimate_for_the_spill_folder():
    from minicluster.jobmanager.source_coordinator import SourceCoordinator

    first = StaticFileSplitEnumerator([FileSourceSplit("0", "/f", 0, 10)])
    second = StaticFileSplitEnumerator([FileSourceSplit(str(i), "/g", i, 1) for i in range(4)])
    assert (first.input_bytes(), second.input_bytes()) == (10, 4)
    assert SourceCoordinator({1: first, 2: second}).input_bytes() == 14
    assert SourceCoordinator().input_bytes() == 0  # collections: nothing from files


def test_the_input_size_counts_every_kind_of_source(tmp_path):
    from minicluster.datastream import StreamExecutionEnvironment
    from minicluster.datastream.connectors import NumberSequenceSource
    from minicluster.graph.job_graph import compile_job_graph
    from minicluster.jobmanager.source_coordinator import SourceCoordinator
    from minicluster.common.execution_config import ExecutionConfig
    from minicluster.common import WatermarkStrategy

    (tmp_path / "a.txt").write_text("x" * 1000)
    (tmp_path / "b.txt").write_text("y" * 300)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.read_text_file(str(tmp_path / "a.txt")).print()
    env.from_source(
        FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(tmp_path / "b.txt"))
        .build(), WatermarkStrategy.no_watermarks(), "b",
    ).print()
    env.from_source(NumberSequenceSource(1, 100), WatermarkStrategy.no_watermarks(), "n").print()
    env.from_collection([1, 2]).print()
    graph = env.get_stream_graph("sizes")

    coordinator = SourceCoordinator.for_job(graph, compile_job_graph(graph), ExecutionConfig())
    assert coordinator.input_bytes() == 1000 + 300 + 9 * 100


# -- reading split by split -----------------------------------------------------------


def random_content(rng: random.Random) -> bytes:
    pieces = []
    for _ in range(rng.randint(0, 20)):
        word = "".join(rng.choice("ab é日\t") for _ in range(rng.randint(0, 12)))
        pieces.append(word + rng.choice(["\n", "\n", "\r\n"]))
    text = "".join(pieces)
    if text and rng.random() < 0.4:
        text = text.rstrip("\r\n")  # no final newline
    return text.encode("utf-8")


@pytest.mark.parametrize("chunk_bytes", [1, 3, 1 << 20])
def test_every_line_exactly_once_for_every_split_size(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(_builtin_sources, "_CHUNK_BYTES", chunk_bytes)
    rng = random.Random(chunk_bytes)
    for case in range(40):
        content = random_content(rng)
        path = tmp_path / f"case-{case}.txt"
        path.write_bytes(content)
        for split_size in (1, 2, 3, 7, 64, 1 << 20):
            assert read_by_splits(source_over(path), split_size) == expected_lines(content), (
                content, split_size,
            )


def test_several_files_read_in_listing_order(tmp_path):
    (tmp_path / "b.txt").write_bytes(b"b1\nb2")
    (tmp_path / "a.txt").write_bytes(b"a1\na2\n")
    (tmp_path / "empty.txt").write_bytes(b"")

    assert read_by_splits(source_over(tmp_path), 2) == ["a1", "a2", "b1", "b2"]


def test_latin1_lines(tmp_path):
    (tmp_path / "l1.txt").write_bytes("caf\xe9\nna\xefve\n".encode("latin-1"))
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format("ISO-8859-1"), str(tmp_path)
    ).build()

    assert read_by_splits(source, 3) == ["café", "naïve"]


def test_charsets_that_do_not_write_newline_as_one_byte_are_refused():
    with pytest.raises(ValueError, match="ASCII-compatible"):
        StreamFormat.text_line_format("UTF-16")
    with pytest.raises(ValueError, match="unknown charset"):
        StreamFormat.text_line_format("no-such-charset")


def test_file_uris_and_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), "rel", f"file://{tmp_path}/x%20y"
    ).build()

    assert source.paths == (str(tmp_path / "rel"), str(tmp_path / "x y"))
    with pytest.raises(ValueError, match="only local paths"):
        FileSource.for_record_stream_format(StreamFormat.text_line_format(), "s3://b/k")


# -- the reader's state machine ---------------------------------------------------------


def test_the_reader_asks_for_a_split_whenever_it_has_none(tmp_path):
    (tmp_path / "f.txt").write_bytes(b"one\ntwo\nthree\n")
    source = source_over(tmp_path)
    splits = source.create_enumerator(1, ExecutionConfig(file_split_size=5))
    reader = SplitSourceOperator(source)
    reader.open(types.SimpleNamespace(batch_size=10))

    assert reader.next_batch() is REQUEST_SPLIT
    assert not reader.is_available()  # the task is not runnable until the answer
    reader.add_split(splits.next_split(0))  # [0, 5): "one", "two" start in it
    assert reader.is_available()
    assert reader.next_batch() == ["one", "two"]
    assert reader.next_batch() is REQUEST_SPLIT
    reader.add_split(splits.next_split(0))  # [5, 10): "three" starts at 8
    assert reader.next_batch() == ["three"]
    assert reader.next_batch() is REQUEST_SPLIT
    reader.add_split(splits.next_split(0))  # [10, 14): inside "three", no line starts
    assert reader.next_batch() is REQUEST_SPLIT
    reader.add_split(splits.next_split(0))
    assert splits.remaining == 0
    assert reader.next_batch() is None  # no more splits: the subtask finishes


def test_only_split_sources_get_a_split_reader():
    with pytest.raises(TypeError, match="is not a split source"):
        SplitSourceOperator(object())
