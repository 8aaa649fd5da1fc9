"""Tests for ``minicluster.state.key_groups``: stable key hashing and key-group ranges.

Ranges are checked against Flink's ``KeyGroupRangeAssignment`` formulas, written here
independently with exact fractions:

    start(i)          = ceil(i * maxP / p)
    end(i)            = floor(((i + 1) * maxP - 1) / p)
    operator_index(k) = floor(k * p / maxP)
"""

import json
import math
import os
import subprocess
import sys
from collections import Counter
from fractions import Fraction

import pytest

from minicluster.common import Row, RowKind
from minicluster.state import (
    DEFAULT_MAX_PARALLELISM,
    KeyGroupRange,
    UnsupportedKeyError,
    key_group_for,
    key_group_range_for_subtask,
    stable_hash,
    subtask_for_key,
    subtask_for_key_group,
)
from minicluster.state import key_groups
from minicluster.state.key_groups import KEY_CACHE_LIMIT, cache_bounded

# -- stable_hash across processes -----------------------------------------------------

# Evaluated in this process and in subprocesses with other PYTHONHASHSEED values; the
# expression is the same text in both so that the keys are built identically.
_KEYS_EXPR = (
    "['', 'a', 'word', 'Straße', '日本語', 'emoji \\U0001F600', 'x' * 1000,"
    " b'', b'a', b'\\x00\\xff', "
    " 0, 1, -1, 2**64 + 7, -(2**100), 1.5, -0.25, 1e300, None, True,"
    " ('a', 1), ('a', ('b', b'c')), (), (None,),"
    " Row('a', 1), Row(word='a', count=1), Row('x', Row('y', 2))]"
)

_CHILD = f"""
import json
from minicluster.common import Row
from minicluster.state.key_groups import key_group_for, stable_hash
keys = {_KEYS_EXPR}
print(json.dumps({{
    "hashes": [stable_hash(k) for k in keys],
    "groups": [key_group_for(k, 128) for k in keys],
    "builtin": [hash(k) for k in ['word', b'word', ('word', 1)]],
}}))
"""


def _run_child(seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    # -P: do not put the current directory first on sys.path, where the repository's
    # own minicluster/ folder (without the mapped slots/network/state) would shadow
    # the installed package.
    done = subprocess.run(
        [sys.executable, "-P", "-c", _CHILD], env=env, capture_output=True, text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_stable_hash_and_key_groups_are_identical_across_processes_and_hash_seeds():
    keys = eval(_KEYS_EXPR)  # noqa: S307 - a fixed literal, shared with the child
    here = {
        "hashes": [stable_hash(k) for k in keys],
        "groups": [key_group_for(k, 128) for k in keys],
    }

    children = [_run_child(seed) for seed in ("0", "1", "4242")]

    # The salt really differed, so the comparison below could have failed.
    assert len({tuple(c["builtin"]) for c in children}) == 3
    for child in children:
        assert child["hashes"] == here["hashes"]
        assert child["groups"] == here["groups"]


def test_stable_hash_of_str_and_bytes_is_crc32_of_the_bytes():
    # Pinned values: a change of the hash function moves every key's key group,
    # which breaks state restored from an older checkpoint.
    assert stable_hash("") == 0
    assert stable_hash(b"") == 0
    assert stable_hash("a") == 0xE8B7BE43
    assert stable_hash(b"a") == 0xE8B7BE43
    assert stable_hash("word") == stable_hash(b"word")


# -- equal keys hash equally ----------------------------------------------------------


@pytest.mark.parametrize(
    "equal_keys",
    [
        (1, 1.0, True),
        (0, 0.0, -0.0, False),
        (2**70, float(2**70)),
        (-5, -5.0),
        (("a", 1), ("a", 1.0), ("a", True)),
        ((1, (2, "x")), (1.0, (2.0, "x"))),
    ],
    ids=["one", "zero", "big", "negative", "tuple", "nested-tuple"],
)
def test_keys_that_compare_equal_hash_equally(equal_keys):
    assert len(set(equal_keys)) == 1  # Python agrees they are one key
    assert len({stable_hash(k) for k in equal_keys}) == 1
    assert len({key_group_for(k, 128) for k in equal_keys}) == 1


def test_row_keys_hash_like_the_equal_tuple_whatever_names_and_kind():
    plain = Row("a", 1)
    named = Row(word="a", count=1)
    deleted = Row("a", 1)
    deleted.set_row_kind(RowKind.DELETE)

    expected = stable_hash(("a", 1))
    assert stable_hash(plain) == expected
    assert stable_hash(named) == expected
    assert stable_hash(deleted) == expected
    assert stable_hash(Row("a", Row("b", 2))) == stable_hash(("a", ("b", 2)))
    assert key_group_for(named, 128) == key_group_for(("a", 1), 128)


def test_distinct_keys_get_distinct_hashes():
    keys = ["a", "b", b"a", 1, 2, 1.5, None, ("a",), ("a", "b"), ("b", "a"), (("a",),), ()]

    assert len({stable_hash(k) for k in keys}) == len(keys) - 1  # only "a" and b"a" collide
    assert stable_hash(("a", "b")) != stable_hash(("b", "a"))
    assert stable_hash(()) != stable_hash((None,))


def test_str_subclass_hashes_like_its_str_value():
    class Word(str):
        pass

    assert stable_hash(Word("flink")) == stable_hash("flink")


def test_every_nan_key_goes_to_the_same_key_group_or_is_rejected():
    """Python hashes NaN by object identity (3.10+), so hash() is not stable for it."""
    nans = [float("nan"), float("inf") - float("inf"), float("-nan"), -float("nan")]

    try:
        hashes = {stable_hash(nan) for nan in nans}
    except UnsupportedKeyError:
        return  # rejecting NaN keys outright is acceptable too
    assert len(hashes) == 1


# -- unsupported keys -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "type_name"),
    [([1, 2], "list"), ({"a": 1}, "dict"), ({1, 2}, "set")],
)
def test_unhashable_key_raises_with_a_clear_message(key, type_name):
    with pytest.raises(
        UnsupportedKeyError,
        match=rf"of type {type_name} is unhashable; keys must be str, int, float, bytes",
    ):
        stable_hash(key)


def test_unhashable_element_of_a_tuple_key_raises():
    with pytest.raises(UnsupportedKeyError, match=r"key \[2\] of type list is unhashable"):
        stable_hash((1, [2]))


def test_list_key_message_says_how_to_fix_it():
    with pytest.raises(UnsupportedKeyError, match=r"convert lists with tuple\(\.\.\.\)"):
        key_group_for(["a"], 128)


def test_mutable_bytes_key_raises():
    with pytest.raises(UnsupportedKeyError, match=r"type bytearray is mutable.*bytes\(\.\.\.\)"):
        stable_hash(bytearray(b"ab"))


@pytest.mark.parametrize("key", [object(), frozenset({1}), RowKind.INSERT])
def test_hashable_key_without_a_stable_hash_raises(key):
    with pytest.raises(UnsupportedKeyError, match="has no stable hash across processes"):
        stable_hash(key)


def test_unsupported_key_error_is_a_type_error():
    assert issubclass(UnsupportedKeyError, TypeError)


# -- key group ranges -----------------------------------------------------------------


def _flink_range(max_parallelism, parallelism, index):
    start = math.ceil(Fraction(index * max_parallelism, parallelism))
    end = math.floor(Fraction((index + 1) * max_parallelism - 1, parallelism))
    return start, end


def _flink_operator_index(key_group, parallelism, max_parallelism):
    return math.floor(Fraction(key_group * parallelism, max_parallelism))


def _pairs():
    for max_p in (1, 2, 3, 5, 7, 10, 16, 100, 127, 128, 129, 256, 1000):
        for p in sorted({*range(1, min(max_p, 33) + 1), max(max_p - 1, 1), max_p}):
            yield max_p, p


PAIRS = list(_pairs())


@pytest.mark.parametrize(("max_p", "p"), PAIRS, ids=[f"{m}/{p}" for m, p in PAIRS])
def test_ranges_match_flink_and_partition_all_key_groups(max_p, p):
    ranges = [key_group_range_for_subtask(max_p, p, i) for i in range(p)]

    assert [(r.start, r.end) for r in ranges] == [_flink_range(max_p, p, i) for i in range(p)]
    # Contiguous, in order, covering [0, max_p) exactly once.
    assert [kg for r in ranges for kg in r] == list(range(max_p))
    assert sum(len(r) for r in ranges) == max_p
    for i, r in enumerate(ranges):
        for kg in r:
            assert subtask_for_key_group(kg, p, max_p) == i
            assert _flink_operator_index(kg, p, max_p) == i
    # Balanced: sizes differ by at most one.
    assert max(len(r) for r in ranges) - min(len(r) for r in ranges) <= 1


def test_range_examples():
    assert key_group_range_for_subtask(128, 1, 0) == KeyGroupRange(0, 127)
    assert key_group_range_for_subtask(128, 3, 0) == KeyGroupRange(0, 42)
    assert key_group_range_for_subtask(128, 3, 1) == KeyGroupRange(43, 85)
    assert key_group_range_for_subtask(128, 3, 2) == KeyGroupRange(86, 127)
    assert subtask_for_key_group(42, 3, 128) == 0
    assert subtask_for_key_group(43, 3, 128) == 1
    assert subtask_for_key_group(127, 3, 128) == 2


@pytest.mark.parametrize(("max_p", "p"), [(128, 0), (128, 129), (1, 2)])
def test_range_for_invalid_parallelism_raises(max_p, p):
    with pytest.raises(ValueError, match=rf"parallelism {p} must be in \[1, max_parallelism={max_p}\]"):
        key_group_range_for_subtask(max_p, p, 0)


def test_key_group_range_container_protocol():
    r = KeyGroupRange(3, 5)

    assert list(r) == [3, 4, 5]
    assert len(r) == 3
    assert 3 in r and 5 in r
    assert 2 not in r and 6 not in r
    assert "4" not in r
    assert len(KeyGroupRange(4, 3)) == 0  # the empty range


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 3)])
def test_invalid_key_group_range_raises(start, end):
    with pytest.raises(ValueError, match=rf"invalid key group range \[{start}, {end}\]"):
        KeyGroupRange(start, end)


# -- keys to key groups to subtasks ---------------------------------------------------


@pytest.mark.parametrize("max_p", [1, 7, 128, 32768])
def test_key_group_is_within_max_parallelism(max_p):
    keys = [0, -1, -(2**80), 2**80, 0.5, "a", b"b", None, ("t", 1), *range(500)]

    assert all(0 <= key_group_for(k, max_p) < max_p for k in keys)


def test_subtask_for_key_is_the_owner_of_the_keys_key_group():
    keys = [f"user-{i}" for i in range(300)] + list(range(300))
    for max_p, p in [(128, 1), (128, 3), (128, 128), (10, 4), (1000, 7)]:
        for key in keys:
            subtask = subtask_for_key(key, p, max_p)
            assert subtask == subtask_for_key_group(key_group_for(key, max_p), p, max_p)
            assert key_group_for(key, max_p) in key_group_range_for_subtask(max_p, p, subtask)


def test_default_max_parallelism_is_flinks_minimum():
    assert DEFAULT_MAX_PARALLELISM == 128


def test_ten_thousand_int_keys_spread_over_all_128_key_groups():
    counts = Counter(key_group_for(k, 128) for k in range(10_000))

    assert sorted(counts) == list(range(128))  # every group gets keys
    assert min(counts.values()) >= 40  # the mean is 78
    assert max(counts.values()) <= 120


def test_multiples_of_max_parallelism_do_not_share_a_key_group():
    counts = Counter(key_group_for(128 * k, 128) for k in range(1000))

    assert len(counts) >= 120
    assert max(counts.values()) <= 25


def test_string_keys_spread_over_subtasks():
    counts = Counter(subtask_for_key(f"word-{i}", 4, 128) for i in range(4000))

    assert sorted(counts) == [0, 1, 2, 3]
    assert min(counts.values()) >= 800  # the mean is 1000


# -- the bounded key cache ----------------------------------------------------------------


def test_cache_bounded_starts_over_when_full(monkeypatch):
    monkeypatch.setattr(key_groups, "KEY_CACHE_LIMIT", 3)
    cache: dict = {}
    for key in ("a", "b", "c"):
        cache_bounded(cache, key, key.upper())
    assert cache == {"a": "A", "b": "B", "c": "C"}

    cache_bounded(cache, "d", "D")  # full: forget everything, keep the newest

    assert cache == {"d": "D"}


def test_cache_limit_holds_a_hundred_thousand_keys():
    """Sized for W3's 100k distinct customer ids, with room to spare."""
    assert 100_000 < KEY_CACHE_LIMIT <= 1 << 20
