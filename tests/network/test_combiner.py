"""CombiningRecordWriter: the partials it writes fold to the record-by-record result."""

from __future__ import annotations

import random

import pytest

from minicluster.common import Row
from minicluster.network.blocking import CombiningRecordWriter, KeyedPartial
from minicluster.network.partitioners import KeyGroupStreamPartitioner
from minicluster.operators.aggregations import FieldAggregation
from minicluster.state.key_groups import subtask_for_key


class TestingPartition:
    __test__ = False  # not a test class: a double

    def __init__(self) -> None:
        self.written: list[tuple[int, list, list | None]] = []

    def write(self, subpartition, values, timestamps) -> None:
        self.written.append((subpartition, list(values), timestamps))

    def finish(self):
        return "descriptor"


def hash_partitioner(channels: int = 2) -> KeyGroupStreamPartitioner:
    partitioner = KeyGroupStreamPartitioner(lambda record: record[0])
    partitioner.setup(channels, 0)
    return partitioner


def combine(reduce, batches, max_entries=100_000, stamps=None):
    partition = TestingPartition()
    writer = CombiningRecordWriter(
        hash_partitioner(), partition, [0, 1], "test", 1,
        lambda record: record[0], reduce, max_entries, 1000,
    )
    for i, batch in enumerate(batches):
        writer.emit(batch, None if stamps is None else stamps[i])
    assert writer.finish() == "descriptor"
    return partition.written


def fold_partials(reduce, written):
    """What the consumer does: fold the partials per key with the same function."""
    out = {}
    for subpartition, values, _ in written:
        for partial in values:
            assert type(partial) is KeyedPartial
            assert subtask_for_key(partial.key, 2, 128) == subpartition
            key, value = partial.key, partial.value
            out[key] = reduce(out[key], value) if key in out else value
    return out


def reference(reduce, batches):
    out = {}
    for batch in batches:
        for record in batch:
            key = record[0]
            out[key] = reduce(out[key], record) if key in out else record
    return out


def records(shape, rng, n, values=(1, 4, -2, 0.5, 1e16)):
    out = []
    for i in range(n):
        key, value = rng.choice("abcdefghij"), rng.choice(values)
        fields = (key, value, f"first?{i}")
        out.append(list(fields) if shape == "list" else
                   Row(*fields) if shape == "row" else fields)
    return out


@pytest.mark.parametrize("shape", ["tuple", "list", "row"])
@pytest.mark.parametrize("aggregation", ["sum", "min", "max", "min_by", "max_by"])
@pytest.mark.parametrize("max_entries", [3, 100_000])
def test_the_combined_result_equals_the_record_by_record_fold(shape, aggregation, max_entries):
    rng = random.Random(f"{shape}{aggregation}{max_entries}")
    # a flush before the end splits a key's sum in partials: exact only without rounding
    values = (1, 4, -2, 0.5, 1e16) if max_entries > 1000 else (1, 4, -2, 0.5, 7, 1)
    batches = [records(shape, rng, rng.randint(0, 60), values) for _ in range(12)]
    written = combine(FieldAggregation(aggregation, 1), batches, max_entries)
    expected = reference(FieldAggregation(aggregation, 1), batches)
    got = fold_partials(FieldAggregation(aggregation, 1), written)
    assert got == expected
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in expected.items()}


def test_counts_of_ones_are_exact():
    batches = [[("w", 1)] * 5 + [("v", 1)], [("w", 1), ("u", 1)]]
    written = combine(FieldAggregation("sum", 1), batches)
    assert fold_partials(FieldAggregation("sum", 1), written) == {
        "w": ("w", 6), "v": ("v", 1), "u": ("u", 1)}


def test_a_plain_reduce_function_is_folded_per_key():
    def reduce(a, b):
        return (a[0], a[1] + b[1])
    batches = [[("a", 1), ("b", 2), ("a", 3)], [("b", 4)]]
    assert fold_partials(reduce, combine(reduce, batches)) == {"a": ("a", 4), "b": ("b", 6)}


def test_each_partial_carries_its_keys_last_timestamp():
    batches = [[("a", 1), ("b", 1), ("a", 1)], [("b", 1)]]
    written = combine(FieldAggregation("sum", 1), batches, stamps=[[10, 20, 30], [40]])
    stamps = {p.key: t for _, values, ts in written for p, t in zip(values, ts)}
    assert stamps == {"a": 30, "b": 40}
