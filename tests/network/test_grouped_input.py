"""GroupedBlockingInputs without processes: grouping order, spilled runs, timestamps."""

from __future__ import annotations

import os
import random

import pytest

from minicluster.network.grouped_input import READING, GroupedBlockingInputs, sort_key


class TestingInput:
    """A BlockingInput look-alike over prepared ``(values, timestamps)`` batches."""

    __test__ = False

    def __init__(self, input_index: int, batches: list) -> None:
        self.input_index = input_index
        self.batches = list(batches)
        self.closed = False

    def next_batch(self):
        return self.batches.pop(0) if self.batches else None

    def close(self) -> None:
        self.closed = True


def make_batches(timed_from: int = 10) -> tuple[list, list]:
    """Two inputs of (key, batch number, position) records; batches before
    ``timed_from`` (and every third) carry no timestamps."""
    rng = random.Random(1)
    first, second = [], []
    for n in range(30):
        values = [(rng.choice([*range(12), "a", None, ("t", 2)]), n, i) for i in range(7)]
        stamps = None if n < timed_from or n % 3 == 0 else [n * 100 + i for i in range(7)]
        (first if n % 2 == 0 else second).append((values, stamps))
    return first, second


def deliver(tmp_path, budget: int, batch_size: int = 5, timed_from: int = 10):
    first, second = make_batches(timed_from)
    grouped = GroupedBlockingInputs(
        [TestingInput(0, first), TestingInput(1, second)], [lambda v: v[0]] * 2,
        budget, str(tmp_path), "sort-test", batch_size,
    )
    out, batches = [], []
    while (runs := grouped.next_batch()) is not None:
        if runs is READING:
            continue
        assert sum(len(values) for values, _, _ in runs) >= 1
        for values, stamps, index in runs:
            batches.append(len(values))
            out += zip(values, stamps or [None] * len(values), [index] * len(values))
    grouped.close()
    return out, grouped.records_spilled, batches


@pytest.mark.parametrize("timed_from", [0, 10, 99])
def test_spilled_and_in_memory_deliver_the_same_sequence(tmp_path, timed_from):
    in_memory, none_spilled, _ = deliver(tmp_path, 10**6, timed_from=timed_from)
    spilled, records_spilled, _ = deliver(tmp_path, 13, timed_from=timed_from)

    assert none_spilled == 0 and records_spilled > 0
    assert spilled == in_memory
    assert os.listdir(tmp_path) == [], "merged runs are deleted"
    for (key, n, i), stamp, _ in in_memory:  # timestamps stay with their records
        assert stamp == (None if n < timed_from or n % 3 == 0 else n * 100 + i)


def test_keys_in_sort_order_input_0_first_stable_within_key(tmp_path):
    out, _, batch_sizes = deliver(tmp_path, 10**6)
    keys = [value[0] for value, _, _ in out]
    order = [sort_key(k) for k in dict.fromkeys(keys)]
    assert order == sorted(order)
    assert len(list(dict.fromkeys(keys))) == len(set(keys)), "each key in one run"
    for key in set(keys):
        records = [(index, value[1], value[2]) for value, _, index in out if value[0] == key]
        assert records == sorted(records), "input 0 first, then arrival order"
    assert max(batch_sizes) <= 5


def test_close_removes_unmerged_runs(tmp_path):
    first, second = make_batches()
    grouped = GroupedBlockingInputs(
        [TestingInput(0, first), TestingInput(1, second)], [lambda v: v[0]] * 2,
        20, str(tmp_path), "sort-test", 5,
    )
    for _ in range(20):
        grouped.next_batch()
    assert os.listdir(tmp_path) != []
    grouped.close()
    assert os.listdir(tmp_path) == []


def test_a_budget_below_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="memory-records must be at least 1, got 0"):
        GroupedBlockingInputs([TestingInput(0, [])], [len], 0, str(tmp_path), "x", 5)
