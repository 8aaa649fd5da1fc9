"""Tests for ``minicluster.common.time``: ``Duration`` and ``Time`` as values."""

import pickle
import re

import pytest

from minicluster.common import Duration, Time


@pytest.mark.parametrize(
    ("duration", "millis"),
    [
        (Duration.of_nanos(1_500_000), 1),
        (Duration.of_millis(1500), 1500),
        (Duration.of_seconds(5), 5_000),
        (Duration.of_minutes(2), 120_000),
        (Duration.of_hours(1), 3_600_000),
        (Duration.of_days(1), 86_400_000),
        (Duration.of_seconds(-1), -1_000),
        (Duration.of_nanos(-1), -1),
    ],
)
def test_duration_to_milliseconds_rounds_down_like_java(duration, millis):
    assert duration.to_milliseconds() == millis


def test_duration_to_nanos():
    assert Duration.of_millis(3).to_nanos() == 3_000_000
    assert Duration.of_seconds(1).to_nanos() == 1_000_000_000
    assert Duration.of_nanos(7).to_nanos() == 7


def test_durations_are_equal_by_length():
    assert Duration.of_seconds(60) == Duration.of_minutes(1)
    assert hash(Duration.of_seconds(60)) == hash(Duration.of_minutes(1))
    assert Duration.of_millis(1) != Duration.of_nanos(1)
    assert Duration.of_millis(5) != Time.milliseconds(5)
    assert len({Duration.of_hours(24), Duration.of_days(1)}) == 1


def test_durations_are_ordered():
    assert Duration.of_millis(999) < Duration.of_seconds(1)
    assert max(Duration.of_minutes(1), Duration.of_seconds(61)) == Duration.of_seconds(61)
    with pytest.raises(TypeError):
        Duration.of_millis(1) < Time.milliseconds(2)


def test_duration_sign():
    assert Duration.of_seconds(-1).is_negative()
    assert not Duration.of_seconds(0).is_negative()
    assert Duration.of_seconds(0).is_zero()
    assert not Duration.of_nanos(1).is_zero()


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (Duration.of_days(2), "Duration.of_days(2)"),
        (Duration.of_hours(25), "Duration.of_hours(25)"),
        (Duration.of_seconds(90), "Duration.of_seconds(90)"),
        (Duration.of_millis(1500), "Duration.of_millis(1500)"),
        (Duration.of_nanos(1), "Duration.of_nanos(1)"),
        (Duration.of_seconds(-5), "Duration.of_seconds(-5)"),
        (Duration.of_millis(0), "Duration.of_nanos(0)"),
    ],
)
def test_duration_repr_uses_the_largest_exact_unit(duration, text):
    assert repr(duration) == text


def test_duration_factories_take_whole_numbers():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Duration.of_seconds() takes a whole number (int), got float 1.5; express "
            "fractions in a smaller unit, e.g. of_millis(1500)"
        ),
    ):
        Duration.of_seconds(1.5)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Duration.of_millis() takes a whole number (int), got bool True"
        ),
    ):
        Duration.of_millis(True)


def test_duration_is_immutable_and_picklable():
    duration = Duration.of_seconds(5)

    with pytest.raises(AttributeError):
        duration._nanos = 1
    assert pickle.loads(pickle.dumps(duration, protocol=5)) == duration


@pytest.mark.parametrize(
    ("time", "millis"),
    [
        (Time.milliseconds(10), 10),
        (Time.seconds(5), 5_000),
        (Time.minutes(2), 120_000),
        (Time.hours(1), 3_600_000),
        (Time.days(1), 86_400_000),
        (Time.seconds(-1), -1_000),
    ],
)
def test_time_to_milliseconds(time, millis):
    assert time.to_milliseconds() == millis


def test_time_values():
    assert Time.seconds(60) == Time.minutes(1)
    assert hash(Time.seconds(60)) == hash(Time.minutes(1))
    assert Time.seconds(1) < Time.milliseconds(1001)
    assert repr(Time.seconds(90)) == "Time.seconds(90)"
    assert repr(Time.minutes(60)) == "Time.hours(1)"
    assert repr(Time.milliseconds(0)) == "Time.milliseconds(0)"
    assert pickle.loads(pickle.dumps(Time.days(3), protocol=5)) == Time.days(3)
    with pytest.raises(AttributeError):
        Time.seconds(1)._milliseconds = 2


def test_time_factories_take_whole_numbers():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Time.seconds() takes a whole number (int), got float 0.5; express fractions in "
            "a smaller unit, e.g. Time.milliseconds(1500)"
        ),
    ):
        Time.seconds(0.5)


def test_time_and_duration_share_to_milliseconds():
    spans = [Time.seconds(5), Duration.of_seconds(5)]

    assert {span.to_milliseconds() for span in spans} == {5_000}
