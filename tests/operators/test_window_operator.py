"""The window operator in a harness, without processes: processing-time windows on an
injected clock, state and timer cleanup, dropped late records, and the batch path
against the per-record path on the same input.

The operator under test is the one the DataStream API builds (``stream._node.operator``),
driven directly: ``push`` a batch, ``watermark(t)``, ``advance_clock_to(ms)``.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.common import Time
from minicluster.common.execution_config import ExecutionConfig
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.functions import AggregateFunction, ProcessWindowFunction
from minicluster.datastream.output_tag import OutputTag
from minicluster.datastream.state import ValueStateDescriptor
from minicluster.datastream.window import (
    ContinuousEventTimeTrigger,
    ContinuousProcessingTimeTrigger,
    EventTimeSessionWindows,
    ProcessingTimeSessionWindows,
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
)
from minicluster.network.events import MAX_WATERMARK
from minicluster.operators.base import OperatorContext, ProcessingTimeService


class CollectingOutput:
    def __init__(self) -> None:
        self.records: list = []
        self.side: dict[str, list] = defaultdict(list)
        self.watermarks: list[int] = []

    def collect(self, values, timestamps):
        self.records.extend(zip(values, timestamps or [None] * len(values)))

    def collect_side(self, tag_id, values, timestamps):
        self.side[tag_id].extend(zip(values, timestamps or [None] * len(values)))

    def emit_watermark(self, watermark):
        self.watermarks.append(watermark)

    def emit_watermark_status(self, idle):
        pass


class Harness:
    def __init__(self, stream, now_ms: int = 0) -> None:
        self.now_ms = now_ms
        self.operator = stream._node.operator
        self.clock = ProcessingTimeService(lambda: self.now_ms / 1000)
        self.output = self.operator.output = CollectingOutput()
        self.operator.open(
            OperatorContext(
                runtime_context=RuntimeContext("Window", 0, 1, 128),
                subtask_index=0, parallelism=1, max_parallelism=128, batch_size=64,
                config=ExecutionConfig(), processing_time=self.clock, open_client_channel=None,
            )
        )

    def push(self, values, timestamps=None):
        self.operator.process_batch(list(values), None if timestamps is None else list(timestamps))

    def push_events(self, events):
        """``events``: (timestamp, key, value) tuples, which are also the records."""
        self.push(events, [e[0] for e in events])

    def watermark(self, watermark):
        self.operator.process_watermark(watermark)

    def advance_clock_to(self, ms):
        self.now_ms = ms
        self.clock.fire_due()

    def results(self):
        return [value for value, _ in self.output.records]

    def state_entries(self) -> dict[str, int]:
        """Entries left per state name (empty tables are not listed)."""
        counts = {}
        for name, groups in self.operator.backend.tables.items():
            n = sum(len(entries) for entries in groups.values())
            if n:
                counts[name] = n
        return counts

    def pending_timers(self) -> int:
        timers = self.operator.timers
        return sum(len(e) for e in timers._event.values()) + sum(
            len(e) for e in timers._processing.values()
        )


@pytest.fixture
def env():
    return StreamExecutionEnvironment.get_execution_environment({"parallelism.default": "1"})


def keyed(env):
    return env.from_collection([]).key_by(lambda e: e[1])


class SumCount(AggregateFunction):
    def create_accumulator(self):
        return (0, 0)

    def add(self, value, accumulator):
        return (accumulator[0] + value[2], accumulator[1] + 1)

    def get_result(self, accumulator):
        return accumulator

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1])


def concatenate(a, b):
    return (a[0], a[1], a[2] + b[2])


class KeyWindowResult(ProcessWindowFunction):
    def process(self, key, context, elements):
        (result,) = elements
        yield (key, context.window().start, context.window().end, result)


# -- processing time ---------------------------------------------------------------------


def test_processing_time_tumbling_windows_fire_on_the_clock(env):
    harness = Harness(
        keyed(env).window(TumblingProcessingTimeWindows.of(Time.milliseconds(100)))
        .aggregate(SumCount(), KeyWindowResult()),
        now_ms=1_000,
    )
    harness.push([(0, "a", 1), (0, "b", 2)])
    harness.advance_clock_to(1_050)
    harness.push([(0, "a", 4)])
    assert harness.results() == []

    harness.advance_clock_to(1_099)

    assert sorted(harness.output.records) == [
        (("a", 1_000, 1_100, (5, 2)), 1_099),
        (("b", 1_000, 1_100, (2, 1)), 1_099),
    ]
    harness.advance_clock_to(1_150)
    harness.push([(0, "a", 8)])
    harness.advance_clock_to(1_300)
    assert harness.results()[-1] == ("a", 1_100, 1_200, (8, 1))
    assert harness.state_entries() == {} and harness.pending_timers() == 0


def test_processing_time_sessions_merge_on_the_clock(env):
    harness = Harness(
        keyed(env).window(ProcessingTimeSessionWindows.with_gap(Time.milliseconds(100)))
        .aggregate(SumCount(), KeyWindowResult()),
        now_ms=1_000,
    )
    harness.push([(0, "a", 1)])
    harness.advance_clock_to(1_080)
    harness.push([(0, "a", 2)])  # [1080, 1180) merges with [1000, 1100)
    harness.advance_clock_to(1_099)
    assert harness.results() == []  # the merged session's timer replaced the old one

    harness.advance_clock_to(1_179)

    assert harness.results() == [("a", 1_000, 1_180, (3, 2))]
    assert harness.state_entries() == {} and harness.pending_timers() == 0


# -- cleanup ------------------------------------------------------------------------------


@pytest.mark.parametrize("lateness", [0, 3_000])
def test_event_time_windows_leave_no_state_and_no_timers(env, lateness):
    harness = Harness(
        keyed(env).window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .allowed_lateness(lateness)
        .aggregate(SumCount(), KeyWindowResult())
    )
    harness.push_events([(1_000, "a", 1), (2_000, "b", 2), (15_000, "a", 4)])
    harness.watermark(12_000)
    harness.push_events([(9_000, "a", 8)])  # late: fires again if lateness allows it

    harness.watermark(MAX_WATERMARK)

    expected = [("a", 0, 10_000, (1, 1)), ("b", 0, 10_000, (2, 1))]
    if lateness:
        expected.append(("a", 0, 10_000, (9, 2)))
    expected.append(("a", 10_000, 20_000, (4, 1)))
    assert sorted(harness.results()) == sorted(expected)
    assert harness.state_entries() == {} and harness.pending_timers() == 0
    assert harness.operator.num_late_records_dropped == (0 if lateness else 1)
    assert harness.output.watermarks == [12_000, MAX_WATERMARK]


def test_session_windows_leave_no_state_and_no_timers(env):
    harness = Harness(
        keyed(env).window(EventTimeSessionWindows.with_gap(Time.seconds(1)))
        .aggregate(SumCount(), KeyWindowResult())
    )
    harness.push_events([(1_000, "a", 1), (3_000, "a", 2), (1_500, "a", 4), (2_400, "a", 8)])
    assert harness.state_entries() == {"window-contents": 1, "merging-window-set": 1}

    harness.watermark(MAX_WATERMARK)

    assert harness.results() == [("a", 1_000, 4_000, (15, 4))]
    assert harness.state_entries() == {} and harness.pending_timers() == 0


def test_late_records_without_a_side_output_are_counted_as_dropped(env):
    tag = OutputTag("late")
    with_tag = Harness(
        keyed(env).window(TumblingEventTimeWindows.of(10)).side_output_late_data(tag)
        .reduce(lambda a, b: (a[0], a[1], a[2] + b[2]))
    )
    without = Harness(
        keyed(env).window(TumblingEventTimeWindows.of(10)).reduce(concatenate)
    )
    for harness in (with_tag, without):
        harness.push_events([(5, "a", 1)])
        harness.watermark(20)
        harness.push_events([(3, "a", 2), (25, "a", 4), (9, "b", 8)])
        harness.watermark(MAX_WATERMARK)

    assert with_tag.output.side["late"] == [((3, "a", 2), 3), ((9, "b", 8), 9)]
    assert without.operator.num_late_records_dropped == 2 and not without.output.side
    assert with_tag.results() == without.results() == [(5, "a", 1), (25, "a", 4)]


# -- triggers and window-function state -------------------------------------------------------


def test_continuous_event_time_trigger_fires_every_interval_and_at_the_end(env):
    harness = Harness(
        keyed(env).window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .trigger(ContinuousEventTimeTrigger.of(Time.seconds(3)))
        .aggregate(SumCount(), KeyWindowResult())
    )
    harness.push_events([(1_000, "a", 1)])
    harness.watermark(3_000)
    harness.push_events([(4_000, "a", 2)])
    harness.watermark(MAX_WATERMARK)

    assert [(r[3], ts) for r, ts in harness.output.records] == [
        ((1, 1), 9_999),  # at 3000
        ((3, 2), 9_999),  # at 6000
        ((3, 2), 9_999),  # at 9000
        ((3, 2), 9_999),  # at the window's end
    ]
    assert harness.state_entries() == {} and harness.pending_timers() == 0


def test_continuous_processing_time_trigger_fires_every_interval_on_the_clock(env):
    harness = Harness(
        keyed(env).window(TumblingProcessingTimeWindows.of(Time.milliseconds(100)))
        .trigger(ContinuousProcessingTimeTrigger.of(Time.milliseconds(30)))
        .aggregate(SumCount(), KeyWindowResult()),
        now_ms=1_000,
    )
    harness.push([(0, "a", 1)])  # firings aligned to the interval: 1020, 1050, 1080
    harness.advance_clock_to(1_019)
    assert harness.results() == []
    harness.advance_clock_to(1_020)
    harness.push([(0, "a", 2)])
    harness.advance_clock_to(1_050)

    assert harness.results() == [("a", 1_000, 1_100, (1, 1)), ("a", 1_000, 1_100, (3, 2))]


class FiringCounter(ProcessWindowFunction):
    """Counts firings per window (window state) and windows per key (global state)."""

    firings = ValueStateDescriptor("firings")
    windows = ValueStateDescriptor("windows")

    def process(self, key, context, elements):
        firings = context.window_state().get_state(self.firings)
        firings.update((firings.value() or 0) + 1)
        windows = context.global_state().get_state(self.windows)
        if firings.value() == 1:
            windows.update((windows.value() or 0) + 1)
        total = sum(e[2] for e in elements)
        yield (key, context.window().end, total, firings.value(), windows.value())

    def clear(self, context):
        context.window_state().get_state(self.firings).clear()


def test_process_window_function_per_window_and_global_state(env):
    harness = Harness(
        keyed(env).window(TumblingEventTimeWindows.of(10)).allowed_lateness(10)
        .process(FiringCounter())
    )
    harness.push_events([(1, "a", 1), (12, "a", 2)])
    harness.watermark(10)
    harness.push_events([(5, "a", 4)])  # late firing of [0, 10)
    harness.watermark(MAX_WATERMARK)

    assert harness.results() == [
        ("a", 10, 1, 1, 1),
        ("a", 10, 5, 2, 1),
        ("a", 20, 2, 1, 2),
    ]
    assert harness.state_entries() == {"windows": 1}  # global state outlives windows


def test_per_window_state_is_refused_with_sessions(env):
    harness = Harness(
        keyed(env).window(EventTimeSessionWindows.with_gap(5)).process(FiringCounter())
    )
    harness.push_events([(1, "a", 1)])

    with pytest.raises(RuntimeError, match="not supported with merging windows"):
        harness.watermark(MAX_WATERMARK)


# -- batch path == per-record path ----------------------------------------------------------------


def random_batches(seed, n_batches=30, batch_size=50):
    rng = random.Random(seed)
    batches, now = [], 0
    for _ in range(n_batches):
        events = []
        # most batches are out of order but above the watermark (now - 500); some
        # also hold records far behind it (late, or late firings within the lateness)
        lags = [0, 0, 100, 400] + ([3_000] if rng.random() < 0.3 else [])
        for _ in range(batch_size):
            now += rng.randint(0, 40)
            lag = rng.choice(lags)
            timestamp = max(0, now - rng.randint(0, lag))
            events.append((timestamp, f"k{rng.randint(0, 4)}", rng.randint(1, 9)))
        batches.append((events, now - 500))
    return batches


@pytest.mark.parametrize(
    "build",
    [
        lambda s: s.window(TumblingEventTimeWindows.of(1_000))
        .aggregate(SumCount(), KeyWindowResult()),
        lambda s: s.window(TumblingEventTimeWindows.of(1_000, 300)).allowed_lateness(700)
        .side_output_late_data(OutputTag("late")).reduce(concatenate),
        lambda s: s.window(SlidingEventTimeWindows.of(1_000, 250)).allowed_lateness(200)
        .aggregate(SumCount(), KeyWindowResult()),
        lambda s: s.window(TumblingEventTimeWindows.of(800)).process(FiringCounter()),
    ],
    ids=["tumbling-aggregate", "tumbling-lateness-reduce", "sliding-aggregate", "tumbling-process"],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_batch_path_gives_the_per_record_result(env, build, seed):
    batched = Harness(build(keyed(env)))
    per_record = Harness(build(keyed(env)))
    assert batched.operator._batches is not None
    per_record.operator._batches = None
    per_record.operator._direct_fire = False

    for harness in (batched, per_record):
        for events, watermark in random_batches(seed):
            harness.push_events(events)
            harness.watermark(watermark)
        harness.watermark(MAX_WATERMARK)

    assert batched.output.records == per_record.output.records
    assert dict(batched.output.side) == dict(per_record.output.side)
    assert batched.operator.num_late_records_dropped == per_record.operator.num_late_records_dropped
    assert batched.state_entries() == per_record.state_entries()
