"""FieldFolder (the batch fold of sum/min/max) against the record-by-record reduce."""

from __future__ import annotations

import random

import pytest

from minicluster.common import Row
from minicluster.operators.aggregations import FieldAggregation, FieldFolder


def reduce_fold(aggregation, position, keys, records):
    """The reference: ``FieldAggregation`` applied record by record, per key."""
    reduce = FieldAggregation(aggregation, position)
    out: dict = {}
    for key, record in zip(keys, records):
        out[key] = reduce(out[key], record) if key in out else record
    return out


def folder_fold(aggregation, position, keys, records, batch=7):
    folder = FieldAggregation(aggregation, position).folder()
    for start in range(0, len(records), batch):
        folder.fold(keys[start:start + batch], records[start:start + batch])
    return dict(folder.items())


def same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key] and type(a[key]) is type(b[key]), key
        assert [type(f) for f in a[key]] == [type(f) for f in b[key]] if isinstance(
            a[key], (tuple, list)) else True


def records_of(shape, rng, n=300, value=None):
    out = []
    for i in range(n):
        word = rng.choice("abcdefg")
        v = value if value is not None else rng.choice([3, -1, 2.5, 7, 0.1, -0.0, 10**20])
        tag = f"r{i}"
        if shape == "tuple":
            out.append((word, v, tag))
        elif shape == "list":
            out.append([word, v, tag])
        else:
            out.append(Row(word=word, n=v, tag=tag))
    return out


@pytest.mark.parametrize("shape", ["tuple", "list", "row"])
@pytest.mark.parametrize("aggregation", ["sum", "min", "max"])
@pytest.mark.parametrize("constant", [None, 1])
def test_folder_equals_the_reduce_fold_and_keeps_the_first_records_fields(
    shape, aggregation, constant
):
    rng = random.Random(f"{shape}{aggregation}{constant}")
    records = records_of(shape, rng, value=constant)
    keys = [r[0] for r in records]
    expected = reduce_fold(aggregation, 1, keys, records)
    got = folder_fold(aggregation, 1, keys, records)
    same(got, expected)
    first_tag = {}
    for key, record in zip(keys, records):
        first_tag.setdefault(key, record[2])
    assert {k: r[2] for k, r in got.items()} == first_tag  # the first record's fields
    if shape == "row":
        assert all(r._fields == ("word", "n", "tag") for r in got.values())


def test_a_row_field_name_is_a_position():
    records = [Row(word="a", n=2), Row(word="a", n=5), Row(word="b", n=1)]
    keys = ["a", "a", "b"]
    same(folder_fold("sum", "n", keys, records), reduce_fold("sum", "n", keys, records))


@pytest.mark.parametrize("aggregation", ["sum", "min", "max"])
def test_plain_values_aggregate_themselves(aggregation):
    rng = random.Random(aggregation)
    values = [rng.choice([1, 2, 2.5, -3]) for _ in range(200)]
    keys = [int(v) % 2 for v in values]
    same(folder_fold(aggregation, 0, keys, values), reduce_fold(aggregation, 0, keys, values))


def test_counting_is_exact_and_gives_way_to_floats_in_arrival_order():
    # int batches are tallied; the float batch afterwards must round as a + b would
    keys = ["k"] * 8 + ["k", "k", "j"]
    records = [("k", 1)] * 8 + [("k", 1e16), ("k", 1), ("j", 1)]
    expected = reduce_fold("sum", 1, keys, records)
    got = folder_fold("sum", 1, keys, records, batch=4)
    same(got, expected)
    float_first = [("k", 1e16), ("k", 1), ("k", 1), ("k", 1)]
    same(folder_fold("sum", 1, ["k"] * 4, float_first, batch=1),
         reduce_fold("sum", 1, ["k"] * 4, float_first))


@pytest.mark.parametrize("unit", [True, 1.0, 2])
def test_equal_but_not_int_values_are_not_counted(unit):
    records = [("a", unit), ("b", unit), ("a", unit)]
    keys = ["a", "b", "a"]
    same(folder_fold("sum", 1, keys, records, batch=3), reduce_fold("sum", 1, keys, records))


def test_counted_sum_keeps_the_first_record_of_keys_new_mid_batch():
    """A counted batch (every field the int 1) whose new keys first appear anywhere in
    it, between repeats of older keys: each key's result keeps its first record (the
    very object), whether the key is new in the first batch or a later one."""
    first_batch = [("a", 1, "a0"), ("b", 1, "b0"), ("a", 1, "a1")]
    second_batch = [
        ("a", 1, "a2"), ("c", 1, "c0"), ("b", 1, "b1"), ("d", 1, "d0"), ("c", 1, "c1"),
        ("e", 1, "e0"), ("a", 1, "a3"), ("f", 1, "f0"), ("d", 1, "d1"), ("f", 1, "f1"),
    ]
    folder = FieldAggregation("sum", 1).folder()
    for batch in (first_batch, second_batch):
        folder.fold([r[0] for r in batch], batch)

    got = dict(folder.items())

    assert got == {
        "a": ("a", 4, "a0"), "b": ("b", 2, "b0"), "c": ("c", 2, "c0"),
        "d": ("d", 2, "d0"), "e": ("e", 1, "e0"), "f": ("f", 2, "f0"),
    }
    assert got["e"] is second_batch[5]  # a key with one record keeps that record


def test_counted_sum_keeps_the_first_of_equal_keys():
    """1 and True are one key: its first record is the first of either."""
    records = [("x", 1, "x0"), (True, 1, "true0"), (1, 1, "one0"), ("x", 1, "x1")]
    keys = [r[0] for r in records]
    got = folder_fold("sum", 1, keys, records, batch=4)
    same(got, reduce_fold("sum", 1, keys, records))
    assert got == {"x": ("x", 2, "x0"), True: (True, 2, "true0")}


def test_a_key_with_one_record_keeps_that_record():
    record = ("a", 1, "x")
    folder = FieldAggregation("sum", 1).folder()
    folder.fold(["a"], [record])
    assert folder.items() == [("a", record)] and folder.items()[0][1] is record


def test_clear_forgets_every_key_and_len_counts_keys():
    folder = FieldAggregation("max", 1).folder()
    folder.fold(["a", "b", "a"], [("a", 1), ("b", 2), ("a", 3)])
    assert len(folder) == 2
    folder.clear()
    assert len(folder) == 0 and folder.items() == []


@pytest.mark.parametrize("aggregation", ["sum", "min", "max"])
def test_a_folder_that_folded_nothing_has_no_items(aggregation):
    """A combiner whose subtask read no record (its sibling took every split) flushes
    nothing at its end."""
    folder = FieldAggregation(aggregation, 1).folder()
    folder.fold([], [])  # a producer subtask that read no records
    assert folder.items() == [] and len(folder) == 0


def test_min_by_and_max_by_have_no_folder():
    assert FieldAggregation("min_by", 1).folder() is None
    assert FieldAggregation("max_by", 1).folder() is None
    with pytest.raises(ValueError, match="folds sum, min or max"):
        FieldFolder("min_by", 1)


def test_a_position_out_of_range_is_reported():
    with pytest.raises(IndexError, match=r"sum\(5\): position out of range"):
        FieldAggregation("sum", 5).folder().fold(["a"], [("a", 1)])
