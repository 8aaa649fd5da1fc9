"""``process_runs`` of the keyed (co-)process operators, without processes: the BATCH
path that takes key-grouped runs ``(values, timestamps, input_index)`` and sorts what
the function returns inline (no ``emit_all`` call per record).

The operator is driven directly, as ``StreamTask`` drives a grouped head; its output
is a collecting double.
"""

from __future__ import annotations

from collections import defaultdict

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.common.execution_config import ExecutionConfig
from minicluster.datastream.functions import KeyedCoProcessFunction, KeyedProcessFunction
from minicluster.datastream.output_tag import OutputTag
from minicluster.datastream.state import ValueStateDescriptor
from minicluster.operators.base import OperatorContext, ProcessingTimeService
from minicluster.operators.keyed_process import KeyedCoProcessOperator, KeyedProcessOperator

SIDE = OutputTag("side")


class CollectingOutput:
    """Every ``collect`` call as it came: ``(values, timestamps)``."""

    def __init__(self) -> None:
        self.batches: list = []
        self.side: dict[str, list] = defaultdict(list)

    def collect(self, values, timestamps):
        self.batches.append((values, timestamps))

    def collect_side(self, tag_id, values, timestamps):
        self.side[tag_id].append((values, timestamps))


def opened(operator):
    output = operator.output = CollectingOutput()
    operator.open(OperatorContext(
        runtime_context=RuntimeContext("Process", 0, 1, 128),
        subtask_index=0, parallelism=1, max_parallelism=128, batch_size=64,
        config=ExecutionConfig(), processing_time=ProcessingTimeService(lambda: 0.0),
        open_client_channel=None,
    ))
    return output


class Shapes(KeyedProcessFunction):
    """Returns each shape a process function may: chosen by the record's second field."""

    def open(self, runtime_context):
        self.buffer = []

    def process_element(self, value, ctx):
        key, shape = value
        if shape == "none":
            return None
        if shape == "tuple":
            return ((key, "t"),)
        if shape == "list":  # one list object, reused: it must be read at once
            self.buffer.clear()
            self.buffer.extend([(key, "l1"), (key, "l2")])
            return self.buffer
        if shape == "generator":
            return ((key, f"g{i}", ctx.timestamp()) for i in range(2))
        if shape == "side":
            ctx.output(SIDE, (key, "ctx"))
            return [(SIDE, (key, "yielded")), (key, "main")]
        raise AssertionError(shape)


def test_every_return_shape_untimed():
    operator = KeyedProcessOperator(lambda v: v[0], Shapes())
    output = opened(operator)
    operator.process_runs([
        ([("a", "none"), ("a", "tuple"), ("b", "list")], None, 0),
        ([("b", "generator"), ("c", "list"), ("c", "side")], None, 0),
    ])

    assert output.batches == [(
        [("a", "t"), ("b", "l1"), ("b", "l2"), ("b", "g0", None), ("b", "g1", None),
         ("c", "l1"), ("c", "l2"), ("c", "main")],
        None,
    )]
    assert output.side == {SIDE.tag_id: [([("c", "ctx"), ("c", "yielded")], None)]}


def test_outputs_carry_their_records_timestamps():
    operator = KeyedProcessOperator(lambda v: v[0], Shapes())
    output = opened(operator)
    operator.process_runs([
        ([("a", "tuple"), ("a", "generator")], [10, 11], 0),
        ([("b", "side"), ("c", "list")], [12, 13], 0),
    ])

    assert output.batches == [(
        [("a", "t"), ("a", "g0", 11), ("a", "g1", 11), ("b", "main"), ("c", "l1"), ("c", "l2")],
        [10, 11, 11, 12, 13, 13],
    )]
    assert output.side == {SIDE.tag_id: [([("b", "ctx"), ("b", "yielded")], [12, 12])]}


class Join(KeyedCoProcessFunction):
    """Input 0 sets the key's value, input 1 reads it; both report the current key."""

    def open(self, runtime_context):
        self.value = runtime_context.get_state(ValueStateDescriptor("value"))

    def process_element1(self, record, ctx):
        self.value.update(record[1])

    def process_element2(self, record, ctx):
        key = ctx.get_current_key()
        return ((key, type(key).__name__, self.value.value(), record[1]),)


def test_a_co_process_switches_the_key_at_each_change_even_between_equal_keys():
    """1 and True are equal but distinct keys to the user: each run's first record sets
    its own key, as a set_current_key per record would."""
    operator = KeyedCoProcessOperator(lambda v: v[0], lambda v: v[0], Join())
    output = opened(operator)
    operator.process_runs([
        ([(1, "one")], None, 0),
        ([(1, "x"), (True, "y"), (True, "z")], None, 1),
        ([("k", "kay")], None, 0),
        ([("k", "w"), ("missing", "v")], None, 1),
    ])

    assert output.batches == [(
        [(1, "int", "one", "x"), (True, "bool", "one", "y"), (True, "bool", "one", "z"),
         ("k", "str", "kay", "w"), ("missing", "str", None, "v")],
        None,
    )]


class Count(KeyedProcessFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, record, ctx):
        self.count.update((self.count.value() or 0) + 1)
        return ((record[0], self.count.value()),)


def test_a_finished_keys_state_is_dropped_and_equal_keys_share_theirs():
    """BATCH, grouped input: a key that ended never comes back, so its state goes
    (memory holds the current key's only); 1 and True are one key to the state."""
    operator = KeyedProcessOperator(lambda v: v[0], Count())
    output = opened(operator)
    operator.process_runs([([("a", 0), ("a", 1), (1, 2), (True, 3)], None, 0)])
    operator.process_runs([([(True, 4), ("b", 5)], None, 0)])

    assert [r for values, _ in output.batches for r in values] == [
        ("a", 1), ("a", 2), (1, 1), (True, 2), (True, 3), ("b", 1)
    ]
    entries = {
        entry for groups in operator.backend.tables.values()
        for group in groups.values() for entry in group
    }
    assert entries == {("b", None)}
