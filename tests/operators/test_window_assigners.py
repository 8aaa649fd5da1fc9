"""Window maths without processes: TimeWindow, the assigners, merging, the built-in
triggers and evictors, each against hand-computed windows."""

from __future__ import annotations

import pickle

import pytest

from minicluster.common import Duration, Time
from minicluster.datastream.window import (
    CountEvictor,
    CountSlidingWindowAssigner,
    CountTrigger,
    CountTumblingWindowAssigner,
    CountWindow,
    DeltaEvictor,
    DynamicEventTimeSessionWindows,
    EventTimeSessionWindows,
    EventTimeTrigger,
    GlobalWindow,
    GlobalWindows,
    NeverTrigger,
    ProcessingTimeSessionWindows,
    ProcessingTimeTrigger,
    PurgingTrigger,
    SessionWindowTimeGapExtractor,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
    TimeEvictor,
    TimestampedValue,
    TimeWindow,
    TriggerResult,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
)
from minicluster.operators.window.merging import MergingWindowSet
from minicluster.state.descriptors import ReducingStateDescriptor


# -- fakes ------------------------------------------------------------------------------


class FakeState:
    """Value/reducing state of one namespace, enough for assigners and triggers."""

    def __init__(self, reduce=None):
        self._value = None
        self._reduce = reduce

    def value(self):
        return self._value

    def update(self, value):
        self._value = value

    get = value

    def add(self, value):
        self._value = value if self._value is None else self._reduce(self._value, value)

    def clear(self):
        self._value = None


class FakeContext:
    """An assigner context and a trigger context in one: a clock, a watermark,
    per-(descriptor, window) state and the timers registered."""

    def __init__(self, now=0, watermark=-(1 << 63)):
        self.now = now
        self.watermark = watermark
        self.window = None
        self.states = {}
        self.event_timers = set()
        self.processing_timers = set()

    # assigner context
    def get_current_processing_time(self):
        return self.now

    def get_runtime_context(self):
        return self

    def get_state(self, descriptor):
        return self.states.setdefault((descriptor.name, None), FakeState())

    # trigger context
    def get_current_watermark(self):
        return self.watermark

    def register_event_time_timer(self, time):
        self.event_timers.add((time, self.window))

    def delete_event_time_timer(self, time):
        self.event_timers.discard((time, self.window))

    def register_processing_time_timer(self, time):
        self.processing_timers.add((time, self.window))

    def delete_processing_time_timer(self, time):
        self.processing_timers.discard((time, self.window))

    def get_partitioned_state(self, descriptor):
        reduce = descriptor.reducer() if isinstance(descriptor, ReducingStateDescriptor) else None
        return self.states.setdefault((descriptor.name, self.window), FakeState(reduce))


def assign(assigner, timestamp=None, ctx=None):
    return assigner.assign_windows("element", timestamp, ctx or FakeContext())


# -- TimeWindow -------------------------------------------------------------------------


def test_time_window_bounds_and_max_timestamp():
    window = TimeWindow(0, 10_000)

    assert (window.start, window.end, window.max_timestamp()) == (0, 10_000, 9_999)
    assert repr(window) == "TimeWindow(start=0, end=10000)"


def test_time_windows_compare_and_hash_by_value_and_order_by_start_then_end():
    assert TimeWindow(0, 10) == TimeWindow(0, 10)
    assert TimeWindow(0, 10) != TimeWindow(0, 11)
    assert len({TimeWindow(0, 10), TimeWindow(0, 10), TimeWindow(5, 10)}) == 2
    assert sorted([TimeWindow(5, 6), TimeWindow(0, 10), TimeWindow(0, 5)]) == [
        TimeWindow(0, 5), TimeWindow(0, 10), TimeWindow(5, 6)
    ]


def test_time_window_survives_pickle_as_a_time_window():
    copy = pickle.loads(pickle.dumps(TimeWindow(3, 7)))

    assert type(copy) is TimeWindow and copy == TimeWindow(3, 7) and copy.max_timestamp() == 6


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 10), (5, 15), True),
        ((0, 10), (10, 20), True),  # touching windows intersect: sessions merge
        ((0, 10), (11, 20), False),
        ((5, 6), (0, 10), True),
    ],
)
def test_time_window_intersects(a, b, expected):
    assert TimeWindow(*a).intersects(TimeWindow(*b)) is expected
    assert TimeWindow(*b).intersects(TimeWindow(*a)) is expected


def test_time_window_cover():
    assert TimeWindow(0, 10).cover(TimeWindow(5, 15)) == TimeWindow(0, 15)
    assert TimeWindow(20, 30).cover(TimeWindow(0, 5)) == TimeWindow(0, 30)


@pytest.mark.parametrize(
    "timestamp, offset, size, start",
    [
        (0, 0, 10, 0),
        (9, 0, 10, 0),
        (10, 0, 10, 10),
        (-1, 0, 10, -10),  # before the epoch: still the window that contains it
        (-10, 0, 10, -10),
        (7, 3, 10, 3),
        (2, 3, 10, -7),
        (5, -3, 10, -3),
    ],
)
def test_window_start_with_offset(timestamp, offset, size, start):
    assert TimeWindow.get_window_start_with_offset(timestamp, offset, size) == start


def test_merge_windows_reports_each_overlapping_group_once():
    merges = []
    windows = [TimeWindow(0, 5), TimeWindow(20, 25), TimeWindow(4, 8), TimeWindow(8, 9),
               TimeWindow(30, 31)]

    TimeWindow.merge_windows(windows, lambda group, result: merges.append((sorted(group), result)))

    assert merges == [
        ([TimeWindow(0, 5), TimeWindow(4, 8), TimeWindow(8, 9)], TimeWindow(0, 9))
    ]


# -- time assigners ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [10_000, Time.seconds(10), Duration.of_seconds(10)])
def test_tumbling_event_time_windows_take_int_time_or_duration(size):
    assigner = TumblingEventTimeWindows.of(size)

    assert assign(assigner, 12_345) == [TimeWindow(10_000, 20_000)]
    assert assign(assigner, 10_000) == [TimeWindow(10_000, 20_000)]
    assert assign(assigner, 9_999) == [TimeWindow(0, 10_000)]
    assert assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(), EventTimeTrigger)


def test_tumbling_event_time_windows_with_offset():
    assigner = TumblingEventTimeWindows.of(Time.hours(1), Time.minutes(15))

    assert assign(assigner, 0) == [TimeWindow(-45 * 60_000, 15 * 60_000)]
    assert assign(assigner, 15 * 60_000) == [TimeWindow(15 * 60_000, 75 * 60_000)]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: TumblingEventTimeWindows.of(0), "size > 0"),
        (lambda: TumblingEventTimeWindows.of(10, 10), r"abs\(offset\) < size"),
        (lambda: SlidingEventTimeWindows.of(10, 5, 5), r"abs\(offset\) < slide"),
        (lambda: SlidingEventTimeWindows.of(10, 0), "slide > 0"),
        (lambda: EventTimeSessionWindows.with_gap(0), "gap > 0"),
        (lambda: TumblingEventTimeWindows.of("10s"), "Time, a Duration or an int"),
    ],
)
def test_assigner_parameters_are_checked(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_event_time_assigner_without_a_timestamp_says_how_to_add_one():
    with pytest.raises(ValueError, match="assign_timestamps_and_watermarks"):
        assign(TumblingEventTimeWindows.of(10), None)


def test_sliding_event_time_windows_give_every_window_that_contains_the_timestamp():
    assigner = SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5))

    assert assign(assigner, 12_000) == [TimeWindow(10_000, 20_000), TimeWindow(5_000, 15_000)]
    assert assign(assigner, 10_000) == [TimeWindow(10_000, 20_000), TimeWindow(5_000, 15_000)]
    assert assign(assigner, 9_999) == [TimeWindow(5_000, 15_000), TimeWindow(0, 10_000)]


def test_sliding_windows_with_a_slide_that_does_not_divide_the_size():
    assigner = SlidingEventTimeWindows.of(10, 3)

    windows = assign(assigner, 10)

    assert windows == [TimeWindow(9, 19), TimeWindow(6, 16), TimeWindow(3, 13)]
    assert all(w.start <= 10 < w.end for w in windows)


def test_sliding_windows_with_gaps_between_them_can_assign_nothing():
    assigner = SlidingEventTimeWindows.of(2, 5)

    assert assign(assigner, 5) == [TimeWindow(5, 7)]
    assert assign(assigner, 8) == []


def test_processing_time_assigners_use_the_clock_not_the_timestamp():
    ctx = FakeContext(now=12_345)

    assert assign(TumblingProcessingTimeWindows.of(Time.seconds(10)), 1, ctx) == [
        TimeWindow(10_000, 20_000)
    ]
    assert assign(SlidingProcessingTimeWindows.of(10_000, 5_000), None, ctx) == [
        TimeWindow(10_000, 20_000), TimeWindow(5_000, 15_000)
    ]
    assert assign(ProcessingTimeSessionWindows.with_gap(100), None, ctx) == [
        TimeWindow(12_345, 12_445)
    ]
    for assigner in (TumblingProcessingTimeWindows.of(10),
                     ProcessingTimeSessionWindows.with_gap(5)):
        assert not assigner.is_event_time()
        assert isinstance(assigner.get_default_trigger(), ProcessingTimeTrigger)


def test_event_time_session_window_is_timestamp_plus_gap():
    assigner = EventTimeSessionWindows.with_gap(Time.seconds(2))

    assert assign(assigner, 1_000) == [TimeWindow(1_000, 3_000)]
    assert assigner.is_event_time()


class GapFromElement(SessionWindowTimeGapExtractor):
    def extract(self, element):
        return element[1]


def test_dynamic_session_gap_comes_from_the_element():
    assigner = EventTimeSessionWindows.with_dynamic_gap(GapFromElement())

    assert isinstance(assigner, DynamicEventTimeSessionWindows)
    assert assigner.assign_windows(("x", 250), 1_000, FakeContext()) == [TimeWindow(1_000, 1_250)]
    by_callable = DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: Time.seconds(1))
    assert by_callable.assign_windows("e", 0, FakeContext()) == [TimeWindow(0, 1_000)]
    with pytest.raises(ValueError, match="gap must be > 0"):
        assigner.assign_windows(("x", 0), 1_000, FakeContext())


# -- global and count windows -------------------------------------------------------------


def test_global_windows_put_everything_in_one_window_that_never_fires_by_default():
    assigner = GlobalWindows.create()

    assert assign(assigner, 5) == [GlobalWindow.get()] == [GlobalWindow()]
    assert isinstance(assigner.get_default_trigger(), NeverTrigger)
    assert GlobalWindow.get().max_timestamp() == (1 << 63) - 1
    assert pickle.loads(pickle.dumps(GlobalWindow.get())) == GlobalWindow.get()


def test_count_tumbling_assigner_numbers_windows_per_key():
    assigner = CountTumblingWindowAssigner.of(3)
    ctx = FakeContext()

    ids = [assign(assigner, None, ctx)[0].id for _ in range(7)]

    assert ids == [0, 0, 0, 1, 1, 1, 2]
    assert CountWindow(1) == CountWindow(1) and CountWindow(1) != CountWindow(2)
    assert pickle.loads(pickle.dumps(CountWindow(4))) == CountWindow(4)


def test_count_sliding_assigner_as_pyflink():
    """size 3, slide 2: window n holds the elements numbered [2n, 2n + 3)."""
    assigner = CountSlidingWindowAssigner.of(3, 2)
    ctx = FakeContext()

    ids = [sorted(w.id for w in assign(assigner, None, ctx)) for _ in range(7)]

    assert ids == [[0], [0], [0, 1], [1], [1, 2], [2], [2, 3]]


def test_count_assigners_fire_full_windows_and_purge_them():
    trigger = CountTumblingWindowAssigner.of(3).get_default_trigger()

    assert isinstance(trigger, PurgingTrigger)
    assert isinstance(trigger.nested_trigger, CountTrigger)


# -- merging window set ----------------------------------------------------------------------


class MergeLog:
    def __init__(self):
        self.calls = []

    def __call__(self, result, merged, state_window, merged_state_windows):
        self.calls.append((result, sorted(merged), state_window, sorted(merged_state_windows)))


def test_merging_window_set_keeps_one_state_window_per_session():
    window_set = MergingWindowSet(EventTimeSessionWindows.with_gap(10), {})
    log = MergeLog()

    assert window_set.add_window(TimeWindow(0, 10), log) == TimeWindow(0, 10)
    assert window_set.add_window(TimeWindow(20, 30), log) == TimeWindow(20, 30)
    assert log.calls == []

    # a bridging window merges both sessions; the state of one of them is kept
    result = window_set.add_window(TimeWindow(8, 22), log)

    assert result == TimeWindow(0, 30)
    assert window_set.mapping == {TimeWindow(0, 30): log.calls[0][2]}
    (merged_result, merged, state_window, merged_state_windows), = log.calls
    assert merged_result == TimeWindow(0, 30)
    assert merged == [TimeWindow(0, 10), TimeWindow(20, 30)]
    assert {state_window, *merged_state_windows} == {TimeWindow(0, 10), TimeWindow(20, 30)}


def test_merging_window_set_new_window_inside_a_session_merges_no_state():
    window_set = MergingWindowSet(EventTimeSessionWindows.with_gap(10), {})
    log = MergeLog()
    window_set.add_window(TimeWindow(0, 10), log)

    assert window_set.add_window(TimeWindow(2, 8), log) == TimeWindow(0, 10)
    assert log.calls == []
    assert window_set.get_state_window(TimeWindow(0, 10)) == TimeWindow(0, 10)

    window_set.retire_window(TimeWindow(0, 10))
    assert window_set.mapping == {}
    with pytest.raises(KeyError, match="not in the in-flight window set"):
        window_set.retire_window(TimeWindow(0, 10))


# -- triggers --------------------------------------------------------------------------------


def test_trigger_results():
    assert TriggerResult.FIRE.is_fire() and not TriggerResult.FIRE.is_purge()
    assert TriggerResult.FIRE_AND_PURGE.is_fire() and TriggerResult.FIRE_AND_PURGE.is_purge()
    assert not TriggerResult.PURGE.is_fire() and TriggerResult.PURGE.is_purge()
    assert not TriggerResult.CONTINUE.is_fire() and not TriggerResult.CONTINUE.is_purge()


def test_event_time_trigger_registers_the_window_end_and_fires_late_elements_at_once():
    trigger, ctx = EventTimeTrigger.create(), FakeContext(watermark=5_000)
    window = ctx.window = TimeWindow(0, 10_000)

    assert trigger.on_element("e", 1, window, ctx) is TriggerResult.CONTINUE
    assert ctx.event_timers == {(9_999, window)}
    assert trigger.on_event_time(9_999, window, ctx) is TriggerResult.FIRE
    assert trigger.on_event_time(9_000, window, ctx) is TriggerResult.CONTINUE
    ctx.watermark = 12_000
    assert trigger.on_element("late", 2, window, ctx) is TriggerResult.FIRE
    trigger.clear(window, ctx)
    assert ctx.event_timers == set()


def test_count_trigger_fires_every_n_elements_with_its_count_in_window_state():
    trigger, ctx = CountTrigger.of(2), FakeContext()
    ctx.window = CountWindow(0)

    results = [trigger.on_element(i, None, ctx.window, ctx) for i in range(5)]

    assert results == [TriggerResult.CONTINUE, TriggerResult.FIRE] * 2 + [TriggerResult.CONTINUE]
    trigger.clear(ctx.window, ctx)
    count = ctx.get_partitioned_state(ReducingStateDescriptor("count", lambda a, b: a + b))
    assert count.get() is None


def test_purging_trigger_turns_fire_into_fire_and_purge():
    trigger, ctx = PurgingTrigger.of(CountTrigger.of(1)), FakeContext()
    ctx.window = GlobalWindow.get()

    assert trigger.on_element("e", None, ctx.window, ctx) is TriggerResult.FIRE_AND_PURGE
    assert trigger.can_merge()
    assert not PurgingTrigger.of(NeverTrigger()).on_event_time(1, ctx.window, ctx).is_fire()


def test_processing_time_trigger_registers_the_window_end():
    trigger, ctx = ProcessingTimeTrigger.create(), FakeContext(now=3)
    window = ctx.window = TimeWindow(0, 10)

    assert trigger.on_element("e", None, window, ctx) is TriggerResult.CONTINUE
    assert ctx.processing_timers == {(9, window)}
    assert trigger.on_processing_time(9, window, ctx) is TriggerResult.FIRE


# -- evictors --------------------------------------------------------------------------------


def elements(*pairs):
    return [TimestampedValue(v, t) for v, t in pairs]


def test_count_evictor_keeps_the_last_n_before_or_after():
    before = elements((1, 1), (2, 2), (3, 3), (4, 4))
    CountEvictor.of(2).evict_before(before, 4, None, None)
    assert [e.value for e in before] == [3, 4]

    untouched = elements((1, 1), (2, 2), (3, 3))
    CountEvictor.of(2, do_evict_after=True).evict_before(untouched, 3, None, None)
    assert len(untouched) == 3
    CountEvictor.of(2, do_evict_after=True).evict_after(untouched, 3, None, None)
    assert [e.value for e in untouched] == [2, 3]


def test_time_evictor_keeps_what_is_within_the_span_of_the_newest():
    pane = elements(("a", 1_000), ("b", 5_000), ("c", 7_000), ("d", 9_000))

    TimeEvictor.of(Time.seconds(2)).evict_before(pane, 4, None, None)

    assert [e.value for e in pane] == ["d"]  # 7_000 is at the cutoff: evicted, as Flink
    no_time = elements(("a", None), ("b", None))
    TimeEvictor.of(1).evict_before(no_time, 2, None, None)
    assert len(no_time) == 2


def test_delta_evictor_drops_elements_far_from_the_last():
    pane = elements((1, None), (5, None), (9, None), (10, None))

    DeltaEvictor.of(4, lambda a, b: abs(a - b)).evict_before(pane, 4, None, None)

    assert [e.value for e in pane] == [9, 10]


def test_timestamped_value_accessors():
    value = TimestampedValue("x", 5)

    assert (value.get_value(), value.get_timestamp(), value.has_timestamp()) == ("x", 5, True)
    assert not TimestampedValue("x").has_timestamp()
    assert pickle.loads(pickle.dumps(value)) == value



# -- public surface -----------------------------------------------------------------------


def test_window_module_exports_exist_and_pyflink_imports_work():
    import minicluster.datastream as datastream
    import minicluster.datastream.functions as functions
    import minicluster.datastream.window as window

    assert [name for name in window.__all__ if not hasattr(window, name)] == []
    for name in ("AggregateFunction", "ProcessWindowFunction", "ProcessAllWindowFunction",
                 "WindowFunction", "AllWindowFunction"):
        assert name in functions.__all__ and name in datastream.__all__
    for name in ("WindowedStream", "AllWindowedStream", "TimeWindow", "Trigger"):
        assert name in datastream.__all__
    assert datastream.TimeWindow is window.TimeWindow
