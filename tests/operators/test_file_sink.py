"""The FileSink writer without processes, on an injected clock: part-file names, the
in-progress -> committed life cycle, discarding on failure, rolling by size (checked
before each record, batch fast path included) and by time; the builders' checks.
"""

from __future__ import annotations

import os
import re

import pytest

from minicluster.common import Duration, Encoder
from minicluster.common.execution_config import ExecutionConfig
from minicluster.datastream.connectors.file_system import (
    BucketAssigner,
    FileSink,
    OutputFileConfig,
    RollingPolicy,
)
from minicluster.operators.base import ProcessingTimeService

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Harness:
    """A FileSink's operator, opened as subtask 0 with a clock the test moves."""

    def __init__(self, sink: FileSink) -> None:
        self.now_ms = 1_000
        self.time = ProcessingTimeService(lambda: self.now_ms / 1000)
        self.operator = sink._create_writer_operator()
        self.operator.open(_Context(self.time))

    def push(self, values):
        self.operator.process_batch(list(values), None)

    def advance_clock_to(self, ms):
        self.now_ms = ms
        self.time.fire_due()


class _Context:
    def __init__(self, time):
        self.processing_time = time
        self.config = ExecutionConfig()  # no job_uuid: a random id per writer


def sink(base, prefix="part", suffix="", policy=None, check_ms=None):
    builder = FileSink.for_row_format(str(base), Encoder.simple_string_encoder()).with_output_file_config(
        OutputFileConfig.builder().with_part_prefix(prefix).with_part_suffix(suffix).build()
    )
    if policy is not None:
        builder = builder.with_rolling_policy(policy)
    if check_ms is not None:
        builder = builder.with_bucket_check_interval(check_ms)
    return builder.build()


def visible(base):
    return sorted(n for n in os.listdir(base) if not n.startswith("."))


def hidden(base):
    return sorted(n for n in os.listdir(base) if n.startswith("."))


def test_a_part_is_in_progress_until_the_end_of_input_then_renamed(tmp_path):
    harness = Harness(sink(tmp_path / "out", prefix="pre", suffix=".txt"))
    harness.push(["a", 1, ("t", 2)])

    assert visible(tmp_path / "out") == []
    (in_progress,) = hidden(tmp_path / "out")
    assert re.fullmatch(rf"\.pre-{UUID}-0\.txt\.inprogress\.{UUID}", in_progress)

    harness.operator.end_input()
    harness.operator.close()

    (final,) = visible(tmp_path / "out")
    assert hidden(tmp_path / "out") == []
    assert re.fullmatch(rf"pre-{UUID}-0\.txt", final)
    assert in_progress.startswith("." + final + ".inprogress.")
    assert (tmp_path / "out" / final).read_text() == "a\n1\n('t', 2)\n"


def test_closing_without_end_of_input_removes_every_part(tmp_path):
    harness = Harness(sink(tmp_path, policy=RollingPolicy.default_rolling_policy(part_size=4)))
    harness.push(["aaaa", "bbbb", "cccc"])  # rolls: two pending parts and an open one
    assert len(hidden(tmp_path)) == 3

    harness.operator.close()  # a failure or a cancel

    assert os.listdir(tmp_path) == []


def test_a_subtask_without_records_writes_no_file(tmp_path):
    harness = Harness(sink(tmp_path))
    harness.operator.end_input()
    harness.operator.close()

    assert os.listdir(tmp_path) == []


def test_rolling_by_size_checks_before_each_record(tmp_path):
    """A part rolls before a record once it holds more than part_size bytes."""
    harness = Harness(sink(tmp_path, policy=RollingPolicy.default_rolling_policy(part_size=4)))
    harness.push(["aaa", "bbb", "c"])  # 4 is not > 4: "bbb" joins; 8 > 4: "c" rolls
    harness.push(["dd", "e"])  # part 1: 2, then 2 + 3 = 5 > 4: "e" starts part 2
    harness.operator.end_input()

    names = visible(tmp_path)
    by_counter = {int(n.rsplit("-", 1)[1]): (tmp_path / n).read_text() for n in names}
    assert by_counter == {0: "aaa\nbbb\n", 1: "c\ndd\n", 2: "e\n"}
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1  # one uuid per subtask writer


def test_a_batch_that_fits_is_written_whole_with_the_same_result(tmp_path):
    records = [f"r{i:03d}" for i in range(100)]  # 5 bytes each
    per_record, whole = tmp_path / "a", tmp_path / "b"
    first = Harness(sink(per_record, policy=RollingPolicy.default_rolling_policy(part_size=49)))
    for record in records:
        first.push([record])
    first.operator.end_input()
    second = Harness(sink(whole, policy=RollingPolicy.default_rolling_policy(part_size=49)))
    for low in range(0, 100, 7):
        second.push(records[low : low + 7])
    second.operator.end_input()

    def parts(base):
        return [
            (base / n).read_text()
            for n in sorted(visible(base), key=lambda n: int(n.rsplit("-", 1)[1]))
        ]

    assert parts(per_record) == parts(whole)
    assert len(parts(whole)) == 10  # 10 records of 5 bytes = 50 > 49 per part


def test_on_checkpoint_rolling_writes_one_part(tmp_path):
    harness = Harness(sink(tmp_path, policy=RollingPolicy.on_checkpoint_rolling_policy()))
    for _ in range(50):
        harness.push(["x" * 100] * 10)
    harness.operator.end_input()

    (name,) = visible(tmp_path)
    assert os.path.getsize(tmp_path / name) == 50 * 10 * 101


def test_rolling_on_processing_time_by_age_and_inactivity(tmp_path):
    policy = RollingPolicy.default_rolling_policy(
        rollover_interval=Duration.of_seconds(10), inactivity_interval=3_000
    )
    harness = Harness(sink(tmp_path, policy=policy, check_ms=1_000))
    harness.push(["a"])  # part 0 created at 1 000
    harness.advance_clock_to(3_000)
    harness.push(["b"])
    harness.advance_clock_to(5_500)  # inactive for 2.5 s: keeps going
    harness.push(["c"])
    harness.advance_clock_to(11_000)  # 10 s old: rolls
    harness.push(["d"])  # part 1 at 11 000
    harness.advance_clock_to(14_000)  # inactive for 3 s: rolls
    harness.advance_clock_to(20_000)  # nothing open: nothing to roll
    harness.push(["e"])  # part 2
    harness.operator.end_input()

    contents = sorted((tmp_path / n).read_text() for n in visible(tmp_path))
    assert contents == ["a\nb\nc\n", "d\n", "e\n"]


def test_the_encoder_writes_str_and_a_newline_in_its_charset():
    encoder = Encoder.simple_string_encoder("ISO-8859-1")

    assert encoder.encode("café") == b"caf\xe9\n"
    assert encoder.encode_batch([1, None, "x"]) == b"1\nNone\nx\n"
    assert encoder.encode_batch([]) == b""
    with pytest.raises(ValueError, match="unknown charset"):
        Encoder.simple_string_encoder("klingon")


def test_builders_check_their_arguments(tmp_path):
    with pytest.raises(TypeError, match="takes an Encoder"):
        FileSink.for_row_format(str(tmp_path), "utf-8")
    builder = FileSink.for_row_format(str(tmp_path), Encoder.simple_string_encoder())
    with pytest.raises(TypeError, match="takes a RollingPolicy"):
        builder.with_rolling_policy("hourly")
    with pytest.raises(ValueError, match="part prefix must be a str without '/'"):
        OutputFileConfig.builder().with_part_prefix("a/b").build()
    with pytest.raises(ValueError, match="part_size must be >= 1"):
        RollingPolicy.default_rolling_policy(part_size=0)
    with pytest.raises(ValueError, match="rollover_interval must be a positive"):
        RollingPolicy.default_rolling_policy(rollover_interval=-1)
    with pytest.raises(NotImplementedError, match="date-time buckets are not supported"):
        BucketAssigner.date_time_bucket_assigner()
    assert builder.with_bucket_assigner(BucketAssigner.base_path_bucket_assigner()) is builder
    config = OutputFileConfig.builder().build()
    assert (config.get_part_prefix(), config.get_part_suffix()) == ("part", "")
