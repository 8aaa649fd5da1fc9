"""Window pre-aggregation (combiner lifting) on real TaskManagers: the results, main and
late side output, are the same with ``minicluster.window.pre-aggregation`` on and off,
and the same as a plain-Python computation of Flink's window semantics.

Two shapes of job:

    collection (p=1) -> timestamps (p=1) -> [Window Pre-Aggregate (p=1)] -HASH-> Window (p)
        random out-of-order events, some late, some within the allowed lateness; a
        watermark after every source batch, so the sequence of records and watermarks
        every window subtask sees is exact and the plain-Python simulation below
        reproduces it, late firings and side output included.

    collection (p=1) -REBALANCE-> map, timestamps (p) -> [Window Pre-Aggregate (p)]
        -HASH-> Window (p)
        parallel pre-aggregators whose input is out of order by less than the bound, so
        no record is late whatever the interleaving and the result is deterministic.

The plan tests check where the pre-aggregator is (and is not) inserted.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest

from minicluster.common import Duration, Time, WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.functions import (
    AggregateFunction,
    KeySelector,
    ProcessWindowFunction,
    ReduceFunction,
)
from minicluster.datastream.output_tag import OutputTag
from minicluster.datastream.window import (
    ContinuousEventTimeTrigger,
    CountEvictor,
    EventTimeSessionWindows,
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
)
from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.testing import TestStream, TimestampedValue, assert_equal_unordered

PARALLELISM = [1, 2]
PRE_AGGREGATE = "Window Pre-Aggregate"
LATE = OutputTag("late")


# -- functions ---------------------------------------------------------------------------


class SumCount(AggregateFunction):
    """Immutable accumulators."""

    def create_accumulator(self):
        return (0, 0)

    def add(self, value, accumulator):
        return (accumulator[0] + value[2], accumulator[1] + 1)

    def get_result(self, accumulator):
        return accumulator

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1])


class SumCountInPlace(AggregateFunction):
    """Accumulators updated in place, as W2's."""

    def create_accumulator(self):
        return [0, 0]

    def add(self, value, accumulator):
        accumulator[0] += value[2]
        accumulator[1] += 1
        return accumulator

    def get_result(self, accumulator):
        return tuple(accumulator)

    def merge(self, a, b):
        a[0] += b[0]
        a[1] += b[1]
        return a


class NoMerge(AggregateFunction):
    def create_accumulator(self):
        return 0

    def add(self, value, accumulator):
        return accumulator + value[2]

    def get_result(self, accumulator):
        return accumulator


class OpensSomething(SumCount):
    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()


class SumValues(ReduceFunction):
    def reduce(self, a, b):
        return (max(a[0], b[0]), a[1], a[2] + b[2])


class ByKey(KeySelector):
    def get_key(self, value):
        return value[1]


class KeyEndResult(ProcessWindowFunction):
    def process(self, key, context, elements):
        (result,) = elements
        yield (key, context.window().end, result)


# -- jobs ----------------------------------------------------------------------------------


def make_env(parallelism: int, batch_size: int, pre_aggregation: bool):
    return StreamExecutionEnvironment.get_execution_environment(
        {
            "pipeline.auto-watermark-interval": "0",
            "minicluster.batch-size": str(batch_size),
            "parallelism.default": str(parallelism),
            "minicluster.window.pre-aggregation": "true" if pre_aggregation else "false",
        }
    )


def strategy(bound_ms: int):
    return WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_millis(bound_ms)
    ).with_timestamp_assigner(lambda value, _: value[0])


def windowed_job(stream, assigner, lateness_ms, how):
    """Main results as ("main", record), late records as ("late", record)."""
    windowed = (
        stream.key_by(ByKey()).window(assigner)
        .allowed_lateness(lateness_ms).side_output_late_data(LATE)
    )
    if how == "aggregate":
        result = windowed.aggregate(SumCount(), window_function=KeyEndResult())
    elif how == "aggregate-in-place":
        result = windowed.aggregate(SumCountInPlace(), window_function=KeyEndResult())
    else:
        result = windowed.reduce(SumValues())
    late = result.get_side_output(LATE)
    return result.map(lambda r: ("main", r)).union(late.map(lambda r: ("late", r)))


def plan_types(env) -> list[str]:
    return [node["type"] for node in json.loads(env.get_execution_plan())["nodes"]]


def run_sequential(data, assigner, lateness_ms, how, parallelism, batch_size, enabled,
                   bound_ms):
    env = make_env(parallelism, batch_size, enabled)
    stream = (
        env.from_collection(data).assign_timestamps_and_watermarks(strategy(bound_ms))
        .set_parallelism(1)
    )
    job = windowed_job(stream, assigner, lateness_ms, how)
    assert any(t.startswith(PRE_AGGREGATE) for t in plan_types(env)) == enabled
    return list(job.execute_and_collect())


def run_parallel(data, assigner, how, parallelism, batch_size, enabled, bound_ms):
    env = make_env(parallelism, batch_size, enabled)
    stream = (
        env.from_collection(data).rebalance().map(lambda v: v)
        .assign_timestamps_and_watermarks(strategy(bound_ms))
    )
    job = windowed_job(stream, assigner, 500, how)
    assert any(t.startswith(PRE_AGGREGATE) for t in plan_types(env)) == enabled
    return list(job.execute_and_collect())


# -- the plain-Python reference -----------------------------------------------------------------


def windows_of(timestamp, size, slide):
    last = timestamp - timestamp % slide
    return [(start, start + size) for start in range(last, timestamp - size, -slide)]


def result_of(how, key, end, records):
    if how == "reduce":
        return (max(r[0] for r in records), key, sum(r[2] for r in records))
    return (key, end, (sum(r[2] for r in records), len(records)))


def simulate(data, batch_size, bound_ms, size, slide, lateness_ms, how):
    """Flink's window operator with the default EventTimeTrigger, record by record, and
    a watermark (highest timestamp so far - bound - 1) after every source batch."""
    watermark, highest = MIN_WATERMARK, None
    panes: dict[tuple, list] = {}  # (key, start, end) -> records
    end_timers: set[tuple] = set()
    main, late = [], []

    def advance(to):
        for pane in sorted(end_timers):
            if pane[2] - 1 <= to:
                end_timers.discard(pane)
                main.append(result_of(how, pane[0], pane[2], panes[pane]))
        for pane in [p for p in panes if p[2] - 1 + lateness_ms <= to]:
            del panes[pane]

    for i in range(0, len(data), batch_size):
        batch = data[i : i + batch_size]
        for record in batch:
            timestamp, key, _ = record
            added = False
            for start, end in windows_of(timestamp, size, slide):
                if end - 1 + lateness_ms <= watermark:
                    continue  # late: this window is cleaned up
                added = True
                pane = (key, start, end)
                panes.setdefault(pane, []).append(record)
                if end - 1 <= watermark:  # late firing within the allowed lateness
                    main.append(result_of(how, key, end, panes[pane]))
                else:
                    end_timers.add(pane)
            if not added and timestamp + lateness_ms <= watermark:
                late.append(record)
        top = max(r[0] for r in batch)
        highest = top if highest is None else max(highest, top)
        if highest - bound_ms - 1 > watermark:
            watermark = highest - bound_ms - 1
            advance(watermark)
    advance(MAX_WATERMARK)
    return [("main", r) for r in main] + [("late", r) for r in late]


def out_of_order_events(seed, n, keys, step_ms, jitter_ms):
    rng = random.Random(seed)
    base = 1_700_000_000_000
    return [
        (base + i * step_ms - rng.randint(0, jitter_ms), f"k{rng.randint(0, keys - 1)}",
         rng.randint(1, 100))
        for i in range(n)
    ]


# -- results ---------------------------------------------------------------------------------

ASSIGNERS = {
    "tumbling": (1_000, 1_000),
    "sliding": (1_000, 250),
}


def assigner_for(name):
    size, slide = ASSIGNERS[name]
    if size == slide:
        return TumblingEventTimeWindows.of(Time.milliseconds(size))
    return SlidingEventTimeWindows.of(Time.milliseconds(size), Time.milliseconds(slide))


@pytest.mark.parametrize("parallelism", PARALLELISM)
@pytest.mark.parametrize("windows", ["tumbling", "sliding"])
@pytest.mark.parametrize("how", ["aggregate", "reduce"])
@pytest.mark.parametrize("batch_size", [1, 16])
def test_late_firings_and_late_records_are_the_same_with_and_without_pre_aggregation(
    minicluster_cluster, parallelism, windows, how, batch_size
):
    # jitter up to 4 s against a bound of 1 s: records arrive late, some within the
    # 700 ms allowed lateness (late firings), some after it (side output)
    data = out_of_order_events(seed=7 + batch_size, n=1_500, keys=6, step_ms=3, jitter_ms=4_000)
    size, slide = ASSIGNERS[windows]
    expected = simulate(data, batch_size, 1_000, size, slide, 700, how)
    assert any(kind == "late" for kind, _ in expected)
    assert len([r for kind, r in expected if kind == "main"]) > len(
        {(r[0], r[1]) for kind, r in expected if kind == "main"}
    )  # some windows fired more than once

    results = {
        enabled: run_sequential(
            data, assigner_for(windows), 700, how, parallelism, batch_size, enabled, 1_000
        )
        for enabled in (True, False)
    }

    assert_equal_unordered(results[True], expected)
    assert_equal_unordered(results[False], expected)


def plain_window_sums(data, size, slide, how):
    panes = defaultdict(list)
    for record in data:
        for start, end in windows_of(record[0], size, slide):
            panes[(record[1], end)].append(record)
    return [("main", result_of(how, key, end, records)) for (key, end), records in panes.items()]


@pytest.mark.parametrize("parallelism", PARALLELISM)
@pytest.mark.parametrize("windows", ["tumbling", "sliding"])
@pytest.mark.parametrize("how", ["aggregate-in-place", "reduce"])
def test_parallel_pre_aggregators_give_the_plain_python_result(
    minicluster_cluster, parallelism, windows, how
):
    # out of order by less than the bound: nothing is late in any subtask
    data = out_of_order_events(seed=3, n=4_000, keys=25, step_ms=1, jitter_ms=998)
    size, slide = ASSIGNERS[windows]
    expected = plain_window_sums(data, size, slide, how)

    for enabled in (True, False):
        result = run_parallel(data, assigner_for(windows), how, parallelism, 64, enabled, 1_000)
        assert_equal_unordered(result, expected)


def test_a_small_max_entries_flushes_early_with_the_same_result(minicluster_cluster):
    data = out_of_order_events(seed=5, n=3_000, keys=40, step_ms=1, jitter_ms=998)
    env = StreamExecutionEnvironment.get_execution_environment(
        {
            "parallelism.default": "2",
            "minicluster.batch-size": "32",
            "minicluster.window.pre-aggregation.max-entries": "3",
        }
    )
    stream = (
        env.from_collection(data).rebalance().map(lambda v: v)
        .assign_timestamps_and_watermarks(strategy(1_000))
    )
    result = windowed_job(stream, assigner_for("sliding"), 0, "aggregate")

    assert_equal_unordered(
        result.execute_and_collect(), plain_window_sums(data, 1_000, 250, "aggregate")
    )


def test_window_all_is_pre_aggregated_in_parallel(minicluster_cluster):
    data = out_of_order_events(seed=9, n=2_000, keys=5, step_ms=1, jitter_ms=500)
    env = make_env(2, 50, True)
    stream = (
        env.from_collection(data).rebalance().map(lambda v: v)
        .assign_timestamps_and_watermarks(strategy(1_000))
    )
    result = stream.window_all(TumblingEventTimeWindows.of(Time.seconds(1))).aggregate(SumCount())
    nodes = json.loads(env.get_execution_plan())["nodes"]
    pre = [n for n in nodes if n["type"].startswith(PRE_AGGREGATE)]
    window = next(n for n in nodes if n["type"].startswith("AllWindow("))

    expected = defaultdict(lambda: (0, 0))
    for timestamp, _, value in data:
        total, count = expected[timestamp - timestamp % 1_000]
        expected[timestamp - timestamp % 1_000] = (total + value, count + 1)
    assert_equal_unordered(result.execute_and_collect(), expected.values())
    assert [n["parallelism"] for n in pre] == [2]
    assert window["parallelism"] == 1


# -- the plan ----------------------------------------------------------------------------------


def keyed_events(env, parallelism=None):
    stream = env.from_collection([(1, "a", 1)]).map(lambda v: v).assign_timestamps_and_watermarks(
        strategy(1_000)
    )
    if parallelism is not None:
        stream.set_parallelism(parallelism)
    return stream.key_by(lambda e: e[1])


def pre_aggregate_nodes(env):
    return [n for n in json.loads(env.get_execution_plan())["nodes"]
            if n["type"].startswith(PRE_AGGREGATE)]


@pytest.mark.parametrize(
    "build",
    [
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1))).aggregate(SumCount()),
        lambda k: k.window(SlidingEventTimeWindows.of(Time.seconds(2), Time.seconds(1)))
        .reduce(SumValues(), window_function=KeyEndResult()),
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1)))
        .allowed_lateness(500).side_output_late_data(LATE).reduce(lambda a, b: a),
    ],
    ids=["tumbling-aggregate", "sliding-reduce", "lateness-side-output"],
)
def test_eligible_windows_get_a_chained_pre_aggregator(build):
    env = make_env(2, 16, True)
    build(keyed_events(env, parallelism=3))
    nodes = json.loads(env.get_execution_plan())["nodes"]
    (pre,) = [n for n in nodes if n["type"].startswith(PRE_AGGREGATE)]
    timestamps = next(n for n in nodes if n["type"] == "Timestamps/Watermarks")
    window = next(n for n in nodes if n["type"].startswith("Window("))

    # at its input's parallelism (3, not the default 2), chained to it, HASH onwards
    assert pre["parallelism"] == 3
    assert pre["chain"] == timestamps["chain"]
    assert window["predecessors"] == [
        {"id": pre["id"], "ship_strategy": "HASH", "side": "first", "chained": False}
    ]


@pytest.mark.parametrize(
    "build",
    [
        lambda k: k.window(EventTimeSessionWindows.with_gap(Time.seconds(1))).aggregate(SumCount()),
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1)))
        .trigger(ContinuousEventTimeTrigger.of(Time.milliseconds(100))).aggregate(SumCount()),
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1)))
        .evictor(CountEvictor.of(2)).reduce(SumValues()),
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1))).process(KeyEndResult()),
        lambda k: k.window(TumblingProcessingTimeWindows.of(Time.seconds(1))).reduce(SumValues()),
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1))).aggregate(NoMerge()),
        lambda k: k.window(TumblingEventTimeWindows.of(Time.seconds(1))).aggregate(OpensSomething()),
        lambda k: k.count_window(3).reduce(SumValues()),
    ],
    ids=["session", "custom-trigger", "evictor", "process", "processing-time", "no-merge",
         "open", "count"],
)
def test_ineligible_windows_get_no_pre_aggregator(build):
    env = make_env(2, 16, True)
    build(keyed_events(env))
    assert pre_aggregate_nodes(env) == []


def test_the_configuration_turns_pre_aggregation_off():
    env = make_env(2, 16, False)
    keyed_events(env).window(TumblingEventTimeWindows.of(Time.seconds(1))).aggregate(SumCount())
    assert pre_aggregate_nodes(env) == []


def test_a_bad_configuration_value_is_refused():
    env = StreamExecutionEnvironment.get_execution_environment(
        {"minicluster.window.pre-aggregation": "maybe"}
    )
    windowed = keyed_events(env).window(TumblingEventTimeWindows.of(Time.seconds(1)))
    with pytest.raises(ValueError, match="minicluster.window.pre-aggregation='maybe'"):
        windowed.aggregate(SumCount())


def test_each_input_of_a_union_gets_its_own_pre_aggregator():
    env = make_env(2, 16, True)
    first = (
        env.from_collection([(1, "a", 1)]).assign_timestamps_and_watermarks(strategy(0))
        .set_parallelism(1)
    )
    second = env.from_collection([(2, "b", 2)]).map(lambda v: v).set_parallelism(3)
    (
        first.union(second).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(1))).reduce(SumValues())
    )

    assert sorted(n["parallelism"] for n in pre_aggregate_nodes(env)) == [1, 3]


@pytest.mark.parametrize("enabled", [True, False])
def test_an_idle_input_sends_its_partials_before_it_goes_idle(minicluster_cluster, enabled):
    """``a`` folds two records, then goes idle while ``b`` moves event time past the
    window: the window may fire then, and ``a``'s partial must already be there."""
    idle = (
        TestStream.builder()
        .add_elements(TimestampedValue((100, "k", 1), 100), TimestampedValue((150, "k", 2), 150))
        .advance_watermark_to(50).mark_idle().advance_watermark_to_infinity().build()
    )
    active = (
        TestStream.builder().add_elements(TimestampedValue((300, "k", 4), 300))
        .advance_watermark_to(5_000).advance_watermark_to_infinity().build()
    )
    env = make_env(2, 16, enabled)
    a = env.from_source(idle, WatermarkStrategy.no_watermarks(), "a")
    b = env.from_source(active, WatermarkStrategy.no_watermarks(), "b")
    result = (
        a.union(b).key_by(ByKey()).window(TumblingEventTimeWindows.of(Time.seconds(1)))
        .aggregate(SumCount(), window_function=KeyEndResult())
    )
    assert len(pre_aggregate_nodes(env)) == (2 if enabled else 0)

    assert list(result.execute_and_collect()) == [("k", 1_000, (7, 3))]
