"""Interval join on real TaskManager processes, checked against a nested-loop join.

    left  (TestStream, p=1) --HASH--\\
                                     Interval Join (p=1|2) --> Gate --> WithTimestamp --> collect
    right (TestStream, p=1) --HASH--/

A left record at ``lt`` joins each right record of its key at ``rt`` with
``lt + lower <= rt <= lt + upper`` (``<`` where a bound is exclusive); the pair's
timestamp is ``max(lt, rt)``. A record behind the operator's watermark on arrival is
dropped; a buffered record is removed once the watermark passes its cleanup time.

The two inputs race, so the operator's watermark (the minimum of both) passes ``W``
only after both sides delivered ``W``; what a side sends after ``W`` may still arrive
first. Tests about late records therefore run in two phases: each side replays phase
one, ending with watermark ``W``, then waits until every ``Gate`` subtask (chained
behind the join) has seen ``W``, so phase two surely arrives behind it.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.common import Duration, Time
from minicluster.common.execution_config import ExecutionConfig
from minicluster.datastream import ProcessFunction, StreamExecutionEnvironment
from minicluster.datastream.functions import ProcessJoinFunction
from minicluster.errors import JobExecutionError
from minicluster.network.events import MAX_WATERMARK
from minicluster.operators.base import OperatorContext, ProcessingTimeService, StreamOperator
from minicluster.operators.interval_join import IntervalJoinOperator
from minicluster.operators.sources import SourceWatermarkStatus
from minicluster.state import subtask_for_key
from minicluster.testing import TestStream, TimestampedValue, assert_equal_unordered

GATE_TIMEOUT_S = 20.0
T = TimestampedValue


@pytest.fixture
def make_env(minicluster_cluster):
    def make(parallelism: int) -> StreamExecutionEnvironment:
        return StreamExecutionEnvironment.get_execution_environment(
            {
                "pipeline.auto-watermark-interval": "0",
                "minicluster.batch-size": "1",
                "parallelism.default": str(parallelism),
            }
        )

    return make


class Pair(ProcessJoinFunction):
    def process_element(self, left, right, ctx):
        yield (
            left, right, ctx.get_left_timestamp(), ctx.get_right_timestamp(), ctx.get_timestamp()
        )


class WithTimestamp(ProcessFunction):
    def process_element(self, value, ctx):
        yield value, ctx.timestamp()


class Gated:
    """Replays ``first``; then, if ``then`` is given, waits until every path in
    ``paths`` exists (failing the job after ``GATE_TIMEOUT_S``) and replays ``then``."""

    max_parallelism = 1

    def __init__(self, first: TestStream, paths=(), then: TestStream | None = None) -> None:
        self.first, self.paths, self.then = first, list(paths), then

    def create_batches(self, subtask_index, parallelism, batch_size):
        yield from self.first.create_batches(subtask_index, parallelism, batch_size)
        if self.then is None:
            return
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while not all(os.path.exists(path) for path in self.paths):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gate {self.paths} did not open in {GATE_TIMEOUT_S} s")
            yield SourceWatermarkStatus(False)  # a no-op for an active source
        yield from self.then.create_batches(subtask_index, parallelism, batch_size)


class Gate(StreamOperator):
    """Passes records on; once its watermark reaches ``at`` it creates the flag file
    ``<flag_dir>/wm-<subtask>``."""

    def __init__(self, at: int, flag_dir: str) -> None:
        self.at, self.flag_dir = at, flag_dir

    def open(self, ctx):
        self._flag = Path(self.flag_dir, f"wm-{ctx.subtask_index}")

    def process_batch(self, values, timestamps, input_index=0):
        self.output.collect(values, timestamps)

    def process_watermark(self, watermark):
        if watermark >= self.at:
            self._flag.touch()
        self.output.emit_watermark(watermark)


def script(records, watermark: int | None = None) -> TestStream:
    builder = TestStream.builder()
    if records:
        builder.add_elements(*[T(value, ts) for value, ts in records])
    if watermark is not None:
        builder.advance_watermark_to(watermark)
    return builder.build()


def key_of(record):
    return record[0]


def nested_loop_join(left, right, lower, upper, lower_exclusive=False, upper_exclusive=False):
    """Every ``((l, r, lt, rt, max), max)`` the join must emit, by definition."""
    out = []
    for l_value, lt in left:
        for r_value, rt in right:
            if key_of(l_value) != key_of(r_value):
                continue
            above = rt > lt + lower if lower_exclusive else rt >= lt + lower
            below = rt < lt + upper if upper_exclusive else rt <= lt + upper
            if above and below:
                out.append(((l_value, r_value, lt, rt, max(lt, rt)), max(lt, rt)))
    return out


def run_join(env, left_source, right_source, lower, upper, parallelism, *,
             lower_exclusive=False, upper_exclusive=False, gate=None):
    left = env.from_source(left_source, None, "left").key_by(key_of)
    right = env.from_source(right_source, None, "right").key_by(key_of)
    between = left.interval_join(right).between(lower, upper)
    if lower_exclusive:
        between = between.lower_bound_exclusive()
    if upper_exclusive:
        between = between.upper_bound_exclusive()
    joined = between.process(Pair()).set_parallelism(parallelism)
    if gate is not None:
        joined = joined._apply("Gate", Gate(*gate)).set_parallelism(parallelism)
    return list(joined.process(WithTimestamp()).execute_and_collect())


# -- against a nested-loop join ---------------------------------------------------------

rng = random.Random(20240607)
KEYS = "abc"  # at p=2: "a" and "b" on subtask 1, "c" on subtask 0
LEFT = [((k, f"L{i}"), rng.randrange(0, 40)) for i, k in enumerate(rng.choices(KEYS, k=30))]
RIGHT = [((k, f"R{i}"), rng.randrange(0, 40)) for i, k in enumerate(rng.choices(KEYS, k=30))]

BOUNDS = [
    # lower, upper, lower exclusive, upper exclusive
    pytest.param(Duration.of_millis(-3), Duration.of_millis(2), False, False, id="[-3,2]"),
    pytest.param(Duration.of_millis(-3), Duration.of_millis(2), True, True, id="(-3,2)"),
    pytest.param(Time.milliseconds(0), Time.milliseconds(0), False, False, id="[0,0]"),
    pytest.param(2, 6, False, True, id="[2,6)"),
    pytest.param(Duration.of_millis(-6), Duration.of_millis(-2), True, False, id="(-6,-2]"),
    pytest.param(Duration.of_millis(-1), Duration.of_millis(1), True, True, id="(-1,1)"),
]


def millis(bound):
    return bound if isinstance(bound, int) else bound.to_milliseconds()


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize("lower, upper, lower_exclusive, upper_exclusive", BOUNDS)
def test_interval_join_matches_a_nested_loop_join(
    make_env, parallelism, lower, upper, lower_exclusive, upper_exclusive
):
    """No watermark before the end of input: nothing is late, every pair is found."""
    env = make_env(parallelism)

    out = run_join(
        env, script(LEFT), script(RIGHT), lower, upper, parallelism,
        lower_exclusive=lower_exclusive, upper_exclusive=upper_exclusive,
    )

    expected = nested_loop_join(
        LEFT, RIGHT, millis(lower), millis(upper), lower_exclusive, upper_exclusive
    )
    assert len(expected) >= 5  # the data exercises the bounds
    assert {subtask_for_key(k, 2, 128) for k in KEYS} == {0, 1}
    assert_equal_unordered(out, expected)


def test_the_bounds_decide_exactly_which_right_records_join():
    """The nested loop itself, on hand-picked timestamps around [lt - 2, lt + 3]."""
    left = [(("k", "L"), 10)]
    right = [(("k", f"R{t}"), t) for t in range(6, 16)] + [(("other", "R10"), 10)]

    def joined(lower_exclusive, upper_exclusive):
        pairs = nested_loop_join(left, right, -2, 3, lower_exclusive, upper_exclusive)
        return [pair[0][3] for pair in pairs]

    assert joined(False, False) == [8, 9, 10, 11, 12, 13]
    assert joined(True, False) == [9, 10, 11, 12, 13]
    assert joined(False, True) == [8, 9, 10, 11, 12]
    assert joined(True, True) == [9, 10, 11, 12]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_pairs_carry_the_larger_timestamp(make_env, parallelism):
    env = make_env(parallelism)
    left = [(("k", "L1"), 100), (("j", "L2"), 50)]
    right = [(("k", "R1"), 95), (("k", "R2"), 104), (("j", "R3"), 50)]

    out = run_join(env, script(left), script(right), -5, 5, parallelism)

    assert_equal_unordered(out, [
        ((("k", "L1"), ("k", "R1"), 100, 95, 100), 100),
        ((("k", "L1"), ("k", "R2"), 100, 104, 104), 104),
        ((("j", "L2"), ("j", "R3"), 50, 50, 50), 50),
    ])


# -- late records and cleanup -----------------------------------------------------------


@pytest.mark.parametrize("parallelism", [1, 2])
def test_records_behind_the_watermark_are_dropped(make_env, tmp_path, parallelism):
    """Bounds [-5, 5], watermark 20 between the phases; key "a" (subtask 1 at p=2).

    phase 1   left L10@10, L18@18          right R12@12     -> (L10, R12)
    W = 20    cleanup: L10 (at 15) and R12 (at 17) go; L18 (at 23) stays
    phase 2   left L22@22, L19@19 (late)   right R19@19 (late), R21@21
              -> (L18, R21), (L22, R21); the late R19 would have matched L18 and
              L22, the late L19 would have matched R21: all dropped
    """
    env = make_env(parallelism)
    flags = [str(tmp_path / f"wm-{i}") for i in range(parallelism)]
    left = Gated(
        script([(("a", "L10"), 10), (("a", "L18"), 18)], 20), flags,
        script([(("a", "L22"), 22), (("a", "L19"), 19)]),
    )
    right = Gated(
        script([(("a", "R12"), 12)], 20), flags,
        script([(("a", "R19"), 19), (("a", "R21"), 21)]),
    )

    out = run_join(env, left, right, -5, 5, parallelism, gate=(20, str(tmp_path)))

    assert_equal_unordered(out, [
        ((("a", "L10"), ("a", "R12"), 10, 12, 12), 12),
        ((("a", "L18"), ("a", "R21"), 18, 21, 21), 21),
        ((("a", "L22"), ("a", "R21"), 22, 21, 22), 22),
    ])


@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_buffer_is_cleaned_once_the_watermark_reaches_its_cleanup_time(
    make_env, tmp_path, parallelism
):
    """Bounds [0, 5], watermark 15 between the phases; as in Flink's
    ``IntervalJoinOperator``, timers fire at ``timestamp <= watermark`` but only
    ``timestamp < watermark`` is late.

    phase 1   left L10@10              right R14@14      -> (L10, R14)
    W = 15    L10's cleanup time 10 + 5 = 15 has come: L10 is removed (R14 too)
    phase 2   left L15@15              right R15@15 (not late, 15 is not < 15)
              -> (L15, R15) only: R15 lies in L10's interval [10, 15], but L10 is gone
    """
    env = make_env(parallelism)
    flags = [str(tmp_path / f"wm-{i}") for i in range(parallelism)]
    left = Gated(script([(("k", "L10"), 10)], 15), flags, script([(("k", "L15"), 15)]))
    right = Gated(script([(("k", "R14"), 14)], 15), flags, script([(("k", "R15"), 15)]))

    out = run_join(env, left, right, 0, 5, parallelism, gate=(15, str(tmp_path)))

    assert_equal_unordered(out, [
        ((("k", "L10"), ("k", "R14"), 10, 14, 14), 14),
        ((("k", "L15"), ("k", "R15"), 15, 15, 15), 15),
    ])


@pytest.mark.parametrize("parallelism", [1, 2])
def test_buffered_records_still_join_until_their_cleanup_time(make_env, tmp_path, parallelism):
    """Bounds [-10, -2] (the right side is older): a right record at 8 waits in the
    buffer for left records up to 8 + 10 = 18; watermark 12 between the phases."""
    env = make_env(parallelism)
    flags = [str(tmp_path / f"wm-{i}") for i in range(parallelism)]
    left = Gated(script([], 12), flags, script([(("k", "L17"), 17), (("k", "L19"), 19)]))
    right = Gated(script([(("k", "R8"), 8)], 12), flags, script([(("k", "R14"), 14)]))

    out = run_join(env, left, right, -10, -2, parallelism, gate=(12, str(tmp_path)))

    assert_equal_unordered(out, [
        ((("k", "L17"), ("k", "R8"), 17, 8, 17), 17),  # 8 in [7, 15]
        ((("k", "L17"), ("k", "R14"), 17, 14, 17), 17),  # 14 in [7, 15]
        ((("k", "L19"), ("k", "R14"), 19, 14, 19), 19),  # 14 in [9, 17]; 8 is not
    ])


# -- the operator's buffers, without processes ------------------------------------------


class RecordingOutput:
    def __init__(self) -> None:
        self.records: list = []
        self.watermarks: list = []

    def collect(self, values, timestamps):
        self.records.extend(zip(values, timestamps or [None] * len(values)))

    def collect_side(self, tag_id, values, timestamps):
        raise AssertionError("no side output expected")

    def emit_watermark(self, watermark):
        self.watermarks.append(watermark)

    def emit_watermark_status(self, idle):
        pass


def open_operator(lower, upper, lower_inclusive=True, upper_inclusive=True):
    operator = IntervalJoinOperator(
        key_of, key_of, lower, upper, lower_inclusive, upper_inclusive, Pair()
    )
    operator.output = RecordingOutput()
    operator.open(OperatorContext(
        runtime_context=RuntimeContext("Interval Join", 0, 1, 128),
        subtask_index=0, parallelism=1, max_parallelism=128, batch_size=16, config=ExecutionConfig(),
        processing_time=ProcessingTimeService(lambda: 0), open_client_channel=None,
    ))
    return operator


def buffered(operator):
    """``{side: sorted timestamps buffered}`` over every key."""
    out = {}
    for side, state in (("left", "interval-join-left"), ("right", "interval-join-right")):
        out[side] = sorted(
            ts
            for group in operator.backend.tables.get(state, {}).values()
            for stored in group.values()
            for ts in stored
        )
    return out


def test_buffers_are_emptied_as_the_watermark_passes_each_cleanup_time():
    operator = open_operator(-2, 3)
    operator.process_batch([("a", "L1"), ("b", "L2")], [10, 20], 0)
    operator.process_batch([("a", "R1"), ("b", "R2")], [11, 30], 1)
    assert buffered(operator) == {"left": [10, 20], "right": [11, 30]}

    operator.process_watermark(12)  # R11's cleanup time: 11 + 2 = 13
    assert buffered(operator) == {"left": [10, 20], "right": [11, 30]}
    operator.process_watermark(13)  # L10's: 10 + 3 = 13; R11's: 13
    assert buffered(operator) == {"left": [20], "right": [30]}
    operator.process_watermark(MAX_WATERMARK)
    assert buffered(operator) == {"left": [], "right": []}
    assert operator.output.records == [((("a", "L1"), ("a", "R1"), 10, 11, 11), 11)]
    assert operator.output.watermarks == [12, 13, MAX_WATERMARK]


def test_late_records_are_counted_and_not_buffered():
    operator = open_operator(0, 5)
    operator.process_watermark(10)
    operator.process_batch([("a", "L9"), ("a", "L10")], [9, 10], 0)

    assert operator.late_records_dropped == 1
    assert buffered(operator) == {"left": [10], "right": []}


# -- invalid use ------------------------------------------------------------------------


def keyed(env):
    return env.from_collection([("k", 1)]).key_by(key_of)


def test_lower_bound_after_upper_bound_is_refused():
    env = StreamExecutionEnvironment.get_execution_environment()

    with pytest.raises(ValueError, match=r"between\(5, 2\): the lower bound must not be after"):
        keyed(env).interval_join(keyed(env)).between(Duration.of_millis(5), Duration.of_millis(2))


@pytest.mark.parametrize(
    "lower, upper, exclusive",
    [(0, 0, "lower"), (0, 0, "upper"), (2, 3, "both")],
)
def test_exclusive_bounds_that_leave_an_empty_interval_are_refused(lower, upper, exclusive):
    env = StreamExecutionEnvironment.get_execution_environment()
    between = keyed(env).interval_join(keyed(env)).between(lower, upper)
    if exclusive in ("lower", "both"):
        between = between.lower_bound_exclusive()
    if exclusive in ("upper", "both"):
        between = between.upper_bound_exclusive()

    with pytest.raises(
        ValueError,
        match=rf"interval join: the lower bound {lower} must not be after the upper bound {upper}",
    ):
        between.process(Pair())


@pytest.mark.parametrize("bound", ["1", 1.5, True, None])
def test_bounds_must_be_durations_or_int_millis(bound):
    env = StreamExecutionEnvironment.get_execution_environment()

    with pytest.raises(TypeError, match="the lower bound must be a Duration, Time or int"):
        keyed(env).interval_join(keyed(env)).between(bound, 5)


def test_the_other_side_must_be_keyed():
    env = StreamExecutionEnvironment.get_execution_environment()

    with pytest.raises(TypeError, match=r"call key_by\(\) on it first"):
        keyed(env).interval_join(env.from_collection([1]))


def test_a_join_without_event_time_fails_the_job(make_env):
    env = make_env(1)
    left, right = keyed(env), keyed(env)
    left.interval_join(right).between(0, 1).process(Pair()).add_sink(lambda value: None)

    with pytest.raises(JobExecutionError, match="interval join needs event time"):
        env.execute("no event time")
