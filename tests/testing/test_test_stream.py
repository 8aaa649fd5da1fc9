"""``TestStream``: what the builder records and what the source replays, without
processes. (On a cluster, ``tests/operators/test_timestamps_e2e.py`` runs it.)"""

from __future__ import annotations

import json
import pickle

import pytest

from minicluster.datastream import StreamExecutionEnvironment
from minicluster.errors import InvalidProgramError
from minicluster.graph.job_graph import compile_job_graph
from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.operators.sources import SourceBatch, SourceWatermark, SourceWatermarkStatus
from minicluster.testing import TestStream, TimestampedValue


def replay(stream: TestStream, batch_size: int = 100) -> list:
    return list(stream.create_batches(0, 1, batch_size))


def test_the_builder_records_records_watermarks_and_idleness_in_order():
    stream = (
        TestStream.builder()
        .add_elements(TimestampedValue("a", 1), TimestampedValue("b", 5))
        .advance_watermark_to(4)
        .add_elements(TimestampedValue("late", 2))
        .mark_idle()
        .add_elements("x", "y", timestamp=9)
        .mark_active()
        .add_elements("no event time")
        .advance_watermark_to_infinity()
        .build()
    )

    assert replay(stream) == [
        SourceBatch(["a", "b"], [1, 5]),
        SourceWatermark(4),
        SourceBatch(["late"], [2]),
        SourceWatermarkStatus(True),
        SourceBatch(["x", "y"], [9, 9]),
        SourceWatermarkStatus(False),
        ["no event time"],
        SourceWatermark(MAX_WATERMARK),
    ]
    assert repr(stream) == "TestStream(6 records, 2 watermarks)"


def test_batches_are_split_to_the_batch_size():
    stream = (
        TestStream.builder()
        .add_elements(*[TimestampedValue(i, i) for i in range(5)])
        .add_elements(*"abc")
        .build()
    )

    assert replay(stream, batch_size=2) == [
        SourceBatch([0, 1], [0, 1]),
        SourceBatch([2, 3], [2, 3]),
        SourceBatch([4], [4]),
        ["a", "b"],
        ["c"],
    ]


def test_tuples_are_values_not_timestamps():
    stream = TestStream.builder().add_elements(("key", 7)).build()

    assert replay(stream) == [[("key", 7)]]


def test_only_the_first_subtask_replays():
    stream = TestStream.builder().add_elements(1).advance_watermark_to(3).build()

    assert list(stream.create_batches(1, 2, 10)) == []
    assert TestStream.max_parallelism == 1


def test_a_watermark_that_does_not_advance_is_not_recorded_twice():
    stream = TestStream.builder().advance_watermark_to(5).advance_watermark_to(5).build()

    assert replay(stream) == [SourceWatermark(5)]


def test_an_empty_stream_replays_nothing():
    assert replay(TestStream.builder().build()) == []


def test_a_test_stream_pickles():
    stream = TestStream.builder().add_elements(TimestampedValue("a", 1)).build()

    assert replay(pickle.loads(pickle.dumps(stream))) == replay(stream)


# -- invalid scripts ---------------------------------------------------------------------


def test_the_watermark_cannot_go_back():
    builder = TestStream.builder().advance_watermark_to(10)

    with pytest.raises(ValueError, match=r"to\(9\): the watermark is already at 10"):
        builder.advance_watermark_to(9)


def test_no_record_after_infinity():
    builder = TestStream.builder().advance_watermark_to_infinity()

    with pytest.raises(ValueError, match="after advance_watermark_to_infinity"):
        builder.add_elements(TimestampedValue("a", 1))


def test_add_elements_needs_elements():
    with pytest.raises(ValueError, match="at least one element"):
        TestStream.builder().add_elements()


def test_one_call_cannot_mix_timestamped_and_plain_values():
    with pytest.raises(ValueError, match="give every record a timestamp or none"):
        TestStream.builder().add_elements(TimestampedValue("a", 1), "b")


def test_a_default_timestamp_completes_plain_values():
    stream = TestStream.builder().add_elements(TimestampedValue("a", 1), "b", timestamp=3).build()

    assert replay(stream) == [SourceBatch(["a", "b"], [1, 3])]


@pytest.mark.parametrize("bad", [1.5, "1", True, None])
def test_timestamps_are_ints(bad):
    with pytest.raises(TypeError, match="must be an int"):
        TimestampedValue("a", bad)
    if bad is not None:
        with pytest.raises(TypeError, match="must be an int"):
            TestStream.builder().advance_watermark_to(bad)
        with pytest.raises(TypeError, match="must be an int"):
            TestStream.builder().add_elements("a", timestamp=bad)


def test_timestamps_are_64_bit():
    with pytest.raises(ValueError, match="outside the 64-bit"):
        TimestampedValue("a", MAX_WATERMARK + 1)
    with pytest.raises(ValueError, match="outside the 64-bit"):
        TestStream.builder().advance_watermark_to(MIN_WATERMARK - 1)


def test_the_constructor_takes_only_source_items():
    with pytest.raises(TypeError, match="use TestStream.builder"):
        TestStream(("not an event",))


def test_source_batch_needs_one_timestamp_per_value():
    with pytest.raises(ValueError, match="2 values but 1 timestamps"):
        SourceBatch(["a", "b"], [1])


# -- in a job graph ------------------------------------------------------------------------


def test_a_test_stream_source_is_non_parallel():
    env = StreamExecutionEnvironment.get_execution_environment({"parallelism.default": "3"})
    stream = TestStream.builder().add_elements(1).build()
    env.from_source(stream, None, "scripted").map(lambda v: v).print()

    plan = json.loads(env.get_execution_plan())

    assert [node["parallelism"] for node in plan["nodes"]] == [1, 3, 3]


def test_a_test_stream_source_refuses_a_higher_parallelism():
    env = StreamExecutionEnvironment.get_execution_environment()
    stream = TestStream.builder().add_elements(1).build()
    env.from_source(stream, None, "scripted").set_parallelism(2).print()

    with pytest.raises(InvalidProgramError, match="non-parallel"):
        compile_job_graph(env.get_stream_graph())
