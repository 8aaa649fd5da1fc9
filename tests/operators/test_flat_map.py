"""``FlatMapOperator`` without processes: its output leaves in batches of about
``batch_size`` records, with every record and timestamp in order."""

from __future__ import annotations

import pytest

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.common.execution_config import ExecutionConfig
from minicluster.operators.base import OperatorContext, ProcessingTimeService
from minicluster.operators.simple import FlatMapOperator


class CollectingOutput:
    def __init__(self) -> None:
        self.batches: list = []

    def collect(self, values, timestamps):
        if values:
            self.batches.append((values, timestamps))


def opened(function, batch_size):
    operator = FlatMapOperator(function)
    output = operator.output = CollectingOutput()
    operator.open(OperatorContext(
        runtime_context=RuntimeContext("Flat Map", 0, 1, 128),
        subtask_index=0, parallelism=1, max_parallelism=128, batch_size=batch_size,
        config=ExecutionConfig(), processing_time=ProcessingTimeService(lambda: 0.0),
        open_client_channel=None,
    ))
    return operator, output


def repeat_words(line):
    return [(word, 1) for word in line.split()]


def test_output_is_cut_after_the_record_that_reaches_the_batch_size():
    operator, output = opened(repeat_words, batch_size=4)
    lines = ["a b c", "d e", "f", "g h i j k", "", "l"]

    operator.process_batch(lines, None)

    words = [(w, 1) for w in "abcdefghijkl"]
    assert output.batches == [(words[0:5], None), (words[5:11], None), (words[11:], None)]


def test_cut_batches_keep_each_records_timestamp():
    operator, output = opened(lambda s: list(s), batch_size=3)

    operator.process_batch(["ab", "cde", "", "f", "gh"], [10, 20, 30, 40, 50])

    assert output.batches == [
        (["a", "b", "c", "d", "e"], [10, 10, 20, 20, 20]),
        (["f", "g", "h"], [40, 50, 50]),
    ]


def test_a_generator_result_is_read_once_and_none_is_refused():
    operator, output = opened(lambda n: (i for i in range(n)), batch_size=100)
    operator.process_batch([2, 3], None)
    assert output.batches == [([0, 1, 0, 1, 2], None)]

    with pytest.raises(TypeError, match="flat_map function returned None for 7"):
        opened(lambda value: None, batch_size=100)[0].process_batch([7], None)
