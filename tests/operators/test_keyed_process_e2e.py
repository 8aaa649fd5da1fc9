"""Keyed state and timers on real TaskManager processes.

    source (p=1) --HASH--> KeyedProcess / keyed Map, Flat Map, Filter (p=1 or 2)
                             --> WithTimestamp (chained) --> collect

One source subtask feeds every keyed subtask over its own channel, so each key's
records, and the watermarks between them, arrive in the order the source sent them:
at p=1 the whole output order is exact, at p=2 each key's is. Event time comes from
``TestStream`` (watermarks placed by the test). Processing time cannot be placed, so
those tests are event-driven: the timer's ``on_timer`` creates a flag file and a
``Gated`` source stays open (bounded by a timeout) until the flags exist, since a
finished job does not wait for processing-time timers.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from minicluster.common import Time, Types
from minicluster.datastream import (
    FilterFunction,
    FlatMapFunction,
    KeyedProcessFunction,
    MapFunction,
    ProcessFunction,
    StreamExecutionEnvironment,
    TimeDomain,
)
from minicluster.datastream.functions import AggregateFunction
from minicluster.datastream.state import (
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    StateTtlConfig,
    ValueStateDescriptor,
)
from minicluster.errors import JobExecutionError
from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.operators.sources import SourceWatermarkStatus
from minicluster.state import subtask_for_key
from minicluster.testing import TestStream, TimestampedValue, assert_equal_unordered

MAX_PARALLELISM = 128
GATE_TIMEOUT_S = 20.0
T = TimestampedValue


@pytest.fixture
def make_env(minicluster_cluster):
    """``make_env(parallelism)``: an environment on the session cluster with a
    watermark after every record."""

    def make(parallelism: int) -> StreamExecutionEnvironment:
        return StreamExecutionEnvironment.get_execution_environment(
            {
                "pipeline.auto-watermark-interval": "0",
                "minicluster.batch-size": "1",
                "parallelism.default": str(parallelism),
            }
        )

    return make


def from_test_stream(env, stream):
    return env.from_source(stream, None, "events")


def by_key(records, key_of=lambda record: record[0]):
    grouped = defaultdict(list)
    for record in records:
        grouped[key_of(record)].append(record)
    return dict(grouped)


class WithTimestamp(ProcessFunction):
    def process_element(self, value, ctx):
        yield value, ctx.timestamp()


class Gated:
    """Replays ``first``, stays open until every path in ``paths`` exists (failing the
    job after ``GATE_TIMEOUT_S``), then ends."""

    max_parallelism = 1

    def __init__(self, first: TestStream, paths: list[str]) -> None:
        self.first, self.paths = first, paths

    def create_batches(self, subtask_index, parallelism, batch_size):
        yield from self.first.create_batches(subtask_index, parallelism, batch_size)
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while not all(os.path.exists(path) for path in self.paths):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gate {self.paths} did not open in {GATE_TIMEOUT_S} s")
            # a no-op for an active source: the task stays runnable, the loop moves on
            yield SourceWatermarkStatus(False)


# -- every state type, per key ----------------------------------------------------------


class Average(AggregateFunction):
    def create_accumulator(self):
        return (0, 0)

    def add(self, value, accumulator):
        return (accumulator[0] + value, accumulator[1] + 1)

    def get_result(self, accumulator):
        return accumulator[0] / accumulator[1]

    def merge(self, acc_a, acc_b):
        return (acc_a[0] + acc_b[0], acc_a[1] + acc_b[1])


class AllStates(KeyedProcessFunction):
    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.last = runtime_context.get_state(ValueStateDescriptor("last", Types.INT()))
        self.history = runtime_context.get_list_state(ListStateDescriptor("history", Types.INT()))
        self.parity = runtime_context.get_map_state(
            MapStateDescriptor("parity", Types.INT(), Types.INT())
        )
        self.total = runtime_context.get_reducing_state(
            ReducingStateDescriptor("total", lambda a, b: a + b, Types.INT())
        )
        self.mean = runtime_context.get_aggregating_state(
            AggregatingStateDescriptor("mean", Average(), Types.DOUBLE())
        )

    def process_element(self, value, ctx):
        key, n = value
        previous = self.last.value()
        self.last.update(n)
        self.history.add(n)
        self.parity.put(n % 2, (self.parity.get(n % 2) or 0) + 1)
        self.total.add(n)
        self.mean.add(n)
        yield (
            ctx.get_current_key(), self.subtask, previous, self.history.get(),
            sorted(self.parity.items()), self.total.get(), self.mean.get(),
        )


def expected_all_states(records, parallelism):
    out, history = [], defaultdict(list)
    for key, n in records:
        previous = history[key][-1] if history[key] else None
        history[key].append(n)
        parity = sorted(
            (p, sum(1 for v in history[key] if v % 2 == p))
            for p in {v % 2 for v in history[key]}
        )
        total = sum(history[key])
        out.append((
            key, subtask_for_key(key, parallelism, MAX_PARALLELISM), previous,
            list(history[key]), parity, total, total / len(history[key]),
        ))
    return out


@pytest.mark.parametrize("parallelism", [1, 2])
def test_each_state_type_is_kept_per_key(make_env, parallelism):
    env = make_env(parallelism)
    records = [(f"k{i % 5}", i * 3 % 11) for i in range(40)]

    out = list(
        env.from_collection(records).key_by(lambda r: r[0]).process(AllStates())
        .execute_and_collect()
    )

    expected = expected_all_states(records, parallelism)
    assert by_key(out) == by_key(expected)
    if parallelism == 2:
        assert {record[1] for record in out} == {0, 1}  # both subtasks held keys


# -- event-time timers ------------------------------------------------------------------


class EventTimers(KeyedProcessFunction):
    """A record ``(key, "set" | "del", t)`` registers or deletes the key's event-time
    timer at ``t``; ``on_timer`` reports what it sees."""

    def open(self, runtime_context):
        self.seen = runtime_context.get_list_state(ListStateDescriptor("seen"))

    def process_element(self, value, ctx):
        key, action, at = value
        timers = ctx.timer_service()
        if action == "set":
            timers.register_event_time_timer(at)
        else:
            timers.delete_event_time_timer(at)
        self.seen.add(action)
        yield ("element", ctx.get_current_key(), action, at, ctx.timestamp())

    def on_timer(self, timestamp, ctx):
        yield (
            "timer", ctx.get_current_key(), timestamp, ctx.timestamp(), ctx.time_domain(),
            self.seen.get(), ctx.timer_service().current_watermark(),
        )


TIMER_SCRIPT = (
    TestStream.builder()
    .add_elements(
        T(("a", "set", 10), 1),
        T(("b", "set", 5), 2),
        T(("a", "set", 10), 3),  # the same timer again: fires once
        T(("c", "set", 7), 3),
        T(("c", "del", 7), 4),  # deleted: never fires
        T(("a", "set", 20), 4),
        T(("b", "set", 12), 5),
    )
    .advance_watermark_to(9)
    .advance_watermark_to(15)
    .add_elements(
        T(("a", "set", 12), 16),  # behind the watermark: fires at the next advance
        T(("c", "set", 1000), 17),  # fires at the end of input
    )
    .advance_watermark_to(30)
    .build()
)


def element(key, action, at, ts):
    return (("element", key, action, at, ts), ts)


def timer(key, at, seen, watermark):
    return (("timer", key, at, at, TimeDomain.EVENT_TIME, seen, watermark), at)


EXPECTED_TIMER_RUN = [
    element("a", "set", 10, 1),
    element("b", "set", 5, 2),
    element("a", "set", 10, 3),
    element("c", "set", 7, 3),
    element("c", "del", 7, 4),
    element("a", "set", 20, 4),
    element("b", "set", 12, 5),
    timer("b", 5, ["set", "set"], 9),
    timer("a", 10, ["set", "set", "set"], 15),
    timer("b", 12, ["set", "set"], 15),
    element("a", "set", 12, 16),
    element("c", "set", 1000, 17),
    timer("a", 12, ["set"] * 4, 30),
    timer("a", 20, ["set"] * 4, 30),
    timer("c", 1000, ["set", "del", "set"], MAX_WATERMARK),
]


def test_event_time_timers_fire_in_order_with_their_key_state(make_env):
    """p=1: the exact sequence. Each timer fires once (deduplicated), a deleted one
    never; outputs carry the timer's timestamp; the last fires at end of input."""
    env = make_env(1)
    stream = from_test_stream(env, TIMER_SCRIPT).key_by(lambda r: r[0])

    out = list(stream.process(EventTimers()).process(WithTimestamp()).execute_and_collect())

    assert out == EXPECTED_TIMER_RUN


def test_event_time_timers_at_parallelism_2(make_env):
    env = make_env(2)
    stream = from_test_stream(env, TIMER_SCRIPT).key_by(lambda r: r[0])

    out = list(stream.process(EventTimers()).process(WithTimestamp()).execute_and_collect())

    key_of = lambda record: record[0][1]  # noqa: E731
    assert by_key(out, key_of) == by_key(EXPECTED_TIMER_RUN, key_of)


class TimerPerRecord(KeyedProcessFunction):
    """No event time: each record ``n`` sets a timer at ``1000 + n``; the key's count of
    records is state."""

    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value, ctx):
        self.count.update((self.count.value() or 0) + 1)
        ctx.timer_service().register_event_time_timer(1000 + value)
        assert ctx.timestamp() is None
        return None

    def on_timer(self, timestamp, ctx):
        yield (ctx.get_current_key(), timestamp, ctx.timestamp(), self.count.value())


@pytest.mark.parametrize("parallelism", [1, 2])
def test_all_pending_event_time_timers_fire_at_end_of_input(make_env, parallelism):
    """A stream without event time still ends with the maximum watermark."""
    env = make_env(parallelism)
    values = [7, 3, 9, 1, 4, 8]
    parity = lambda v: "odd" if v % 2 else "even"  # noqa: E731 - on subtasks 1 and 0 at p=2

    out = list(
        env.from_collection(values).key_by(parity).process(TimerPerRecord())
        .process(WithTimestamp()).execute_and_collect()
    )

    counts = {"even": 2, "odd": 4}
    expected = [
        ((parity(v), 1000 + v, 1000 + v, counts[parity(v)]), 1000 + v) for v in sorted(values)
    ]
    if parallelism == 1:
        assert out == expected  # one key after the other, in timestamp order
    else:
        assert by_key(out, lambda r: r[0][0]) == by_key(expected, lambda r: r[0][0])


# -- processing-time timers -------------------------------------------------------------


class ProcessingTimers(KeyedProcessFunction):
    """Registers a processing-time timer 50 ms ahead per record (``delay_ms``);
    ``on_timer`` reports and creates the flag file ``fired-<key>``."""

    def __init__(self, flag_dir: str, delay_ms: int = 50) -> None:
        self.flag_dir, self.delay_ms = flag_dir, delay_ms

    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value, ctx):
        self.count.update((self.count.value() or 0) + 1)
        at = ctx.timer_service().current_processing_time() + self.delay_ms
        ctx.timer_service().register_processing_time_timer(at)
        yield ("registered", ctx.get_current_key(), at)

    def on_timer(self, timestamp, ctx):
        now = ctx.timer_service().current_processing_time()
        yield (
            "fired", ctx.get_current_key(), timestamp, ctx.timestamp(), ctx.time_domain(),
            now >= timestamp, self.count.value(),
        )
        Path(self.flag_dir, f"fired-{ctx.get_current_key()}").touch()


@pytest.mark.parametrize("parallelism", [1, 2])
def test_processing_time_timers_fire_and_see_the_key_state(make_env, tmp_path, parallelism):
    env = make_env(parallelism)
    keys = ["a", "b", "c"]
    source = Gated(
        TestStream.builder().add_elements(*keys).build(),
        [str(tmp_path / f"fired-{key}") for key in keys],
    )

    out = list(
        env.from_source(source, None, "events").key_by(lambda v: v)
        .process(ProcessingTimers(str(tmp_path))).process(WithTimestamp())
        .execute_and_collect()
    )

    registered = {record[1]: record[2] for record, _ in out if record[0] == "registered"}
    assert sorted(registered) == keys
    expected = [(("registered", key, at), None) for key, at in registered.items()] + [
        # ctx.timestamp() is the timer's time (as in Flink and PyFlink); the output has none
        (("fired", key, at, at, TimeDomain.PROCESSING_TIME, True, 1), None)
        for key, at in registered.items()
    ]
    assert_equal_unordered(out, expected)
    for key in keys:  # a key's timer fires after its registration
        mine = [record[0] for record, _ in out if record[1] == key]
        assert mine == ["registered", "fired"]


def test_a_bounded_job_ends_without_waiting_for_processing_time_timers(make_env, tmp_path):
    """As in Flink, the end of input does not fire (or wait for) pending
    processing-time timers: the job finishes and ``on_timer`` never runs."""
    env = make_env(2)
    started = time.monotonic()

    out = list(
        env.from_collection(["a", "b"]).key_by(lambda v: v)
        .process(ProcessingTimers(str(tmp_path), delay_ms=60_000)).execute_and_collect()
    )

    assert time.monotonic() - started < 30  # did not wait for the minute
    assert sorted(record[:2] for record in out) == [("registered", "a"), ("registered", "b")]
    assert list(tmp_path.iterdir()) == []


class ExpiringState(KeyedProcessFunction):
    """Writes two values with a 200 ms TTL, one never returned once expired, one
    returned until cleaned up, then reads them from a processing-time timer at least
    300 ms later. (Nothing reads the TTL states between write and timer: that read
    would depend on how fast the TaskManager runs.)"""

    def __init__(self, flag_dir: str) -> None:
        self.flag_dir = flag_dir

    def open(self, runtime_context):
        def ttl_state(name, builder):
            descriptor = ValueStateDescriptor(name, Types.STRING())
            descriptor.enable_time_to_live(builder.build())
            return runtime_context.get_state(descriptor)

        ttl = Time.milliseconds(200)
        self.expiring = ttl_state("expiring", StateTtlConfig.new_builder(ttl))
        self.stale = ttl_state(
            "stale", StateTtlConfig.new_builder(ttl).return_expired_if_not_cleaned_up()
        )
        self.lasting = runtime_context.get_state(ValueStateDescriptor("lasting"))

    def process_element(self, value, ctx):
        self.expiring.update(f"{value}!")
        self.stale.update(f"{value}~")
        self.lasting.update(f"{value}.")
        # read the clock after writing: the timer is at least 300 ms after the writes
        now = ctx.timer_service().current_processing_time()
        ctx.timer_service().register_processing_time_timer(now + 300)
        return None

    def on_timer(self, timestamp, ctx):
        stale_first, stale_again = self.stale.value(), self.stale.value()
        yield (ctx.get_current_key(), self.expiring.value(), stale_first, stale_again,
               self.lasting.value())
        Path(self.flag_dir, f"fired-{ctx.get_current_key()}").touch()


@pytest.mark.parametrize("parallelism", [1, 2])
def test_state_ttl_expires_between_a_write_and_a_timer_later(make_env, tmp_path, parallelism):
    """``expiring`` reads None; ``stale`` (ReturnExpiredIfNotCleanedUp) shows it was
    written: its expired value is returned once, then cleaned up."""
    env = make_env(parallelism)
    keys = ["a", "c"]  # subtasks 1 and 0 at p=2
    source = Gated(
        TestStream.builder().add_elements(*keys).build(),
        [str(tmp_path / f"fired-{key}") for key in keys],
    )

    out = list(
        env.from_source(source, None, "events").key_by(lambda v: v)
        .process(ExpiringState(str(tmp_path))).execute_and_collect()
    )

    assert sorted(out) == [(key, None, f"{key}~", None, f"{key}.") for key in keys]


# -- keyed state in map / flat_map / filter ---------------------------------------------


class CountPerKey(MapFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def map(self, value):
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        return (value[0], value[1], n)


class HistoryPerKey(FlatMapFunction):
    def open(self, runtime_context):
        self.history = runtime_context.get_list_state(ListStateDescriptor("history"))

    def flat_map(self, value):
        before = self.history.get()
        self.history.add(value[1])
        for old in before:
            yield (value[0], old, value[1])


class FirstPerKey(FilterFunction):
    def open(self, runtime_context):
        self.seen = runtime_context.get_state(ValueStateDescriptor("seen"))

    def filter(self, value):
        if self.seen.value():
            return False
        self.seen.update(True)
        return True


RECORDS = [("x", 1), ("y", 2), ("x", 3), ("z", 4), ("y", 5), ("x", 6)]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_keyed_map_flat_map_and_filter_have_keyed_state(make_env, parallelism):
    env = make_env(parallelism)
    stream = env.from_collection(RECORDS)

    mapped = stream.key_by(lambda r: r[0]).map(CountPerKey()).execute_and_collect()
    assert by_key(list(mapped)) == {
        "x": [("x", 1, 1), ("x", 3, 2), ("x", 6, 3)],
        "y": [("y", 2, 1), ("y", 5, 2)],
        "z": [("z", 4, 1)],
    }

    env = make_env(parallelism)
    stream = env.from_collection(RECORDS)
    flat = stream.key_by(lambda r: r[0]).flat_map(HistoryPerKey()).execute_and_collect()
    assert by_key(list(flat)) == {
        "x": [("x", 1, 3), ("x", 1, 6), ("x", 3, 6)],
        "y": [("y", 2, 5)],
    }

    env = make_env(parallelism)
    stream = env.from_collection(RECORDS)
    firsts = stream.key_by(lambda r: r[0]).filter(FirstPerKey()).execute_and_collect()
    assert sorted(firsts) == [("x", 1), ("y", 2), ("z", 4)]


@pytest.mark.parametrize(
    "apply", [
        lambda stream: stream.map(CountPerKey()),
        lambda stream: stream.process(WithState()),
    ],
    ids=["map", "process"],
)
def test_keyed_state_on_a_non_keyed_stream_fails_the_job_naming_key_by(make_env, apply):
    env = make_env(2)
    apply(env.from_collection(RECORDS)).add_sink(lambda value: None)

    with pytest.raises(JobExecutionError) as raised:
        env.execute("state without key_by")

    error = raised.value
    assert error.error_type == "RuntimeError"
    assert "raised RuntimeError: keyed state ('count') can only be used on a keyed stream, " \
        "i.e. in a function applied after key_by()" in str(error)


class WithState(ProcessFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value, ctx):
        yield value


def test_current_watermark_is_the_minimum_before_the_first_watermark(make_env):
    """Before any watermark ``current_watermark()`` is the minimum, as in Flink."""

    class Probe(KeyedProcessFunction):
        def process_element(self, value, ctx):
            yield value, ctx.timer_service().current_watermark()

    env = make_env(1)
    stream = TestStream.builder().add_elements(T("a", 5)).advance_watermark_to(7).add_elements(
        T("b", 9)
    ).build()

    out = list(from_test_stream(env, stream).key_by(lambda v: v).process(Probe())
               .execute_and_collect())

    assert out == [("a", MIN_WATERMARK), ("b", 7)]
