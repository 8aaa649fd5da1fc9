"""Windows on real TaskManagers (the session cluster, 2 TaskManagers x 2 slots), at
parallelism 1 and 2, each against a plain-Python or hand-computed expectation.

Records are ``(timestamp_ms, key, value)``. Event time comes from
``for_bounded_out_of_orderness`` with the timestamp assigner ``v[0]``; most jobs run
with ``pipeline.auto-watermark-interval: 0`` and ``minicluster.batch-size: 1``, so a
watermark (the highest timestamp so far - bound - 1) follows every record and the
order of records and watermarks is exact. The timestamps operator runs at
parallelism 1 behind the collection source, so every window subtask sees one input
channel and the same sequence of watermarks.
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
    AllWindowFunction,
    ProcessAllWindowFunction,
    ProcessFunction,
    ProcessWindowFunction,
    ReduceFunction,
    WindowFunction,
)
from minicluster.datastream.output_tag import OutputTag
from minicluster.datastream.state import ReducingStateDescriptor
from minicluster.datastream.window import (
    CountEvictor,
    CountTrigger,
    EventTimeSessionWindows,
    Evictor,
    GlobalWindows,
    SessionWindowTimeGapExtractor,
    SlidingEventTimeWindows,
    TimeEvictor,
    Trigger,
    TriggerResult,
    TumblingEventTimeWindows,
)
from minicluster.errors import JobExecutionError
from minicluster.network.events import MAX_WATERMARK
from minicluster.testing import assert_equal_unordered

PARALLELISM = [1, 2]


@pytest.fixture
def make_env(minicluster_cluster):
    """``make_env(parallelism, batch_size=1)``: an environment on the session cluster
    with a watermark after every batch."""

    def make(parallelism: int, batch_size: int = 1) -> StreamExecutionEnvironment:
        return StreamExecutionEnvironment.get_execution_environment(
            {
                "pipeline.auto-watermark-interval": "0",
                "minicluster.batch-size": str(batch_size),
                "parallelism.default": str(parallelism),
            }
        )

    return make


def events(env, data, out_of_orderness_ms: int = 2_000):
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_millis(out_of_orderness_ms)
    ).with_timestamp_assigner(lambda value, _: value[0])
    return env.from_collection(data).assign_timestamps_and_watermarks(strategy).set_parallelism(1)


def by_key(data):
    return events(data[0], data[1]).key_by(lambda e: e[1])


def random_events(seed: int, n: int, keys: int = 20, jitter_ms: int = 1_999):
    """W2's shape: timestamps one ms apart, out of order by less than 2 s."""
    rng = random.Random(seed)
    base = 1_700_000_000_000
    return [
        (base + i - rng.randint(0, jitter_ms), f"k{rng.randint(0, keys - 1)}", rng.randint(1, 100))
        for i in range(n)
    ]


# -- functions ---------------------------------------------------------------------------


class SumCount(AggregateFunction):
    def create_accumulator(self):
        return (0, 0)

    def add(self, value, accumulator):
        return (accumulator[0] + value[2], accumulator[1] + 1)

    def get_result(self, accumulator):
        return accumulator

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1])


class SumValues(ReduceFunction):
    def reduce(self, a, b):
        return (max(a[0], b[0]), a[1], a[2] + b[2])


class KeyEndResult(ProcessWindowFunction):
    """``(key, window end, the pre-aggregated result)``."""

    def process(self, key, context, elements):
        (result,) = elements
        yield (key, context.window().end, result)


class KeyEndSum(ProcessWindowFunction):
    """``(key, window end, sum of values)`` over the buffered elements."""

    def process(self, key, context, elements):
        yield (key, context.window().end, sum(e[2] for e in elements))


class ApplyKeyEndSum(WindowFunction):
    def apply(self, key, window, inputs):
        return [(key, window.end, sum(e[2] for e in inputs))]


class ApplyKeyEndResult(WindowFunction):
    def apply(self, key, window, inputs):
        return [(key, window.end, next(iter(inputs)))]


class Session(ProcessWindowFunction):
    """``(key, start, end, values in arrival order)``."""

    def process(self, key, context, elements):
        window = context.window()
        yield (key, window.start, window.end, tuple(e[2] for e in elements))


def tumbling_sums(data, size):
    sums = defaultdict(lambda: [0, 0])
    for timestamp, key, value in data:
        end = timestamp - timestamp % size + size
        sums[(key, end)][0] += value
        sums[(key, end)][1] += 1
    return sums


# -- tumbling and sliding windows --------------------------------------------------------------


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_tumbling_windows_sum_and_count_per_key_as_w2(make_env, parallelism):
    """The benchmark's W2 job, scaled down: batches of 500, so the batch path runs."""
    env = make_env(parallelism, batch_size=500)
    data = random_events(seed=parallelism, n=20_000)

    result = list(
        events(env, data)
        .key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .aggregate(SumCount(), KeyEndResult())
        .execute_and_collect()
    )

    expected = [(k, end, (s, c)) for (k, end), (s, c) in tumbling_sums(data, 10_000).items()]
    assert_equal_unordered(result, expected)


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_sliding_windows_reduce_with_a_window_function(make_env, parallelism):
    env = make_env(parallelism, batch_size=200)
    data = random_events(seed=7, n=5_000, keys=5)

    result = list(
        events(env, data)
        .key_by(lambda e: e[1])
        .window(SlidingEventTimeWindows.of(Time.seconds(3), Time.seconds(1)))
        .reduce(SumValues(), ApplyKeyEndResult())
        .map(lambda r: (r[0], r[1], r[2][2]))
        .execute_and_collect()
    )

    expected = defaultdict(int)
    for timestamp, key, value in data:
        last_start = timestamp - timestamp % 1_000
        for start in range(last_start, timestamp - 3_000, -1_000):
            expected[(key, start + 3_000)] += value
    assert_equal_unordered(result, [(k, end, s) for (k, end), s in expected.items()])


@pytest.mark.parametrize("parallelism", PARALLELISM)
@pytest.mark.parametrize(
    "how",
    ["reduce", "aggregate", "process", "apply", "reduce+process", "aggregate+apply"],
)
def test_window_functions_agree(make_env, parallelism, how):
    env = make_env(parallelism, batch_size=64)
    data = random_events(seed=3, n=3_000, keys=6)
    windowed = (
        events(env, data).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(1)))
    )

    if how == "reduce":
        stream = windowed.reduce(lambda a, b: (a[0], a[1], a[2] + b[2])).map(
            lambda r: (r[1], r[0] - r[0] % 1_000 + 1_000, r[2])
        )
    elif how == "aggregate":
        stream = windowed.aggregate(SumCount()).map(lambda r: r[0])
    elif how == "process":
        stream = windowed.process(KeyEndSum())
    elif how == "apply":
        stream = windowed.apply(ApplyKeyEndSum())
    elif how == "reduce+process":
        stream = windowed.reduce(SumValues(), KeyEndResult()).map(lambda r: (r[0], r[1], r[2][2]))
    else:
        stream = windowed.aggregate(SumCount(), ApplyKeyEndResult()).map(
            lambda r: (r[0], r[1], r[2][0])
        )
    result = list(stream.execute_and_collect())

    if how == "aggregate":
        expected = [s for (_, _), (s, _) in tumbling_sums(data, 1_000).items()]
    else:
        expected = [(k, end, s) for (k, end), (s, _) in tumbling_sums(data, 1_000).items()]
    assert_equal_unordered(result, expected)


class TimestampOf(ProcessFunction):
    def process_element(self, value, ctx):
        yield (value, ctx.timestamp())


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_window_results_carry_the_window_max_timestamp(make_env, parallelism):
    env = make_env(parallelism)
    data = [(1_000, "a", 1), (12_500, "b", 2), (15_000, "a", 3)]

    result = list(
        events(env, data).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .aggregate(SumCount()).process(TimestampOf()).execute_and_collect()
    )

    assert_equal_unordered(result, [((1, 1), 9_999), ((2, 1), 19_999), ((3, 1), 19_999)])


# -- sessions -------------------------------------------------------------------------------

SESSION_DATA = [
    # (timestamp, key, value)          watermark after it (bound 2 s)
    (1_000, "a", 1),                   # -1001
    (1_500, "b", 10),                  # -501
    (3_000, "a", 2),                   # 999    a: [1000,3500) + [3000,5500) merge
    (5_000, "b", 20),                  # 2999   b: [1500,4000) and [5000,7500) apart
    (3_200, "b", 30),                  # 2999   b: [3200,5700) bridges both -> [1500,7500)
    (9_000, "a", 4),                   # 6999   a: [1000,5500) fires
    (12_000, "c", 100),                # 9999   b: [1500,7500) fires
]
SESSIONS = [
    ("a", 1_000, 5_500, (1, 2)),
    ("b", 1_500, 7_500, (10, 20, 30)),
    ("a", 9_000, 11_500, (4,)),
    ("c", 12_000, 14_500, (100,)),
]


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_session_windows_merge_including_a_bridging_element(make_env, parallelism):
    env = make_env(parallelism)

    result = list(
        events(env, SESSION_DATA).key_by(lambda e: e[1])
        .window(EventTimeSessionWindows.with_gap(Time.milliseconds(2_500)))
        .process(Session())
        .execute_and_collect()
    )

    # a merged pane keeps its elements in arrival order, whichever window held them
    assert_equal_unordered(
        [(k, s, e, tuple(sorted(v))) for k, s, e, v in result],
        [(k, s, e, tuple(sorted(v))) for k, s, e, v in SESSIONS],
    )


@pytest.mark.parametrize("parallelism", PARALLELISM)
@pytest.mark.parametrize("how", ["aggregate", "reduce"])
def test_session_windows_merge_pre_aggregated_state(make_env, parallelism, how):
    env = make_env(parallelism)
    windowed = (
        events(env, SESSION_DATA).key_by(lambda e: e[1])
        .window(EventTimeSessionWindows.with_gap(Duration.of_millis(2_500)))
    )
    if how == "aggregate":
        stream = windowed.aggregate(SumCount(), KeyEndResult()).map(lambda r: (r[0], r[1], r[2]))
    else:
        stream = windowed.reduce(SumValues(), KeyEndResult()).map(
            lambda r: (r[0], r[1], (r[2][2], None))
        )

    result = list(stream.execute_and_collect())

    expected = [
        (k, end, (sum(v), len(v) if how == "aggregate" else None)) for k, _, end, v in SESSIONS
    ]
    assert_equal_unordered(result, expected)


class GapFromValue(SessionWindowTimeGapExtractor):
    def extract(self, element):
        return element[2]


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_session_windows_with_a_dynamic_gap(make_env, parallelism):
    env = make_env(parallelism)
    data = [
        (1_000, "a", 500),    # [1000, 1500)
        (1_400, "a", 3_000),  # [1400, 4400): merges -> [1000, 4400)
        (1_000, "b", 50),     # [1000, 1050)
        (1_060, "b", 50),     # [1060, 1110): apart from b's first
        (5_000, "a", 100),    # [5000, 5100): apart
    ]

    result = list(
        events(env, data).key_by(lambda e: e[1])
        .window(EventTimeSessionWindows.with_dynamic_gap(GapFromValue()))
        .process(Session())
        .execute_and_collect()
    )

    assert_equal_unordered(
        result,
        [
            ("a", 1_000, 4_400, (500, 3_000)),
            ("a", 5_000, 5_100, (100,)),
            ("b", 1_000, 1_050, (50,)),
            ("b", 1_060, 1_110, (50,)),
        ],
    )


# -- count windows -----------------------------------------------------------------------------


class KeyIdValues(WindowFunction):
    def apply(self, key, window, inputs):
        yield (key, window.id, tuple(v for _, v in inputs))


COUNT_DATA = [("a", 1), ("b", 10), ("a", 2), ("a", 3), ("b", 11), ("a", 4), ("a", 5),
              ("b", 12), ("a", 6), ("b", 13), ("a", 7), ("b", 14)]


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_tumbling_count_windows_fire_when_full(make_env, parallelism):
    env = make_env(parallelism)

    result = list(
        env.from_collection(COUNT_DATA).key_by(lambda e: e[0]).count_window(3)
        .apply(KeyIdValues()).execute_and_collect()
    )

    # a's 7th and b's 4th and 5th elements are in windows that never fill up
    assert_equal_unordered(
        result, [("a", 0, (1, 2, 3)), ("a", 1, (4, 5, 6)), ("b", 0, (10, 11, 12))]
    )


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_sliding_count_windows_as_pyflink(make_env, parallelism):
    """``count_window(3, 2)``: window n holds elements [2n, 2n + 3) of its key."""
    env = make_env(parallelism)

    result = list(
        env.from_collection(COUNT_DATA).key_by(lambda e: e[0]).count_window(3, 2)
        .apply(KeyIdValues()).execute_and_collect()
    )

    assert_equal_unordered(
        result,
        [("a", 0, (1, 2, 3)), ("a", 1, (3, 4, 5)), ("a", 2, (5, 6, 7)),
         ("b", 0, (10, 11, 12)), ("b", 1, (12, 13, 14))],
    )


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_count_window_reduce(make_env, parallelism):
    env = make_env(parallelism, batch_size=4)

    result = list(
        env.from_collection(COUNT_DATA).key_by(lambda e: e[0]).count_window(2)
        .reduce(lambda x, y: (x[0], x[1] + y[1])).execute_and_collect()
    )

    assert_equal_unordered(result, [("a", 3), ("a", 7), ("a", 11), ("b", 21), ("b", 25)])


# -- triggers and evictors ---------------------------------------------------------------------


class EveryNAndAtTheEnd(Trigger):
    """Fires (without purging) every ``n`` elements and when the watermark passes the
    window's end; the count lives in window-scoped state."""

    def __init__(self, n):
        self.n = n
        self.count = ReducingStateDescriptor("every-n-count", lambda a, b: a + b)

    def on_element(self, element, timestamp, window, ctx):
        ctx.register_event_time_timer(window.max_timestamp())
        count = ctx.get_partitioned_state(self.count)
        count.add(1)
        if count.get() >= self.n:
            count.clear()
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def on_event_time(self, time, window, ctx):
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def on_processing_time(self, time, window, ctx):
        return TriggerResult.CONTINUE

    def clear(self, window, ctx):
        ctx.delete_event_time_timer(window.max_timestamp())
        ctx.get_partitioned_state(self.count).clear()


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_custom_trigger_with_window_state(make_env, parallelism):
    env = make_env(parallelism)
    data = [(1_000, "a", 1), (2_000, "a", 2), (3_000, "a", 4), (2_500, "b", 64), (4_000, "a", 8),
            (5_000, "a", 16), (12_000, "a", 32)]

    result = list(
        events(env, data).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .trigger(EveryNAndAtTheEnd(2))
        .aggregate(SumCount(), KeyEndResult())
        .execute_and_collect()
    )

    # one key per subtask: the results of a key arrive in order
    assert [r for r in result if r[0] == "a"] == [
        ("a", 10_000, (3, 2)),     # 2nd element
        ("a", 10_000, (15, 4)),    # 4th element
        ("a", 10_000, (31, 5)),    # watermark 9999 (after 12000)
        ("a", 20_000, (32, 1)),    # end of input
    ]
    assert [r for r in result if r[0] == "b"] == [("b", 10_000, (64, 1))]


class Values(ProcessWindowFunction):
    def process(self, key, context, elements):
        yield (key, tuple(e[2] for e in elements))


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_global_windows_with_count_trigger_and_count_evictor(make_env, parallelism):
    """Flink's count_window(3, 2) in Java: fire every 2 elements over the last 3."""
    env = make_env(parallelism)
    data = [(i, "a", i) for i in range(1, 7)] + [(i, "b", 10 * i) for i in range(1, 4)]

    result = list(
        events(env, data).key_by(lambda e: e[1])
        .window(GlobalWindows.create())
        .trigger(CountTrigger.of(2))
        .evictor(CountEvictor.of(3))
        .process(Values())
        .execute_and_collect()
    )

    assert [r for r in result if r[0] == "a"] == [("a", (1, 2)), ("a", (2, 3, 4)), ("a", (4, 5, 6))]
    assert [r for r in result if r[0] == "b"] == [("b", (10, 20))]


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_count_evictor_after_the_function(make_env, parallelism):
    env = make_env(parallelism)
    data = [(i, "a", i) for i in range(1, 5)]

    result = list(
        events(env, data).key_by(lambda e: e[1])
        .window(GlobalWindows.create())
        .trigger(CountTrigger.of(2))
        .evictor(CountEvictor.of(1, do_evict_after=True))
        .process(Values())
        .execute_and_collect()
    )

    assert result == [("a", (1, 2)), ("a", (2, 3, 4))]


class DropOdd(Evictor):
    def evict_before(self, elements, size, window, evictor_context):
        elements[:] = [e for e in elements if e.get_value()[2] % 2 == 0]

    def evict_after(self, elements, size, window, evictor_context):
        pass


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_time_evictor_and_custom_evictor_with_pre_aggregation(make_env, parallelism):
    env = make_env(parallelism)
    data = [(1_000, "a", 1), (5_000, "a", 2), (8_000, "a", 3), (9_000, "a", 4),
            (1_000, "b", 1), (2_000, "b", 2), (3_000, "b", 3), (4_000, "b", 4)]
    keyed = events(env, data).key_by(lambda e: e[1])

    by_time = (
        keyed.window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .evictor(TimeEvictor.of(Time.seconds(2)))
        .reduce(SumValues())
        .map(lambda r: ("time", r[1], r[2]))
    )
    custom = (
        keyed.window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .evictor(DropOdd())
        .aggregate(SumCount())
        .map(lambda r: ("custom", r))
    )

    result = list(by_time.union(custom).execute_and_collect())

    assert_equal_unordered(
        result,
        [
            ("time", "a", 7),       # newest 9000: keeps (7000, 9000] -> 3 + 4
            ("time", "b", 7),       # newest 4000: keeps (2000, 4000] -> 3 + 4
            ("custom", (6, 2)),     # a: 2 + 4
            ("custom", (6, 2)),     # b: 2 + 4
        ],
    )


# -- lateness ----------------------------------------------------------------------------------

LATE_DATA = [
    # (timestamp, key, value)   watermark after it (bound 0: highest - 1)
    (1_000, "a", 1),            # 999
    (4_000, "a", 2),            # 3999
    (12_000, "a", 4),           # 11999: [0, 10000) fires -> 3
    (5_000, "a", 8),            # within lateness: fires again -> 11
    (16_000, "a", 16),          # 15999: [0, 10000)'s cleanup time 14999 passed
    (3_000, "a", 32),           # its window is gone: late
    (11_000, "a", 64),          # on time in [10000, 20000)
    (9_000, "b", 128),          # late (b's [0, 10000) would be cleaned at 14999)
]


class EndSum(ProcessWindowFunction):
    def process(self, key, context, elements):
        (result,) = elements
        yield (key, context.window().end, result[0])


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_allowed_lateness_fires_again_and_late_records_go_to_the_side_output(make_env, parallelism):
    env = make_env(parallelism)
    late = OutputTag("late")

    windowed = (
        events(env, LATE_DATA, out_of_orderness_ms=0).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .allowed_lateness(Time.seconds(5))
        .side_output_late_data(late)
        .aggregate(SumCount(), EndSum())
    )
    side = windowed.get_side_output(late).process(TimestampOf())
    result = list(windowed.map(lambda r: ("main", r)).union(side.map(lambda r: ("late", r)))
                  .execute_and_collect())

    assert [r for kind, r in result if kind == "main"] == [
        ("a", 10_000, 3),
        ("a", 10_000, 11),
        ("a", 20_000, 84),
    ]
    assert_equal_unordered(
        [r for kind, r in result if kind == "late"],
        [((3_000, "a", 32), 3_000), ((9_000, "b", 128), 9_000)],
    )


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_late_records_without_a_side_output_are_dropped(make_env, parallelism):
    env = make_env(parallelism)

    result = list(
        events(env, LATE_DATA, out_of_orderness_ms=0).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .aggregate(SumCount(), EndSum())
        .execute_and_collect()
    )

    # no lateness: 5000 is late too; only on-time records count
    assert_equal_unordered(result, [("a", 10_000, 3), ("a", 20_000, 84)])


# -- window_all ----------------------------------------------------------------------------------


class CountAll(ProcessAllWindowFunction):
    def process(self, context, elements):
        elements = list(elements)
        yield (context.window().end, len(elements), len({e[1] for e in elements}))


class AllValues(AllWindowFunction):
    def apply(self, window, inputs):
        yield (window.id, tuple(v for _, v in inputs))


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_window_all_runs_at_parallelism_one(make_env, parallelism):
    env = make_env(parallelism, batch_size=100)
    data = random_events(seed=11, n=3_000, keys=7)

    windowed = events(env, data).window_all(TumblingEventTimeWindows.of(Time.seconds(1)))
    stream = windowed.process(CountAll())
    plan = json.loads(env.get_execution_plan())
    window_node = next(n for n in plan["nodes"] if n["type"].startswith("AllWindow("))
    result = list(stream.execute_and_collect())

    assert window_node["parallelism"] == 1
    expected = defaultdict(list)
    for timestamp, key, _ in data:
        expected[timestamp - timestamp % 1_000 + 1_000].append(key)
    assert_equal_unordered(
        result, [(end, len(keys), len(set(keys))) for end, keys in expected.items()]
    )


@pytest.mark.parametrize("parallelism", PARALLELISM)
def test_window_all_reduce_aggregate_and_count_windows(make_env, parallelism):
    env = make_env(parallelism)
    data = [(1_000, "a", 1), (2_000, "b", 2), (11_000, "c", 4), (3_000, "d", 8)]
    stream = events(env, data)

    reduced = stream.window_all(TumblingEventTimeWindows.of(Time.seconds(10))).reduce(
        lambda x, y: (x[0], "*", x[2] + y[2])
    ).map(lambda r: ("reduce", r[2]))
    aggregated = stream.window_all(TumblingEventTimeWindows.of(Time.seconds(10))).aggregate(
        SumCount()
    ).map(lambda r: ("aggregate", r))
    # the map chains to the source (parallelism 1), so the count window sees source order
    counted = (
        stream.map(lambda e: (e[1], e[2])).set_parallelism(1)
        .count_window_all(2).apply(AllValues()).map(lambda r: ("count", r))
    )

    result = list(reduced.union(aggregated, counted).execute_and_collect())

    assert_equal_unordered(
        result,
        [("reduce", 11), ("reduce", 4), ("aggregate", (11, 3)), ("aggregate", (4, 1)),
         ("count", (0, (1, 2))), ("count", (1, (4, 8)))],
    )


# -- errors --------------------------------------------------------------------------------------


def test_event_time_windows_on_a_stream_without_timestamps_fail_clearly(make_env):
    env = make_env(1)
    stream = (
        env.from_collection([(1, "a", 1)]).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(1))).aggregate(SumCount())
    )

    with pytest.raises(JobExecutionError, match="assign_timestamps_and_watermarks"):
        list(stream.execute_and_collect())


def test_a_session_trigger_must_be_able_to_merge(make_env):
    class NoMerge(EveryNAndAtTheEnd):
        pass

    windowed = (
        make_env(1).from_collection([(1, "a", 1)]).key_by(lambda e: e[1])
        .window(EventTimeSessionWindows.with_gap(Time.seconds(1)))
    )

    with pytest.raises(TypeError, match="trigger that does not support merging"):
        windowed.trigger(NoMerge(2))


def test_window_functions_of_the_wrong_kind_are_refused(make_env):
    windowed = (
        make_env(1).from_collection([(1, "a", 1)]).key_by(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(1)))
    )

    with pytest.raises(TypeError, match="takes a WindowFunction or a ProcessWindowFunction"):
        windowed.reduce(lambda a, b: a, CountAll())
    with pytest.raises(TypeError, match="process\\(\\) takes a ProcessWindowFunction"):
        windowed.process(ApplyKeyEndSum())
    with pytest.raises(TypeError, match="takes a WindowAssigner"):
        make_env(1).from_collection([1]).key_by(lambda x: x).window(Time.seconds(1))


def test_global_windows_without_a_trigger_never_fire(make_env):
    env = make_env(2)

    result = list(
        events(env, [(1, "a", 1), (2, "a", 2)]).key_by(lambda e: e[1])
        .window(GlobalWindows.create()).process(Values()).execute_and_collect()
    )

    assert result == []
    assert MAX_WATERMARK == (1 << 63) - 1
