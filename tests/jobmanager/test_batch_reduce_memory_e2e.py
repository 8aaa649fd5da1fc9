"""BATCH keyed reduce over key-grouped input: it holds one key's accumulator at a time
(a key's final value leaves when its group ends), so a job whose distinct keys exceed
the grouping's memory budget (spilled sorted runs) and the combiner's still finishes
with exact results."""

from __future__ import annotations

import collections

import pytest

from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.operators.aggregations import FieldAggregation
from minicluster.operators.keyed import KeyedReduceOperator
from minicluster.testing import assert_equal_unordered

# about 1500 distinct words, most of them several times, interleaved
LINES = [" ".join(f"w{(i * 31 + j * 977) % 1500}" for j in range(i % 7 + 1)) for i in range(900)]
WORDS = [w for line in LINES for w in line.split()]
MARK = "__max_open_keys__"


class RecordingReduce(KeyedReduceOperator):
    """Test-only: also emits ``(MARK, most keys held at once, subtask)`` at the end."""

    def open(self, ctx):
        super().open(ctx)
        self._subtask = ctx.subtask_index

    def end_input(self):
        super().end_input()
        self.output.collect([(MARK, self.max_open_keys, self._subtask)], None)


def batch_env(parallelism: int, **config: str) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(
        {
            "minicluster.batch-size": "64",
            "minicluster.batch.sort.memory-records": "40",  # many spilled runs
            "minicluster.batch.combiner.max-entries": "7",
            **config,
        }
    )
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    return env


def run(env, reduce_function) -> tuple[list, list]:
    keyed = (
        env.from_collection(LINES)
        .flat_map(lambda line: line.split())
        .map(lambda word: (word, 1))
        .key_by(lambda pair: pair[0])
    )
    stream = keyed._apply("Keyed Aggregation", RecordingReduce(keyed._key_selector, reduce_function))
    result = list(stream.execute_and_collect())
    marks = [r for r in result if r[0] == MARK]
    return [r for r in result if r[0] != MARK], marks


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize("how", ["sum", "reduce"])
def test_many_keys_past_every_budget_give_exact_counts_one_key_at_a_time(
    minicluster_cluster, parallelism, how
):
    function = FieldAggregation("sum", 1) if how == "sum" else (lambda a, b: (a[0], a[1] + b[1]))
    result, marks = run(batch_env(parallelism), function)

    assert len(result) == len(set(WORDS)) > 1400, "one final record per word"
    assert collections.Counter(dict(result)) == collections.Counter(WORDS)
    assert sorted(m[2] for m in marks) == list(range(parallelism))
    assert [m[1] for m in marks] == [1] * parallelism, "one key's accumulator at a time"


@pytest.mark.parametrize("combiner", ["true", "false"])
def test_grouped_reduce_equals_the_ungrouped_one(minicluster_cluster, combiner):
    grouped, marks = run(batch_env(2, **{"minicluster.batch.combiner": combiner}),
                         FieldAggregation("max", 1))
    assert [m[1] for m in marks] == [1, 1]
    ungrouped, marks = run(
        batch_env(2, **{"minicluster.batch.combiner": combiner,
                        "minicluster.batch.sort-inputs": "false"}),
        FieldAggregation("max", 1),
    )
    assert max(m[1] for m in marks) > 1  # the dict of every key, as before
    assert_equal_unordered(grouped, ungrouped)
    assert_equal_unordered(grouped, [(w, 1) for w in set(WORDS)])


def test_streaming_reduce_still_emits_running_values(minicluster_cluster):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.STREAMING)
    env.set_parallelism(2)
    result = list(
        env.from_collection([("a", 1), ("b", 1), ("a", 1)])
        .key_by(lambda t: t[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
        .execute_and_collect()
    )
    assert_equal_unordered(result, [("a", 1), ("b", 1), ("a", 2)])
