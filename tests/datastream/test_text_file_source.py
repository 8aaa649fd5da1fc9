"""TextFileSource's byte-range splits, without processes: every line exactly once,
whatever the parallelism, the chunk size, line endings or a missing final newline."""

import random

import pytest

from minicluster.datastream import _builtin_sources
from minicluster.datastream._builtin_sources import TextFileSource


def expected_lines(content: bytes) -> list[str]:
    if not content:
        return []
    lines = content.decode("utf-8").split("\n")
    if content.endswith(b"\n"):
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_all(path: str, parallelism: int, batch_size: int = 3) -> list[str]:
    source = TextFileSource(path)
    lines = []
    for subtask in range(parallelism):
        for batch in source.create_batches(subtask, parallelism, batch_size):
            assert 0 < len(batch) <= batch_size
            lines.extend(batch)
    return lines


def random_content(rng: random.Random) -> bytes:
    pieces = []
    for _ in range(rng.randint(0, 25)):
        word = "".join(rng.choice("ab é日\t") for _ in range(rng.randint(0, 12)))
        pieces.append(word + rng.choice(["\n", "\n", "\r\n"]))
    text = "".join(pieces)
    if text and rng.random() < 0.4:
        text = text.rstrip("\r\n")  # no final newline
    return text.encode("utf-8")


@pytest.mark.parametrize("chunk_bytes", [1, 2, 5, 64, 1 << 20])
def test_every_line_exactly_once_for_every_parallelism(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(_builtin_sources, "_CHUNK_BYTES", chunk_bytes)
    rng = random.Random(chunk_bytes)
    for case in range(60):
        content = random_content(rng)
        path = tmp_path / f"case-{case}.txt"
        path.write_bytes(content)
        for parallelism in range(1, 8):
            assert read_all(str(path), parallelism) == expected_lines(content), (
                content, parallelism,
            )


@pytest.mark.parametrize(
    "content",
    [b"", b"\n", b"\n\n", b"one", b"one\n", b"a\r\nb\r\n", b"x\n\ny\n", "é\n日本\n".encode()],
)
def test_edge_cases(tmp_path, content):
    path = tmp_path / "edge.txt"
    path.write_bytes(content)
    for parallelism in (1, 2, 3, 5):
        assert read_all(str(path), parallelism) == expected_lines(content)


def test_missing_file_fails_before_anything_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        TextFileSource(str(tmp_path / "absent.txt"))
