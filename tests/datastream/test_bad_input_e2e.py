"""Bad input: a CSV line with the wrong number of fields fails the job with the file,
the line number and the line; a function that drops bad lines itself succeeds.

(A missing input path failing before any process starts is tested in
``test_file_connectors_e2e.py`` and ``test_text_file_source.py``.)
"""

from __future__ import annotations

import re

import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSource, StreamFormat
from minicluster.errors import JobExecutionError

BAD_LINE = 1207  # 1-based
LINES = 2000


def _write_csv(path) -> list[str]:
    lines = [f"{i},{i % 7},{i * 3}" for i in range(LINES)]
    lines[BAD_LINE - 1] = "17,99"
    path.write_text("\n".join(lines) + "\n")
    return lines


def parse(line: str) -> tuple[int, int, int]:
    order, customer, amount = line.split(",")
    return int(order), int(customer), int(amount)


def _env(parallelism: int, split_size: str | None):
    config = {"minicluster.batch-size": "64"}
    if split_size is not None:
        config["minicluster.source.file.split-size"] = split_size
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    return env


def _read(env, path: str, how: str):
    if how == "file_source":
        source = FileSource.for_record_stream_format(
            StreamFormat.text_line_format(), path
        ).process_static_file_set().build()
        return env.from_source(source, WatermarkStrategy.no_watermarks(), "orders")
    return env.read_text_file(path)


def _expect_bad_line(path, run) -> None:
    with pytest.raises(JobExecutionError) as info:
        run()
    message = str(info.value)
    assert "ValueError" in message
    assert f"[record from {path} line {BAD_LINE}: '17,99']" in message, message


@pytest.mark.parametrize("how", ["file_source", "read_text_file"])
@pytest.mark.parametrize("parallelism,split_size", [(1, None), (2, None), (2, "4kb"), (1, "1kb")])
def test_wrong_field_count_names_file_line_and_content(tmp_path, how, parallelism, split_size):
    path = tmp_path / "orders.csv"
    _write_csv(path)
    env = _env(parallelism, split_size)
    _read(env, str(path), how).map(parse).add_sink(lambda v: None)
    _expect_bad_line(path, lambda: env.execute("bad input"))


def test_line_is_found_through_maps_and_a_filter(tmp_path):
    path = tmp_path / "orders.csv"
    _write_csv(path)
    env = _env(2, "2kb")
    (
        _read(env, str(path), "file_source")
        .map(str.strip)
        .filter(lambda line: not line.startswith("#"))
        .map(lambda line: line + "")
        .map(parse)
        .add_sink(lambda v: None)
    )
    _expect_bad_line(path, lambda: env.execute("bad input"))


def test_failing_sink_and_collect_name_the_line(tmp_path):
    path = tmp_path / "orders.csv"
    _write_csv(path)
    env = _env(1, "1kb")

    def sink(line: str) -> None:
        parse(line)

    _read(env, str(path), "read_text_file").add_sink(sink)
    _expect_bad_line(path, lambda: env.execute("bad input"))


def test_past_a_flat_map_the_file_and_the_record_are_named(tmp_path):
    path = tmp_path / "orders.csv"
    _write_csv(path)
    env = _env(1, None)
    _read(env, str(path), "file_source").flat_map(lambda line: [line]).map(parse).add_sink(
        lambda v: None
    )
    with pytest.raises(JobExecutionError, match=re.escape(f"[record '17,99', from {path} lines ")):
        env.execute("bad input")


@pytest.mark.parametrize("how", ["file_source", "read_text_file"])
@pytest.mark.parametrize("parallelism", [1, 2])
def test_user_function_that_drops_bad_lines_succeeds(tmp_path, how, parallelism):
    path = tmp_path / "orders.csv"
    lines = _write_csv(path)

    def parse_or_none(line: str):
        try:
            return parse(line)
        except ValueError:
            return None

    env = _env(parallelism, "4kb")
    stream = _read(env, str(path), how).map(parse_or_none).filter(lambda r: r is not None)
    with stream.execute_and_collect("drop bad lines") as results:
        got = sorted(results)
    expected = sorted(parse(line) for i, line in enumerate(lines) if i != BAD_LINE - 1)
    assert got == expected
