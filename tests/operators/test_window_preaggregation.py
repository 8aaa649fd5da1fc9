"""The window pre-aggregator and the window operator's side of it, without processes:
what is folded and what goes on raw, when partials are flushed, idleness, bounded
memory, and partials merged on the window operator's batch and per-record paths alike.
"""

from __future__ import annotations

import pickle
import random
from collections import defaultdict

import pytest

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.common import Time
from minicluster.common.execution_config import ExecutionConfig
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.functions import AggregateFunction, ProcessWindowFunction
from minicluster.datastream.window import (
    EventTimeSessionWindows,
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
)
from minicluster.network.events import IDLE, MAX_WATERMARK, Watermark
from minicluster.operators.base import OperatorContext, ProcessingTimeService
from minicluster.operators.chain import ChainNode
from minicluster.operators.simple import MapOperator
from minicluster.operators.window.functions import WindowContents
from minicluster.operators.window.preaggregation import (
    PARTIAL,
    PartialAwareKeySelector,
    WindowPreAggregateOperator,
    is_partial,
    pre_aggregation_blocker,
)
from minicluster.operators.window.triggers import CountTrigger, EventTimeTrigger
from minicluster.state.key_groups import UnsupportedKeyError


class SumCount(AggregateFunction):
    def create_accumulator(self):
        return (0, 0)

    def add(self, value, accumulator):
        return (accumulator[0] + value[2], accumulator[1] + 1)

    def get_result(self, accumulator):
        return accumulator

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1])


class KeyWindowResult(ProcessWindowFunction):
    def process(self, key, context, elements):
        (result,) = elements
        yield (key, context.window().start, context.window().end, result)


class RecordingOutput:
    """Everything the operator emitted, in order: ("data", value, timestamp),
    ("watermark", t), ("idle", bool)."""

    def __init__(self) -> None:
        self.events: list = []

    def collect(self, values, timestamps):
        stamps = timestamps or [None] * len(values)
        self.events.extend(("data", v, t) for v, t in zip(values, stamps))

    def collect_side(self, tag_id, values, timestamps):
        self.events.extend(("side", v, t) for v, t in zip(values, timestamps or []))

    def emit_watermark(self, watermark):
        self.events.append(("watermark", watermark))

    def emit_watermark_status(self, idle):
        self.events.append(("idle", idle))

    def data(self):
        return [(v, t) for kind, *rest in self.events if kind == "data" for v, t in [rest]]

    def partials(self):
        return sorted((v[1], v[2], t) for v, t in self.data() if is_partial(v))

    def raw(self):
        return [(v, t) for v, t in self.data() if not is_partial(v)]


def context(config=None, batch_size=64, now_ms=0):
    return OperatorContext(
        runtime_context=RuntimeContext("test", 0, 1, 128), subtask_index=0, parallelism=1,
        max_parallelism=128, batch_size=batch_size, config=ExecutionConfig.from_dict(config or {}),
        processing_time=ProcessingTimeService(lambda: now_ms / 1000), open_client_channel=None,
    )


def pre_aggregator(assigner, config=None, contents=None, batch_size=64):
    operator = WindowPreAggregateOperator(
        lambda e: e[1], assigner, contents or WindowContents("aggregating", SumCount())
    )
    operator.output = RecordingOutput()
    operator.open(context(config, batch_size))
    return operator


def push(operator, events):
    operator.process_batch(list(events), [e[0] for e in events])


TUMBLING = TumblingEventTimeWindows.of(Time.seconds(1))


# -- the pre-aggregator ------------------------------------------------------------------


def test_partials_are_flushed_only_when_the_watermark_passes_their_window():
    operator = pre_aggregator(TUMBLING)
    push(operator, [(100, "a", 1), (900, "a", 2), (1_100, "a", 4), (500, "b", 8)])
    assert operator.output.events == []

    operator.process_watermark(998)  # window [0, 1000) is not due yet
    assert operator.output.events == [("watermark", 998)]

    operator.process_watermark(999)
    assert operator.output.partials() == [("a", (3, 2), 999), ("b", (8, 1), 999)]
    assert operator.output.events[-1] == ("watermark", 999)  # after the partials

    operator.process_watermark(MAX_WATERMARK)
    assert ("a", (4, 1), 1_999) in operator.output.partials()
    assert operator.output.raw() == []


def test_records_of_windows_that_may_have_fired_go_on_raw():
    operator = pre_aggregator(TUMBLING)
    operator.process_watermark(1_500)
    push(operator, [(999, "a", 1), (1_000, "a", 2), (1_999, "b", 4), (2_500, "a", 8)])

    assert operator.output.raw() == [((999, "a", 1), 999)]  # window [0, 1000) ended
    operator.end_input()
    assert operator.output.partials() == [
        ("a", (2, 1), 1_999), ("a", (8, 1), 2_999), ("b", (4, 1), 1_999),
    ]


def test_a_sliding_record_goes_on_raw_if_its_first_window_has_ended():
    operator = pre_aggregator(SlidingEventTimeWindows.of(Time.seconds(2), Time.seconds(1)))
    operator.process_watermark(1_999)
    push(operator, [(1_500, "a", 1), (2_000, "a", 2)])

    # 1500 is in [0, 2000) (ended) and [1000, 3000): the window operator must see it
    assert operator.output.raw() == [((1_500, "a", 1), 1_500)]
    operator.end_input()
    assert operator.output.partials() == [("a", (2, 1), 2_999), ("a", (2, 1), 3_999)]


def test_a_record_in_no_sliding_window_goes_on_raw():
    # windows of 1 s every 2 s: 1500 belongs to none; the window operator decides if it
    # is late (side output) or just dropped
    operator = pre_aggregator(SlidingEventTimeWindows.of(Time.seconds(1), Time.seconds(2)))
    push(operator, [(500, "a", 1), (1_500, "a", 2)])

    assert operator.output.raw() == [((1_500, "a", 2), 1_500)]


def test_records_without_timestamps_go_on_raw():
    operator = pre_aggregator(TUMBLING)
    operator.process_batch([(1, "a", 1)], None)
    operator.process_batch([(1, "a", 1), (2, "a", 2)], [None, 2])

    assert operator.output.raw() == [((1, "a", 1), None), ((1, "a", 1), None)]
    operator.end_input()
    assert operator.output.partials() == [("a", (2, 1), 999)]


def test_reduce_folds_with_the_reduce_function():
    operator = pre_aggregator(
        TUMBLING, contents=WindowContents("reducing", lambda a, b: (a[0], a[1], a[2] + b[2]))
    )
    push(operator, [(1, "a", 1), (2, "a", 2), (3, "b", 4)])
    operator.end_input()

    assert operator.output.partials() == [("a", (1, "a", 3), 999), ("b", (3, "b", 4), 999)]


def test_more_entries_than_the_limit_flush_everything_in_batches():
    operator = pre_aggregator(
        TUMBLING, {"minicluster.window.pre-aggregation.max-entries": "3"}, batch_size=2
    )
    batches = []
    collect = operator.output.collect
    operator.output.collect = lambda values, timestamps: (
        batches.append(len(values)), collect(values, timestamps)
    )
    push(operator, [(1, "a", 1), (2, "b", 1), (3, "c", 1)])
    assert batches == []

    push(operator, [(4, "d", 1)])
    assert batches == [2, 2]
    assert len(operator.output.partials()) == 4


def test_idle_flushes_everything_and_then_passes_records_on_raw():
    operator = pre_aggregator(TUMBLING)
    push(operator, [(1, "a", 1), (5_000, "b", 1)])
    operator.process_watermark_status(True)

    assert operator.output.partials() == [("a", (1, 1), 999), ("b", (1, 1), 5_999)]
    assert operator.output.events[-1] == ("idle", True)
    operator.process_watermark_status(False)
    push(operator, [(6_000, "c", 1)])
    assert operator.output.raw() == [((6_000, "c", 1), 6_000)]


def test_the_idle_status_reaches_a_chained_pre_aggregator_before_the_writers():
    class Writer:
        def __init__(self):
            self.events = []

        def emit(self, values, timestamps):
            self.events.append(("data", len(values)))

        def broadcast_event(self, event):
            self.events.append(event)

    head = ChainNode(MapOperator(lambda v: v), "Map")
    operator = WindowPreAggregateOperator(
        lambda e: e[1], TUMBLING, WindowContents("aggregating", SumCount())
    )
    child = ChainNode(operator, "Window Pre-Aggregate")
    head.children.append(child)
    writer = Writer()
    child.writers.append(writer)
    for node in head.walk():
        node.operator.open(context())

    head.push([(1, "a", 1), (2, "a", 1)], [1, 2])
    head.process_watermark(0)
    head.operator.process_watermark_status(True)

    assert writer.events == [Watermark(0), ("data", 1), IDLE]


def test_an_unhashable_key_fails_as_key_by_does():
    operator = pre_aggregator(TUMBLING)
    operator._key_of = lambda e: [e[1]]

    with pytest.raises(UnsupportedKeyError, match=r"key \['a'\] of type list is unhashable"):
        push(operator, [(1, "a", 1)])


def test_blockers_say_why():
    aggregating = WindowContents("aggregating", SumCount())
    assert pre_aggregation_blocker(TUMBLING, EventTimeTrigger(), None, aggregating, None) is None
    assert "not a tumbling or sliding" in pre_aggregation_blocker(
        EventTimeSessionWindows.with_gap(10), EventTimeTrigger(), None, aggregating, None
    )
    assert "CountTrigger" in pre_aggregation_blocker(
        TUMBLING, CountTrigger.of(2), None, aggregating, None
    )


# -- partials and keys -------------------------------------------------------------------------


def test_a_partial_survives_pickling_and_carries_its_key():
    partial = pickle.loads(pickle.dumps((PARTIAL, "k", [1, 2]), protocol=5))
    selector = PartialAwareKeySelector(lambda e: e[1])

    assert is_partial(partial) and partial[0] is PARTIAL
    assert selector.get_key(partial) == "k"
    assert selector.get_key((1, "x", 2)) == "x"
    assert not is_partial(("PARTIAL", "k", 1))


# -- the window operator's side --------------------------------------------------------------


def window_operator(assigner, lateness=0, per_record=False):
    env = StreamExecutionEnvironment.get_execution_environment({"parallelism.default": "1"})
    stream = (
        env.from_collection([]).key_by(lambda e: e[1]).window(assigner)
        .allowed_lateness(lateness).aggregate(SumCount(), KeyWindowResult())
    )
    operator = stream._node.operator
    assert operator.pre_aggregated
    operator.output = RecordingOutput()
    operator.open(context())
    if per_record:  # the general path
        operator._batches = None
        operator._direct_fire = False
    return operator


@pytest.mark.parametrize("lateness", [0, 300])
@pytest.mark.parametrize("assigner", [TUMBLING, SlidingEventTimeWindows.of(1_000, 500)],
                         ids=["tumbling", "sliding"])
def test_both_paths_merge_partials_and_raw_records_alike(assigner, lateness):
    rng = random.Random(1)
    batches, watermark = [], -1
    for step in range(60):
        watermark += rng.randint(0, 200)
        upstream = pre_aggregator(assigner)  # one flush of partials per step
        records = [(watermark + rng.randint(-400, 1_500), rng.choice("abc"), rng.randint(1, 9))
                   for _ in range(5)]
        upstream.process_watermark(watermark)
        push(upstream, records)
        upstream.end_input()
        batch = upstream.output.data()
        rng.shuffle(batch)
        batches.append((batch, watermark))

    outputs = []
    for per_record in (False, True):
        operator = window_operator(assigner, lateness, per_record)
        for batch, watermark in batches:
            operator.process_batch([v for v, _ in batch], [t for _, t in batch])
            operator.process_watermark(watermark)
        operator.process_watermark(MAX_WATERMARK)
        outputs.append(sorted(map(repr, operator.output.data())))

    assert outputs[0] == outputs[1]
    assert outputs[0]


@pytest.mark.parametrize("per_record", [False, True])
def test_a_partial_behind_the_watermark_is_an_error(per_record):
    operator = window_operator(TUMBLING, per_record=per_record)
    operator.process_watermark(999)

    with pytest.raises(RuntimeError, match=r"partial .* arrived after the watermark 999"):
        operator.process_batch([(PARTIAL, "a", (1, 1))], [999])


def test_partials_add_up_with_raw_records_as_without_pre_aggregation():
    operator = window_operator(TUMBLING)
    operator.process_batch(
        [(PARTIAL, "a", (3, 2)), (10, "a", 4), (PARTIAL, "b", (1, 1)), (PARTIAL, "a", (5, 1))],
        [999, 10, 999, 999],
    )
    operator.process_watermark(999)

    totals = defaultdict(list)
    for value, timestamp in operator.output.data():
        totals[value[0]].append((value[3], timestamp))
    assert dict(totals) == {"a": [((12, 4), 999)], "b": [((1, 1), 999)]}
