"""``WatermarkStrategy`` and the generators it builds, without processes.

A generator is driven as the runtime drives it: ``on_event`` per record, then
``on_periodic_emit``; ``RecordingOutput`` keeps what it emitted. Flink's arithmetic is
the reference: bounded out-of-orderness emits ``max timestamp - bound - 1``, monotonous
``max timestamp - 1``, and both start at the minimum watermark.
"""

from __future__ import annotations

import pytest

from minicluster.common import Duration, WatermarkStrategy
from minicluster.common.watermark_strategy import (
    TimestampAssigner,
    Watermark,
    WatermarkGenerator,
    WatermarkOutput,
)
from minicluster.network.events import MIN_WATERMARK


class RecordingOutput(WatermarkOutput):
    def __init__(self) -> None:
        self.events: list = []

    def emit_watermark(self, watermark: Watermark) -> None:
        self.events.append(watermark.get_timestamp())

    def mark_idle(self) -> None:
        self.events.append("idle")

    def mark_active(self) -> None:
        self.events.append("active")


def periodic_watermarks(strategy: WatermarkStrategy, timestamps: list[int]) -> list:
    """The watermark after each event, as a periodic emit right after it sees it."""
    generator = strategy.create_watermark_generator()
    output = RecordingOutput()
    for timestamp in timestamps:
        generator.on_event(("event", timestamp), timestamp, output)
        generator.on_periodic_emit(output)
    return output.events


# -- built-in generators ------------------------------------------------------------------


def test_bounded_out_of_orderness_is_max_minus_bound_minus_one():
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(2))

    # the late 3 and 7 do not move the maximum back
    assert periodic_watermarks(strategy, [5, 3, 10, 7, 12]) == [2, 2, 7, 7, 9]


def test_bounded_out_of_orderness_takes_the_bound_in_milliseconds():
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(1))

    assert periodic_watermarks(strategy, [5_000, 4_000, 6_500]) == [3_999, 3_999, 5_499]


def test_monotonous_is_max_minus_one():
    strategy = WatermarkStrategy.for_monotonous_timestamps()

    assert periodic_watermarks(strategy, [1, 2, 2, 10, 9]) == [0, 1, 1, 9, 9]


@pytest.mark.parametrize(
    "strategy",
    [
        WatermarkStrategy.for_monotonous_timestamps(),
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(100)),
    ],
    ids=["monotonous", "bounded"],
)
def test_before_any_event_the_watermark_is_the_minimum(strategy):
    generator = strategy.create_watermark_generator()
    output = RecordingOutput()

    generator.on_periodic_emit(output)

    assert output.events == [MIN_WATERMARK]


@pytest.mark.parametrize(
    "strategy",
    [
        WatermarkStrategy.for_monotonous_timestamps(),
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(3)),
        WatermarkStrategy.no_watermarks(),
    ],
    ids=["monotonous", "bounded", "none"],
)
def test_built_in_generators_are_periodic_only(strategy):
    generator = strategy.create_watermark_generator()
    output = RecordingOutput()

    for timestamp in (1, 50, 20):
        generator.on_event(timestamp, timestamp, output)

    assert output.events == []


def test_no_watermarks_never_emits():
    strategy = WatermarkStrategy.no_watermarks()

    assert periodic_watermarks(strategy, [1, 5, 100]) == []
    assert strategy.generates_watermarks is False
    assert WatermarkStrategy.for_monotonous_timestamps().generates_watermarks is True


def test_each_generator_has_its_own_state():
    """One generator per subtask: what one saw must not move another's watermark."""
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    first, second = strategy.create_watermark_generator(), strategy.create_watermark_generator()
    output = RecordingOutput()

    first.on_event("a", 1_000, output)
    second.on_periodic_emit(output)

    assert first is not second
    assert output.events == [MIN_WATERMARK]


# -- custom generators --------------------------------------------------------------------


class EveryThird(WatermarkGenerator):
    """Punctuated: a watermark at the timestamp of every third event."""

    def __init__(self) -> None:
        self.seen = 0

    def on_event(self, event, event_timestamp, output):
        self.seen += 1
        if self.seen % 3 == 0:
            output.emit_watermark(Watermark(event_timestamp))

    def on_periodic_emit(self, output):
        pass


def test_for_generator_uses_the_supplier_once_per_generator():
    made = []

    def supplier():
        made.append(EveryThird())
        return made[-1]

    strategy = WatermarkStrategy.for_generator(supplier)
    generator = strategy.create_watermark_generator()
    output = RecordingOutput()
    for timestamp in (10, 20, 30, 40, 50, 60):
        generator.on_event(None, timestamp, output)

    assert output.events == [30, 60]
    assert made == [generator]
    assert strategy.create_watermark_generator() is not generator


def test_for_generator_rejects_what_is_not_callable():
    with pytest.raises(TypeError, match=r"for_generator\(\) takes a callable"):
        WatermarkStrategy.for_generator(EveryThird())


def test_a_supplier_returning_no_generator_fails_when_the_generator_is_created():
    strategy = WatermarkStrategy.for_generator(lambda: "not a generator")

    with pytest.raises(TypeError, match="supplier returned 'not a generator'"):
        strategy.create_watermark_generator()


def test_a_generator_must_implement_both_methods():
    class OnlyEvents(WatermarkGenerator):
        def on_event(self, event, event_timestamp, output):
            pass

    with pytest.raises(TypeError, match="on_periodic_emit"):
        OnlyEvents()


# -- timestamp assigners ------------------------------------------------------------------


def test_with_timestamp_assigner_accepts_a_callable_of_value_and_record_timestamp():
    calls = []

    def extract(value, record_timestamp):
        calls.append((value, record_timestamp))
        return value["ts"]

    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(extract)
    assigner = strategy.create_timestamp_assigner()

    assert isinstance(assigner, TimestampAssigner)
    assert assigner.extract_timestamp({"ts": 42}, 7) == 42
    assert calls == [({"ts": 42}, 7)]


def test_with_timestamp_assigner_accepts_a_timestamp_assigner():
    class SecondField(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value[1]

    assigner = SecondField()
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(assigner)

    assert strategy.create_timestamp_assigner() is assigner
    assert strategy.create_timestamp_assigner().extract_timestamp(("a", 9), 0) == 9


def test_a_strategy_without_assigner_has_none():
    assert WatermarkStrategy.for_monotonous_timestamps().create_timestamp_assigner() is None


@pytest.mark.parametrize("assigner", [5, "field", None])
def test_with_timestamp_assigner_rejects_what_is_not_an_assigner(assigner):
    with pytest.raises(TypeError, match=r"with_timestamp_assigner\(\) takes a TimestampAssigner"):
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(assigner)


def test_strategies_are_immutable_and_keep_their_other_settings():
    base = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(5))
    with_assigner = base.with_timestamp_assigner(lambda value, ts: value)
    with_both = with_assigner.with_idleness(Duration.of_seconds(2))
    idle_then_assigner = base.with_idleness(Duration.of_millis(300)).with_timestamp_assigner(
        lambda value, ts: value
    )

    assert base.create_timestamp_assigner() is None
    assert base.idle_timeout_ms is None
    assert with_assigner.idle_timeout_ms is None
    assert with_both.idle_timeout_ms == 2_000
    assert with_both.create_timestamp_assigner() is with_assigner.create_timestamp_assigner()
    assert idle_then_assigner.idle_timeout_ms == 300
    assert idle_then_assigner.create_timestamp_assigner().extract_timestamp(8, 0) == 8
    assert periodic_watermarks(with_both, [10]) == [4]  # still bounded by 5 ms
    assert repr(with_both) == "WatermarkStrategy.for_bounded_out_of_orderness(5 ms)"


# -- invalid arguments ----------------------------------------------------------------------


def test_a_negative_bound_is_rejected():
    with pytest.raises(ValueError, match="out-of-orderness bound cannot be negative"):
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(-1))


@pytest.mark.parametrize("timeout", [Duration.of_millis(0), Duration.of_millis(-5)])
def test_the_idle_timeout_must_be_positive(timeout):
    with pytest.raises(ValueError, match="idle timeout must be positive"):
        WatermarkStrategy.for_monotonous_timestamps().with_idleness(timeout)


@pytest.mark.parametrize("not_a_duration", [5, 2.5, "5 s", None])
def test_durations_must_be_durations(not_a_duration):
    with pytest.raises(TypeError, match="expected a Duration"):
        WatermarkStrategy.for_bounded_out_of_orderness(not_a_duration)
    with pytest.raises(TypeError, match="expected a Duration"):
        WatermarkStrategy.for_monotonous_timestamps().with_idleness(not_a_duration)


# -- the Watermark value ----------------------------------------------------------------------


def test_watermark_value():
    assert Watermark(5).get_timestamp() == 5
    assert Watermark(5) == Watermark(5)
    assert Watermark(5) != Watermark(6)
    assert len({Watermark(5), Watermark(5)}) == 1
    assert repr(Watermark(-3)) == "Watermark(-3)"
