"""Event time on real TaskManagers: timestamps travel with records, watermarks in-band.

Timestamps are observed with a ``ProcessFunction`` that returns ``ctx.timestamp()``.
Watermarks are observed with ``WatermarkRecorder``, a test-only runtime operator that
turns everything it receives into records, in the order it received them::

    ... --> Watermark Recorder --> collect
            ("R", subtask, value, timestamp)   a record
            ("WM", subtask, watermark)         process_watermark() was called
            ("END", subtask)                   end_input()

A recorder behind a network edge sees the task's watermark: the minimum over its input
channels that are neither idle nor finished. Most jobs run with
``pipeline.auto-watermark-interval: 0`` and ``minicluster.batch-size: 1``: a periodic
watermark after every record. The session cluster (2 TaskManagers x 2 slots) runs
every job.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import pytest

from minicluster.common import Duration, WatermarkStrategy
from minicluster.common.watermark_strategy import Watermark, WatermarkGenerator
from minicluster.datastream import ProcessFunction, StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.output_tag import OutputTag
from minicluster.network.events import MAX_WATERMARK
from minicluster.operators.base import StreamOperator
from minicluster.operators.sources import SourceWatermarkStatus
from minicluster.testing import TestStream, TimestampedValue, assert_equal_unordered

EVERY_RECORD = {"pipeline.auto-watermark-interval": "0", "minicluster.batch-size": "1"}
TIMEOUT_S = 15.0


@pytest.fixture
def make_env(minicluster_cluster):
    """``make_env(parallelism, **config)``: an environment on the session cluster."""

    def make(parallelism: int = 1, config: dict | None = None) -> StreamExecutionEnvironment:
        settings = dict(EVERY_RECORD if config is None else config)
        settings["parallelism.default"] = str(parallelism)
        return StreamExecutionEnvironment.get_execution_environment(settings)

    return make


# -- test-only operators, functions and sources ------------------------------------------


class WatermarkRecorder(StreamOperator):
    """Emits, at the end of its input, a log of what it received (see the module
    docstring), as one batch.

    One batch at the end keeps the log in order across the client channel and does
    not depend on the credit left in the last step (see
    ``test_every_batch_of_the_last_step_reaches_the_client``).

    With ``touch=(watermark, path)`` it creates the file ``path`` once its watermark
    reaches ``watermark``, to let a ``HeldOpen`` source finish.
    """

    def __init__(self, touch: tuple[int, str] | None = None) -> None:
        self.touch = touch

    def open(self, ctx):
        self._subtask = ctx.subtask_index
        self._log = []

    def process_batch(self, values, timestamps, input_index=0):
        subtask = self._subtask
        if timestamps is None:
            timestamps = [None] * len(values)
        self._log.extend(("R", subtask, v, t) for v, t in zip(values, timestamps))

    def process_watermark(self, watermark):
        self._log.append(("WM", self._subtask, watermark))
        if self.touch is not None and watermark >= self.touch[0]:
            open(self.touch[1], "a").close()
        self.output.emit_watermark(watermark)

    def end_input(self):
        self._log.append(("END", self._subtask))
        self.output.collect(self._log, None)


class HeldOpen:
    """Replays a ``TestStream``, then stays open (neither records nor watermarks) until
    ``path`` exists, then replays ``then``. Bounded by a timeout, so that a broken
    engine fails the test instead of hanging it."""

    max_parallelism = 1

    def __init__(self, first: TestStream, path: str, then: TestStream | None = None) -> None:
        self.first, self.path, self.then = first, path, then

    def create_batches(self, subtask_index, parallelism, batch_size):
        yield from self.first.create_batches(subtask_index, parallelism, batch_size)
        deadline = time.monotonic() + TIMEOUT_S
        while not os.path.exists(self.path) and time.monotonic() < deadline:
            # A no-op for the source operator: the task stays runnable without
            # blocking the TaskManager loop that runs the other subtasks.
            yield SourceWatermarkStatus(self.idle_at_end())
        if self.then is not None:
            yield from self.then.create_batches(subtask_index, parallelism, batch_size)

    def idle_at_end(self) -> bool:
        idle = False
        for event in self.first.events:
            # records and watermarks make the source active again
            idle = event.idle if type(event) is SourceWatermarkStatus else False
        return idle


class WithTimestamp(ProcessFunction):
    def process_element(self, value, ctx):
        yield value, ctx.timestamp()


class IdleOnEveryEvent(WatermarkGenerator):
    """Never emits a watermark; marks the subtask idle as soon as it sees a record."""

    def on_event(self, event, event_timestamp, output):
        output.mark_idle()

    def on_periodic_emit(self, output):
        pass


class AtMultiplesOfThree(WatermarkGenerator):
    """Punctuated: a watermark at the timestamp of every record whose value is a
    multiple of 3."""

    def on_event(self, event, event_timestamp, output):
        if event % 3 == 0:
            output.emit_watermark(Watermark(event_timestamp))

    def on_periodic_emit(self, output):
        pass


# -- helpers ---------------------------------------------------------------------------------


def record_watermarks(stream, parallelism: int = 1, touch=None, chained: bool = True):
    """Run the job with a recorder appended; return each recorder subtask's log."""
    recorded = stream._apply("Watermark Recorder", WatermarkRecorder(touch))
    recorded.set_parallelism(parallelism)
    if not chained:
        recorded.disable_chaining()
    logs: dict[int, list] = defaultdict(list)
    for event in recorded.execute_and_collect():
        kind, subtask, *rest = event
        logs[subtask].append((kind, *rest))
    return dict(logs)


def watermarks(log: list) -> list[int]:
    return [entry[1] for entry in log if entry[0] == "WM"]


def records(log: list) -> list:
    return [(entry[1], entry[2]) for entry in log if entry[0] == "R"]


def assert_watermarks_well_formed(log: list, records_after_max: bool = False) -> None:
    """Strictly increasing; the maximum exactly once, then the end of input. Only an
    input that was idle may still deliver records after the maximum (late ones)."""
    seen = watermarks(log)
    assert seen == sorted(set(seen)), f"watermarks went back or repeated: {seen}"
    assert seen.count(MAX_WATERMARK) == 1, f"expected one final MAX_WATERMARK: {seen}"
    assert log[-1] == ("END",), f"log ends with {log[-3:]}"
    if not records_after_max:
        assert log[-2] == ("WM", MAX_WATERMARK), f"log ends with {log[-3:]}"


def numbers(env, last: int, strategy: WatermarkStrategy):
    return env.from_source(NumberSequenceSource(1, last), strategy, "numbers")


def ten_times(value, record_timestamp):
    return value * 10


# -- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize("parallelism", [1, 2])
def test_process_function_sees_assigned_timestamps(make_env, parallelism):
    env = make_env(parallelism)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ten_times)

    result = list(numbers(env, 20, strategy).process(WithTimestamp()).execute_and_collect())

    assert_equal_unordered(result, [(n, n * 10) for n in range(1, 21)])


@pytest.mark.parametrize("parallelism", [1, 2])
def test_records_without_event_time_have_no_timestamp(make_env, parallelism):
    env = make_env(parallelism)

    result = list(
        numbers(env, 10, WatermarkStrategy.no_watermarks()).process(WithTimestamp())
        .execute_and_collect()
    )

    assert_equal_unordered(result, [(n, None) for n in range(1, 11)])


@pytest.mark.parametrize("parallelism", [1, 2])
def test_timestamps_survive_map_filter_flat_map_key_by_and_rebalance(make_env, parallelism):
    env = make_env(parallelism)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ten_times)

    result = list(
        numbers(env, 12, strategy)
        .map(lambda n: (n, n * n))
        .filter(lambda pair: pair[0] % 2 == 0)
        .flat_map(lambda pair: [pair, (-pair[0], pair[1])])
        .key_by(lambda pair: abs(pair[0]))
        .map(lambda pair: pair)
        .rebalance()
        .process(WithTimestamp())
        .execute_and_collect()
    )

    expected = []
    for n in range(2, 13, 2):
        expected += [((n, n * n), n * 10), ((-n, n * n), n * 10)]
    assert_equal_unordered(result, expected)


@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_keyed_reduce_emits_with_the_timestamp_of_the_record_that_updated_it(
    make_env, parallelism
):
    env = make_env(parallelism)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ten_times)

    result = list(
        numbers(env, 6, strategy)
        .key_by(lambda n: n <= 3)  # each key read, in order, by one source subtask
        .reduce(lambda a, b: a + b)
        .process(WithTimestamp())
        .execute_and_collect()
    )

    # running sums: 1, 3, 6 at 10, 20, 30 and 4, 9, 15 at 40, 50, 60
    assert_equal_unordered(result, [(1, 10), (3, 20), (6, 30), (4, 40), (9, 50), (15, 60)])


class SplitOdd(ProcessFunction):
    """Even numbers to the main output; odd ones to a side output, both ways PyFlink
    allows (``ctx.output`` and ``yield tag, value``)."""

    def __init__(self, tag: OutputTag) -> None:
        self.tag = tag

    def process_element(self, value, ctx):
        if value % 2 == 0:
            yield value
        elif value % 4 == 1:
            ctx.output(self.tag, value)
        else:
            yield self.tag, value


@pytest.mark.parametrize("parallelism", [1, 2])
def test_side_output_records_keep_their_timestamps(make_env, parallelism):
    env = make_env(parallelism)
    tag = OutputTag("odd")
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ten_times)
    split = numbers(env, 10, strategy).process(SplitOdd(tag))

    odd = split.get_side_output(tag).key_by(lambda n: n % 3).map(lambda n: n)
    result = list(odd.process(WithTimestamp()).execute_and_collect())

    assert_equal_unordered(result, [(n, n * 10) for n in (1, 3, 5, 7, 9)])


def test_get_side_output_takes_an_output_tag(make_env):
    stream = make_env(1).from_collection([1]).process(SplitOdd(OutputTag("odd")))

    with pytest.raises(TypeError, match="get_side_output\\(\\) takes an OutputTag, got 'odd'"):
        stream.get_side_output("odd")


# -- watermarks: where they come from --------------------------------------------------------


@pytest.mark.parametrize("chained", [True, False], ids=["chained", "network"])
def test_punctuated_watermarks_follow_the_record_that_caused_them(make_env, chained):
    # one batch of ten records and no periodic watermark: only the generator speaks
    env = make_env(1, {"pipeline.auto-watermark-interval": "1 min"})
    strategy = WatermarkStrategy.for_generator(AtMultiplesOfThree).with_timestamp_assigner(
        ten_times
    )
    stream = env.from_collection(list(range(1, 11))).assign_timestamps_and_watermarks(strategy)

    log = record_watermarks(stream, chained=chained)[0]

    assert log == [
        ("R", 1, 10), ("R", 2, 20), ("R", 3, 30), ("WM", 30),
        ("R", 4, 40), ("R", 5, 50), ("R", 6, 60), ("WM", 60),
        ("R", 7, 70), ("R", 8, 80), ("R", 9, 90), ("WM", 90),
        ("R", 10, 100), ("WM", MAX_WATERMARK), ("END",),
    ]  # fmt: skip


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize(
    "strategy",
    [
        WatermarkStrategy.no_watermarks(),
        WatermarkStrategy.no_watermarks().with_timestamp_assigner(ten_times),
    ],
    ids=["no-timestamps", "with-timestamps"],
)
def test_no_watermarks_gives_only_the_final_one(make_env, parallelism, strategy):
    env = make_env(parallelism)
    stream = numbers(env, 10, strategy).rebalance()

    logs = record_watermarks(stream, parallelism)

    assert sorted(logs) == list(range(parallelism))
    for log in logs.values():
        assert watermarks(log) == [MAX_WATERMARK]
        assert_watermarks_well_formed(log)
    timestamped = strategy.create_timestamp_assigner() is not None
    assert_equal_unordered(
        [r for log in logs.values() for r in records(log)],
        [(n, n * 10 if timestamped else None) for n in range(1, 11)],
    )


@pytest.mark.parametrize("parallelism", [1, 2])
def test_periodic_watermarks_advance_with_the_records(make_env, parallelism):
    env = make_env(parallelism)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ten_times)

    logs = record_watermarks(numbers(env, 10, strategy), parallelism)

    for subtask, log in logs.items():
        assert_watermarks_well_formed(log)
        # chained behind one source subtask: a watermark of (timestamp - 1) after
        # each record, since every batch is one record and the interval is 0
        expected = []
        for value, timestamp in records(log):
            expected += [("R", value, timestamp), ("WM", timestamp - 1)]
        assert log == expected + [("WM", MAX_WATERMARK), ("END",)]


# -- watermarks: across the network ----------------------------------------------------------


@pytest.mark.parametrize("parallelism", [1, 2])
def test_watermarks_across_a_keyed_shuffle_never_make_in_order_records_late(
    make_env, parallelism
):
    """source (p) --HASH--> recorder (p). Each source subtask's timestamps increase, so
    a record is never at or behind the watermark of its own channel; the recorder's
    watermark is the min over channels, so no record is late there either. Source
    subtask 1 reads 101..200 while subtask 0 reads 1..100: with max instead of min,
    records of subtask 0 would arrive late."""
    env = make_env(parallelism)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, ts: value
    )
    stream = numbers(env, 200, strategy).key_by(lambda n: n % 7)

    logs = record_watermarks(stream, parallelism)

    assert sorted(logs) == list(range(parallelism))
    for subtask, log in logs.items():
        assert_watermarks_well_formed(log)
        finite = [w for w in watermarks(log) if w != MAX_WATERMARK]
        assert finite, f"subtask {subtask} saw only the final watermark"
        assert set(finite) <= set(range(0, 200))
        current = None
        for entry in log:
            if entry[0] == "WM":
                current = entry[1]
            elif entry[0] == "R" and current is not None:
                assert entry[2] > current, f"record {entry} arrived late, watermark {current}"
    assert_equal_unordered(
        [v for log in logs.values() for v, _ in records(log)], range(1, 201)
    )


def marked(name: str, watermark_steps: list[int]) -> TestStream:
    """A stream announcing each watermark: a record ("name", "before", w), the
    watermark w, a record ("name", "after", w)."""
    builder = TestStream.builder()
    for step in watermark_steps:
        builder.add_elements((name, "before", step))
        builder.advance_watermark_to(step)
        builder.add_elements((name, "after", step))
    builder.add_elements((name, "before", MAX_WATERMARK))
    return builder.advance_watermark_to_infinity().build()


def test_a_union_holds_the_watermark_at_its_slowest_input(make_env):
    """fast --\\
               union --> recorder (1)
    slow --/

    When the recorder emits watermark w, each input's own watermark lies between its
    last "after" and its last "before" announcement, and w is their minimum."""
    env = make_env(1)
    fast = env.from_source(marked("fast", [100, 200, 300]), None, "fast")
    slow = env.from_source(marked("slow", [10, 20, 30]), None, "slow")

    log = record_watermarks(fast.union(slow), chained=False)[0]

    assert_watermarks_well_formed(log)
    before = {"fast": float("-inf"), "slow": float("-inf")}
    after = dict(before)
    emitted = []
    for entry in log:
        if entry[0] == "R":
            name, when, step = entry[1]
            (before if when == "before" else after)[name] = step
        elif entry[0] == "WM" and entry[1] != MAX_WATERMARK:
            emitted.append(entry[1])
            assert min(after.values()) <= entry[1] <= min(before.values()), (entry, log)
    assert emitted, log
    assert set(emitted) <= {10, 20, 30, 100, 200, 300}


@pytest.mark.parametrize("how", ["test-stream", "generator", "idle-timeout"])
def test_an_idle_input_does_not_hold_back_the_union(make_env, tmp_path, how):
    """active --\\
                 union --> recorder (1): creates `flag` at watermark 30
    quiet  --/

    Both sources stay open until `flag` exists; `quiet` emits no watermark at all, only
    idleness (explicitly, from its WatermarkGenerator, or after an idle timeout). So the
    recorder reaches 30 only if the idle input is left out of the minimum, and the
    quiet source's last record ("quiet", "done") comes after that."""
    env = make_env(1)
    flag = str(tmp_path / "flag")
    active_events = TestStream.builder()
    for step in (10, 20, 30):
        active_events.add_elements(("active", step), timestamp=step)
        active_events.advance_watermark_to(step)
    active = env.from_source(HeldOpen(active_events.build(), flag), None, "active")
    done = TestStream.builder().add_elements(("quiet", "done"), timestamp=1_000).build()
    if how == "test-stream":
        quiet_events = TestStream.builder().mark_idle().build()
        quiet = env.from_source(HeldOpen(quiet_events, flag, done), None, "quiet")
    else:
        first = TestStream.builder().add_elements(("quiet", "first"), timestamp=1).build()
        if how == "generator":
            strategy = WatermarkStrategy.for_generator(IdleOnEveryEvent)
        else:
            strategy = WatermarkStrategy.no_watermarks().with_idleness(Duration.of_millis(50))
        strategy = strategy.with_timestamp_assigner(lambda value, ts: ts)
        quiet = env.from_source(HeldOpen(first, flag, done), strategy, "quiet")

    log = record_watermarks(active.union(quiet), touch=(30, flag), chained=False)[0]

    # "done" may come after MAX: the active input can end while the quiet one is idle
    assert_watermarks_well_formed(log, records_after_max=True)
    # 10 and 20 may be skipped if the idleness arrives late; 30 must come before "done"
    assert set(watermarks(log)) <= {10, 20, 30, MAX_WATERMARK}
    assert log.index(("WM", 30)) < log.index(("R", ("quiet", "done"), 1_000)), log


# -- watermarks: the end of input ------------------------------------------------------------


@pytest.mark.parametrize("chained", [True, False], ids=["chained", "network"])
def test_an_explicit_infinite_watermark_is_delivered_once(make_env, chained):
    env = make_env(1)
    stream = (
        TestStream.builder()
        .add_elements(TimestampedValue("a", 1))
        .advance_watermark_to(5)
        .advance_watermark_to_infinity()
        .build()
    )

    log = record_watermarks(env.from_source(stream, None, "test"), chained=chained)[0]

    assert log == [("R", "a", 1), ("WM", 5), ("WM", MAX_WATERMARK), ("END",)]


def test_a_source_idle_at_its_end_still_delivers_the_final_watermark(make_env):
    env = make_env(1)
    stream = TestStream.builder().add_elements(TimestampedValue("a", 1)).mark_idle().build()

    log = record_watermarks(env.from_source(stream, None, "test"), chained=False)[0]

    assert log == [("R", "a", 1), ("WM", MAX_WATERMARK), ("END",)]


def test_a_generator_idle_at_the_end_still_delivers_the_final_watermark(make_env):
    """Regression: ``TimestampsAndWatermarksOperator`` must mark an idle subtask active
    before it emits a watermark (Flink's ``WatermarkEmitter`` does); otherwise the
    consumer, which leaves idle channels out of the minimum, finishes without reaching
    the end of event time and its event-time timers and windows never fire."""
    env = make_env(1)
    strategy = WatermarkStrategy.for_generator(IdleOnEveryEvent).with_timestamp_assigner(
        ten_times
    )
    stream = env.from_collection([1, 2, 3]).assign_timestamps_and_watermarks(strategy)

    log = record_watermarks(stream, chained=False)[0]

    assert log == [
        ("R", 1, 10), ("R", 2, 20), ("R", 3, 30), ("WM", MAX_WATERMARK), ("END",),
    ]  # fmt: skip


class EndOfInputBatches(StreamOperator):
    """Emits ``count`` batches of one record each when its input ends."""

    def __init__(self, count: int) -> None:
        self.count = count

    def process_batch(self, values, timestamps, input_index=0):
        pass

    def end_input(self):
        for i in range(self.count):
            self.output.collect([i], None)


def test_every_batch_of_the_last_step_reaches_the_client(make_env):
    """Regression: a task must not report TaskFinished while batches its collect sink
    could not send for lack of credit (the client channel has
    ``buffers-per-channel`` = 4) still wait in ``pending``; the supervisor would end
    the job and lose them. Windows and timers that fire at the end of input emit
    exactly such bursts."""
    env = make_env(1)
    stream = env.from_collection([1])._apply("Burst", EndOfInputBatches(10))

    assert sorted(stream.execute_and_collect()) == list(range(10))
