"""Window joins and co-groups on the real cluster, against a plain-Python computation
over the same tumbling/sliding windows."""

import random
from collections import defaultdict

import pytest

from minicluster.common import Time, WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.functions import CoGroupFunction, FlatJoinFunction, JoinFunction
from minicluster.datastream.window import SlidingEventTimeWindows, TumblingEventTimeWindows

STRATEGY = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
    lambda event, record_ts: event[0]
)


def events(seed: int, side: str, count: int) -> list[tuple[int, str, str]]:
    rng = random.Random(seed)
    stamps = sorted(rng.randrange(0, 40_000) for _ in range(count))
    return [(ts, rng.choice("pqrs"), f"{side}{i}") for i, ts in enumerate(stamps)]


def windows_of(ts: int, size: int, slide: int) -> list[tuple[int, int]]:
    last_start = ts - ts % slide
    return [(s, s + size) for s in range(last_start, ts - size, -slide) if s <= ts < s + size]


def expected_groups(left, right, size, slide):
    groups = defaultdict(lambda: ([], []))
    for side, stream in ((0, left), (1, right)):
        for event in stream:
            for window in windows_of(event[0], size, slide):
                groups[(event[1], window)][side].append(event[2])
    return groups


class PairNames(JoinFunction):
    def join(self, value1, value2):
        return (value1[2], value2[2])


class SortedSides(CoGroupFunction):
    def co_group(self, first, second):
        yield (sorted(v[2] for v in first), sorted(v[2] for v in second))


def two_streams(env, left, right):
    a = env.from_collection(left).assign_timestamps_and_watermarks(STRATEGY)
    b = env.from_collection(right).assign_timestamps_and_watermarks(STRATEGY)
    return a, b


@pytest.fixture
def env(minicluster_cluster):
    return StreamExecutionEnvironment.get_execution_environment(
        {"pipeline.auto-watermark-interval": "0", "minicluster.batch-size": "7"}
    )


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize("size,slide", [(10_000, 10_000), (10_000, 5_000)])
def test_window_join_pairs_every_match_of_a_key_and_window(env, parallelism, size, slide):
    env.set_parallelism(parallelism)
    left, right = events(1, "L", 60), events(2, "R", 50)
    a, b = two_streams(env, left, right)
    assigner = (
        TumblingEventTimeWindows.of(Time.milliseconds(size))
        if size == slide
        else SlidingEventTimeWindows.of(Time.milliseconds(size), Time.milliseconds(slide))
    )
    joined = a.join(b).where(lambda e: e[1]).equal_to(lambda e: e[1]).window(assigner)

    actual = sorted(joined.apply(PairNames()).execute_and_collect())

    expected = sorted(
        (l, r)
        for firsts, seconds in expected_groups(left, right, size, slide).values()
        for l in firsts
        for r in seconds
    )
    assert expected and actual == expected


@pytest.mark.parametrize("parallelism", [1, 2])
def test_co_group_sees_both_sides_even_when_one_is_empty(env, parallelism):
    env.set_parallelism(parallelism)
    left, right = events(3, "L", 40), events(4, "R", 30)
    a, b = two_streams(env, left, right)

    actual = sorted(
        a.co_group(b)
        .where(lambda e: e[1])
        .equal_to(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .apply(SortedSides())
        .execute_and_collect()
    )

    expected = sorted(
        (sorted(f), sorted(s)) for f, s in expected_groups(left, right, 10_000, 10_000).values()
    )
    assert any(not f or not s for f, s in expected)  # the one-sided case is covered
    assert actual == expected


class EveryOtherPair(FlatJoinFunction):
    def join(self, value1, value2):
        if (int(value1[2][1:]) + int(value2[2][1:])) % 2 == 0:
            yield value1[2] + value2[2]


def test_flat_join_emits_any_number_of_outputs_per_pair(env):
    env.set_parallelism(2)
    left, right = events(5, "L", 30), events(6, "R", 30)
    a, b = two_streams(env, left, right)

    actual = sorted(
        a.join(b)
        .where(lambda e: e[1])
        .equal_to(lambda e: e[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .apply(EveryOtherPair())
        .execute_and_collect()
    )

    expected = sorted(
        l + r
        for f, s in expected_groups(left, right, 10_000, 10_000).values()
        for l in f
        for r in s
        if (int(l[1:]) + int(r[1:])) % 2 == 0
    )
    assert actual == expected


def test_window_join_needs_both_key_selectors(env):
    a, b = two_streams(env, events(7, "L", 3), events(8, "R", 3))
    with pytest.raises(TypeError, match=r"where\(key1\)\.equal_to\(key2\) before window"):
        a.join(b).window(TumblingEventTimeWindows.of(Time.seconds(1)))
    with pytest.raises(TypeError, match=r"call where\(key_selector\) before equal_to"):
        a.join(b).equal_to(lambda e: e[1])
