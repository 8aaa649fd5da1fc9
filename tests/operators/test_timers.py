"""``InternalTimerService`` with a real heap backend and a ``ProcessingTimeService`` on a
manual clock, without processes.

    event time:      register(ts) for the current key -> advance_watermark(wm) fires
                     every timer with ts <= wm, in ts order, key set as current key
    processing time: register(ts) -> ProcessingTimeService.fire_due() once the clock
                     reaches ts

Each firing is logged as ``(domain, timestamp, key, namespace, backend's current key)``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.operators.base import ProcessingTimeService
from minicluster.operators.timers import InternalTimerService
from minicluster.state import KeyGroupRange
from minicluster.state.heap_backend import HeapKeyedStateBackend


class ManualClock:
    """Whole milliseconds, answered as an exact ``Fraction`` of seconds (a float would
    lose a millisecond in ``int(seconds * 1000)``)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> Fraction:
        return Fraction(self.ms, 1000)


class Harness:
    def __init__(self, clock_ms: int = 1_000) -> None:
        self.clock = ManualClock(clock_ms)
        self.backend = HeapKeyedStateBackend(128, KeyGroupRange(0, 127), self.clock)
        self.processing_time = ProcessingTimeService(self.clock)
        self.fired: list[tuple] = []
        self.on_fire = None  # optional hook(domain, timestamp, key, namespace)
        self.timers = InternalTimerService(
            self.backend,
            self.processing_time,
            lambda ts, key, ns: self._fire("event", ts, key, ns),
            lambda ts, key, ns: self._fire("processing", ts, key, ns),
        )

    def _fire(self, domain, timestamp, key, namespace):
        self.fired.append((domain, timestamp, key, namespace, self.backend.get_current_key()))
        if self.on_fire is not None:
            self.on_fire(domain, timestamp, key, namespace)

    def event_timer(self, key, timestamp, namespace=None):
        self.backend.set_current_key(key)
        self.timers.register_event_time_timer(timestamp, namespace)

    def delete_event_timer(self, key, timestamp, namespace=None):
        self.backend.set_current_key(key)
        self.timers.delete_event_time_timer(timestamp, namespace)

    def processing_timer(self, key, timestamp, namespace=None):
        self.backend.set_current_key(key)
        self.timers.register_processing_time_timer(timestamp, namespace)

    def delete_processing_timer(self, key, timestamp, namespace=None):
        self.backend.set_current_key(key)
        self.timers.delete_processing_time_timer(timestamp, namespace)

    def take(self) -> list[tuple]:
        fired, self.fired = self.fired, []
        return fired


@pytest.fixture
def harness() -> Harness:
    return Harness()


# -- event time -------------------------------------------------------------------------


def test_event_timers_fire_in_timestamp_order_with_their_key_current(harness):
    harness.event_timer("a", 10)
    harness.event_timer("b", 5)
    harness.event_timer("c", 7)
    harness.event_timer("a", 20)
    harness.backend.set_current_key("z")

    harness.timers.advance_watermark(9)
    assert harness.take() == [("event", 5, "b", None, "b"), ("event", 7, "c", None, "c")]
    assert harness.timers.current_watermark == 9

    harness.timers.advance_watermark(10)  # a timer at the watermark fires
    assert harness.take() == [("event", 10, "a", None, "a")]

    harness.timers.advance_watermark(19)
    assert harness.take() == []
    assert harness.timers.has_timers()

    harness.timers.advance_watermark(MAX_WATERMARK)
    assert harness.take() == [("event", 20, "a", None, "a")]
    assert not harness.timers.has_timers()


def test_the_watermark_starts_at_the_minimum(harness):
    assert harness.timers.current_watermark == MIN_WATERMARK
    assert not harness.timers.has_timers()


def test_timers_at_one_timestamp_fire_once_per_key_in_registration_order(harness):
    harness.event_timer("b", 5)
    harness.event_timer("a", 5)
    harness.event_timer("b", 5)  # duplicate of the first: one timer
    harness.event_timer("a", 5)

    harness.timers.advance_watermark(5)

    assert harness.take() == [("event", 5, "b", None, "b"), ("event", 5, "a", None, "a")]


def test_a_fired_timer_is_gone(harness):
    harness.event_timer("a", 5)
    harness.timers.advance_watermark(5)
    harness.take()

    harness.timers.advance_watermark(100)

    assert harness.take() == []


def test_deleted_event_timers_do_not_fire(harness):
    harness.event_timer("a", 5)
    harness.event_timer("b", 5)
    harness.event_timer("a", 6)
    harness.delete_event_timer("a", 5)
    harness.delete_event_timer("a", 99)  # never registered: nothing happens
    harness.delete_event_timer("c", 5)

    harness.timers.advance_watermark(10)

    assert harness.take() == [("event", 5, "b", None, "b"), ("event", 6, "a", None, "a")]


def test_deletion_is_per_key(harness):
    harness.event_timer("a", 5)
    harness.event_timer("b", 5)

    harness.delete_event_timer("b", 5)
    harness.timers.advance_watermark(5)

    assert harness.take() == [("event", 5, "a", None, "a")]


def test_timers_registered_while_firing_fire_in_the_same_pass_when_due(harness):
    """A timer on ``a`` at 5 registers ``b`` at 3 (already due: fires next, in the same
    pass), ``a`` at 8 (due: fires after) and ``c`` at 50 (not due)."""

    def register_more(domain, timestamp, key, namespace):
        if (timestamp, key) == (5, "a"):
            harness.event_timer("b", 3)
            harness.event_timer("a", 8)
            harness.event_timer("c", 50)

    harness.on_fire = register_more
    harness.event_timer("a", 5)
    harness.event_timer("d", 6)

    harness.timers.advance_watermark(10)

    assert harness.take() == [
        ("event", 5, "a", None, "a"),
        ("event", 3, "b", None, "b"),
        ("event", 6, "d", None, "d"),
        ("event", 8, "a", None, "a"),
    ]
    harness.timers.advance_watermark(50)
    assert harness.take() == [("event", 50, "c", None, "c")]


def test_a_timer_registered_behind_the_watermark_fires_at_the_next_advance(harness):
    harness.timers.advance_watermark(10)
    harness.event_timer("a", 4)

    assert harness.take() == []
    harness.timers.advance_watermark(11)
    assert harness.take() == [("event", 4, "a", None, "a")]


def test_namespaces_are_kept_apart(harness):
    harness.event_timer("a", 5, "w1")
    harness.event_timer("a", 5, "w2")
    harness.event_timer("a", 5, "w1")  # duplicate
    harness.event_timer("a", 6, None)
    harness.delete_event_timer("a", 5, "w2")
    harness.delete_event_timer("a", 6, "w1")  # another namespace: no effect

    harness.timers.advance_watermark(10)

    assert harness.take() == [("event", 5, "a", "w1", "a"), ("event", 6, "a", None, "a")]


def test_the_callback_sees_the_key_state(harness):
    from minicluster.datastream.state import ValueStateDescriptor

    state = harness.backend.get_state(ValueStateDescriptor("v"))
    seen = []
    harness.on_fire = lambda domain, ts, key, ns: seen.append((key, state.value()))
    for key, value in (("a", "A"), ("b", "B")):
        harness.backend.set_current_key(key)
        state.update(value)
        harness.timers.register_event_time_timer(1)

    harness.backend.set_current_key("b")
    harness.timers.advance_watermark(1)

    assert seen == [("a", "A"), ("b", "B")]


# -- processing time --------------------------------------------------------------------


def test_processing_timers_fire_when_the_clock_passes_them(harness):
    now = harness.timers.current_processing_time()
    assert now == 1_000
    harness.processing_timer("a", now + 50)
    harness.processing_timer("b", now + 20)
    harness.processing_timer("c", now + 80)
    assert harness.processing_time.next_deadline() == now + 20

    assert harness.processing_time.fire_due() is False
    harness.clock.ms = now + 19
    assert harness.processing_time.fire_due() is False
    assert harness.take() == []

    harness.clock.ms = now + 50
    assert harness.processing_time.fire_due() is True
    assert harness.take() == [
        ("processing", now + 20, "b", None, "b"),
        ("processing", now + 50, "a", None, "a"),
    ]
    assert harness.processing_time.next_deadline() == now + 80

    harness.clock.ms = now + 1_000
    harness.processing_time.fire_due()
    assert harness.take() == [("processing", now + 80, "c", None, "c")]
    assert harness.processing_time.next_deadline() is None


def test_processing_timers_are_deduplicated_and_scheduled_once_per_timestamp(harness):
    harness.processing_timer("a", 1_010)
    harness.processing_timer("a", 1_010)
    harness.processing_timer("b", 1_010)

    harness.clock.ms = 1_010
    harness.processing_time.fire_due()

    assert harness.take() == [
        ("processing", 1_010, "a", None, "a"),
        ("processing", 1_010, "b", None, "b"),
    ]
    assert harness.processing_time.next_deadline() is None


def test_deleted_processing_timers_do_not_fire(harness):
    harness.processing_timer("a", 1_010)
    harness.processing_timer("b", 1_010)
    harness.processing_timer("a", 1_020, "w")
    harness.delete_processing_timer("a", 1_010)
    harness.delete_processing_timer("a", 1_020)  # namespace None: not that timer

    harness.clock.ms = 1_100
    harness.processing_time.fire_due()

    assert harness.take() == [
        ("processing", 1_010, "b", None, "b"),
        ("processing", 1_020, "a", "w", "a"),
    ]


def test_a_processing_timer_registered_again_after_firing_fires_again(harness):
    harness.processing_timer("a", 1_010)
    harness.clock.ms = 1_010
    harness.processing_time.fire_due()
    harness.take()

    harness.processing_timer("a", 1_030)
    harness.clock.ms = 1_030
    harness.processing_time.fire_due()

    assert harness.take() == [("processing", 1_030, "a", None, "a")]


def test_processing_timers_registered_while_firing_fire_in_the_same_pass_when_due(harness):
    def register_more(domain, timestamp, key, namespace):
        if key == "a":
            harness.processing_timer("b", timestamp)  # due now
            harness.processing_timer("c", timestamp + 100)  # not yet

    harness.on_fire = register_more
    harness.processing_timer("a", 1_010)

    harness.clock.ms = 1_050
    harness.processing_time.fire_due()

    assert harness.take() == [
        ("processing", 1_010, "a", None, "a"),
        ("processing", 1_010, "b", None, "b"),
    ]
    assert harness.processing_time.next_deadline() == 1_110
    harness.clock.ms = 1_110
    harness.processing_time.fire_due()
    assert harness.take() == [("processing", 1_110, "c", None, "c")]


def test_event_and_processing_timers_are_separate(harness):
    harness.event_timer("a", 1_010)
    harness.processing_timer("a", 1_010)

    harness.clock.ms = 5_000
    harness.processing_time.fire_due()
    assert harness.take() == [("processing", 1_010, "a", None, "a")]
    assert harness.timers.has_timers()

    harness.timers.advance_watermark(1_010)
    assert harness.take() == [("event", 1_010, "a", None, "a")]


def test_processing_time_service_runs_plain_callbacks_in_time_order():
    clock = ManualClock(0)
    service = ProcessingTimeService(clock)
    calls = []
    service.register(30, lambda ts: calls.append(("x", ts)))
    service.register(10, lambda ts: calls.append(("y", ts)))
    service.register(10, lambda ts: calls.append(("z", ts)))

    clock.ms = 29
    assert service.fire_due() is True
    assert calls == [("y", 10), ("z", 10)]
    assert service.next_deadline() == 30
    assert service.current_processing_time() == 29
