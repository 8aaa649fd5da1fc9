"""Whole jobs on real TaskManager processes: chaining, parallelism, union, running
aggregates, collecting, printing, text files, process functions and the lifecycle of
user functions.

Every job runs on the session cluster (2 TaskManagers x 2 slots) unless it says
otherwise; expected results are computed in plain Python.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict

import pytest

from minicluster.common import Row, WatermarkStrategy
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.functions import (
    MapFunction,
    ProcessFunction,
    ReduceFunction,
    SinkFunction,
)
from minicluster.state import subtask_for_key
from minicluster.testing import assert_equal_unordered


@pytest.fixture
def stream_env(stream_env):
    """The plugin's environment with a default parallelism of 2 instead of the CPU
    count, so that chains and sink parallelism are the same on every machine."""
    return stream_env.set_parallelism(2)


def numbers(env, first, last, parallelism):
    return env.from_source(
        NumberSequenceSource(first, last), WatermarkStrategy.no_watermarks(), "numbers"
    ).set_parallelism(parallelism)


class WhereAmI(MapFunction):
    """``value -> (value, pid, subtask index, task name)``; a second instance down the
    chain receives that tuple and appends its own three."""

    def open(self, runtime_context):
        self.where = (
            os.getpid(),
            runtime_context.get_index_of_this_subtask(),
            runtime_context.get_task_name(),
        )

    def map(self, value):
        return (value if isinstance(value, tuple) else (value,)) + self.where


# -- chaining -----------------------------------------------------------------------


def test_chained_operators_run_in_the_same_subtask_and_process(stream_env, minicluster_cluster):
    out = list(
        numbers(stream_env, 0, 99, 2)
        .map(WhereAmI()).name("first")
        .map(WhereAmI()).name("second")
        .execute_and_collect()
    )

    assert sorted(row[0] for row in out) == list(range(100))
    pids = set()
    for value, pid_1, index_1, task_1, pid_2, index_2, task_2 in out:
        assert (pid_1, index_1, task_1) == (pid_2, index_2, task_2)
        assert task_1 == "Source: numbers -> first -> second -> Sink: Collect"
        assert index_1 == (0 if value < 50 else 1)
        pids.add((index_1, pid_1))
    # The two subtasks ran in the two TaskManager processes (one per slot, spread).
    assert {pid for _, pid in pids} == set(minicluster_cluster.taskmanager_pids)
    assert len(pids) == 2


def test_disable_chaining_splits_the_chain_and_keeps_results(stream_env):
    out = list(
        numbers(stream_env, 0, 99, 2)
        .map(WhereAmI()).name("first")
        .map(WhereAmI()).name("second").disable_chaining()
        .map(lambda row: row + (row[0] * 2,)).name("third")
        .execute_and_collect()
    )

    assert sorted((row[0], row[-1]) for row in out) == [(v, 2 * v) for v in range(100)]
    for value, _, index_1, task_1, _, index_2, task_2, _ in out:
        assert task_1 == "Source: numbers -> first"
        assert task_2 == "second"  # chains neither to its input nor to its output
        assert index_1 == index_2  # FORWARD across the boundary keeps the subtask


def test_start_new_chain_begins_a_new_task(stream_env):
    out = list(
        numbers(stream_env, 0, 9, 2)
        .map(WhereAmI()).name("first")
        .map(WhereAmI()).name("second").start_new_chain()
        .map(WhereAmI()).name("third")
        .execute_and_collect()
    )

    assert sorted(row[0] for row in out) == list(range(10))
    for row in out:
        assert row[3] == "Source: numbers -> first"
        assert row[6] == row[9] == "second -> third -> Sink: Collect"


# -- the same job at parallelism 1, 2 and 4 -----------------------------------------


def word_lines(count=300, seed=11):
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(60)] + ["the", "a", "to", "Zürich", "naïve"]
    return [" ".join(rng.choices(vocabulary, k=rng.randint(0, 12))) for _ in range(count)]


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_word_count_is_the_same_at_every_parallelism(stream_env, parallelism):
    lines = word_lines()
    expected = Counter(word for line in lines for word in line.split())
    stream_env.set_parallelism(parallelism)
    stream_env.configure({"minicluster.batch-size": "64"})  # many batches per subtask

    out = list(
        stream_env.from_collection(lines)
        .flat_map(lambda line: [(word, 1) for word in line.split()])
        .key_by(lambda pair: pair[0])
        .sum(1)
        .execute_and_collect()
    )

    # Each record of a key adds 1, so whatever order the key's records arrive in, its
    # running sums are exactly 1, 2, ..., n, in that order, and the last is the count.
    per_key = defaultdict(list)
    for word, running in out:
        per_key[word].append(running)
    assert per_key == {word: list(range(1, n + 1)) for word, n in expected.items()}


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_running_max_by_ends_with_the_same_final_value_at_every_parallelism(
    stream_env, parallelism
):
    rng = random.Random(5)
    # Distinct values: with several producers per key, ties would resolve by arrival.
    values = rng.sample(range(100_000), 2000)
    records = [(f"k{rng.randrange(13)}", value, i) for i, value in enumerate(values)]
    stream_env.set_parallelism(parallelism)

    out = list(
        numbers(stream_env, 0, len(records) - 1, parallelism)
        .map(lambda i: records[i])
        .key_by(lambda record: record[0])
        .max_by(1)
        .execute_and_collect()
    )

    assert len(out) == len(records)
    last = {}
    for record in out:  # a key's results come from one subtask, in emission order
        last[record[0]] = record
    expected = {}
    for record in records:
        best = expected.get(record[0])
        if best is None or record[1] > best[1]:
            expected[record[0]] = record
    assert last == expected


# -- union --------------------------------------------------------------------------


def test_union_of_two_streams(stream_env):
    left = stream_env.from_collection([f"a{i}" for i in range(20)])
    right = stream_env.from_collection([f"b{i}" for i in range(30)])

    out = list(left.union(right).map(str.upper).set_parallelism(2).execute_and_collect())

    assert_equal_unordered(out, [f"A{i}" for i in range(20)] + [f"B{i}" for i in range(30)])


def test_union_of_three_streams_of_different_parallelism(stream_env):
    wide = numbers(stream_env, 0, 999, 2)
    narrow = numbers(stream_env, 1000, 1099, 1).map(lambda v: v).set_parallelism(1)
    collection = stream_env.from_collection(list(range(1100, 1150)))

    out = list(
        wide.union(narrow, collection)
        .key_by(lambda v: v % 7)
        .map(lambda v: v)
        .set_parallelism(3)
        .execute_and_collect()
    )

    assert sorted(out) == list(range(1150))


def test_union_of_a_stream_with_itself_gives_every_record_twice(stream_env):
    stream = numbers(stream_env, 0, 199, 2).map(lambda v: v * 10)

    out = list(stream.union(stream).map(lambda v: v + 1).execute_and_collect())

    assert Counter(out) == {v * 10 + 1: 2 for v in range(200)}


def test_union_then_running_sum_per_key(stream_env):
    evens = stream_env.from_collection([("k", 2), ("j", 4)] * 50)
    odds = numbers(stream_env, 0, 99, 2).map(lambda v: ("k" if v % 2 else "j", 1))

    out = list(evens.union(odds).key_by(lambda p: p[0]).sum(1).set_parallelism(2)
               .execute_and_collect())

    final = {}
    for key, total in out:
        final[key] = max(final.get(key, 0), total)
    assert final == {"k": 50 * 2 + 50, "j": 50 * 4 + 50}
    assert len(out) == 200


# -- running aggregates -------------------------------------------------------------

# Two keys on different subtasks at parallelism 2 ("a" -> 1, "c" -> 0), interleaved.
RECORDS = [
    ("a", 3, "x1"), ("c", 2, "y1"), ("a", 1, "x2"), ("c", 2, "y2"), ("a", 4, "x3"),
    ("c", 7, "y3"), ("a", 1, "x4"), ("c", 0, "y4"), ("a", 5, "x5"),
]
EXPECTED = {
    "sum": {
        "a": [("a", 3, "x1"), ("a", 4, "x1"), ("a", 8, "x1"), ("a", 9, "x1"), ("a", 14, "x1")],
        "c": [("c", 2, "y1"), ("c", 4, "y1"), ("c", 11, "y1"), ("c", 11, "y1")],
    },
    "min": {
        "a": [("a", 3, "x1"), ("a", 1, "x1"), ("a", 1, "x1"), ("a", 1, "x1"), ("a", 1, "x1")],
        "c": [("c", 2, "y1"), ("c", 2, "y1"), ("c", 2, "y1"), ("c", 0, "y1")],
    },
    "max": {
        "a": [("a", 3, "x1"), ("a", 3, "x1"), ("a", 4, "x1"), ("a", 4, "x1"), ("a", 5, "x1")],
        "c": [("c", 2, "y1"), ("c", 2, "y1"), ("c", 7, "y1"), ("c", 7, "y1")],
    },
    "min_by": {  # ties keep the first record with the minimum
        "a": [("a", 3, "x1"), ("a", 1, "x2"), ("a", 1, "x2"), ("a", 1, "x2"), ("a", 1, "x2")],
        "c": [("c", 2, "y1"), ("c", 2, "y1"), ("c", 2, "y1"), ("c", 0, "y4")],
    },
    "max_by": {  # ties keep the first record with the maximum
        "a": [("a", 3, "x1"), ("a", 3, "x1"), ("a", 4, "x3"), ("a", 4, "x3"), ("a", 5, "x5")],
        "c": [("c", 2, "y1"), ("c", 2, "y1"), ("c", 7, "y3"), ("c", 7, "y3")],
    },
    "reduce": {  # add the values, concatenate the tags
        "a": [("a", 3, "x1"), ("a", 4, "x1x2"), ("a", 8, "x1x2x3"), ("a", 9, "x1x2x3x4"),
              ("a", 14, "x1x2x3x4x5")],
        "c": [("c", 2, "y1"), ("c", 4, "y1y2"), ("c", 11, "y1y2y3"), ("c", 11, "y1y2y3y4")],
    },
}
AGGREGATIONS = ["sum", "min", "max", "min_by", "max_by", "reduce"]


class AddAndConcatenate(ReduceFunction):
    def reduce(self, value1, value2):
        total, tags = value1[1] + value2[1], value1[2] + value2[2]
        if isinstance(value1, Row):
            return value1._replace_at(1, total)._replace_at(2, tags)
        return (value1[0], total, tags)


def aggregate(keyed, aggregation, field):
    if aggregation == "reduce":
        return keyed.reduce(AddAndConcatenate())
    return getattr(keyed, aggregation)(field)


def per_key(out):
    grouped = defaultdict(list)
    for record in out:
        grouped[record[0]].append(record)
    return grouped


def test_aggregation_keys_land_on_different_subtasks():
    assert subtask_for_key("a", 2, 128) != subtask_for_key("c", 2, 128)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_running_aggregate_on_tuples_by_position(stream_env, aggregation):
    keyed = stream_env.from_collection(RECORDS).key_by(lambda record: record[0])

    out = list(aggregate(keyed, aggregation, 1).set_parallelism(2).execute_and_collect())

    assert per_key(out) == EXPECTED[aggregation]
    assert all(type(record) is tuple for record in out)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_running_aggregate_on_rows_by_field_name(stream_env, aggregation):
    rows = [Row(word=k, count=v, tag=t) for k, v, t in RECORDS]
    keyed = stream_env.from_collection(rows).key_by(lambda row: row.word)

    out = list(aggregate(keyed, aggregation, "count").set_parallelism(2).execute_and_collect())

    assert per_key(out) == EXPECTED[aggregation]  # a Row equals its tuple of values
    for row in out:
        assert isinstance(row, Row)
        assert row.as_dict() == {"word": row[0], "count": row[1], "tag": row[2]}


def test_running_sum_of_plain_numbers(stream_env):
    source = stream_env.from_collection([1, 2, 3, 4, 5, 6, 7])
    keyed = source.key_by(lambda v: v % 2)

    sums = list(keyed.sum().set_parallelism(2).execute_and_collect())

    assert sorted(sums) == sorted([1, 4, 9, 16] + [2, 6, 12])


# -- execute_and_collect ------------------------------------------------------------


class CloseMarker(MapFunction):
    """Writes ``closed-<subtask>`` into a folder when the subtask closes."""

    def __init__(self, folder):
        self.folder = str(folder)

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        return value

    def close(self):
        with open(os.path.join(self.folder, f"closed-{self.subtask}"), "w"):
            pass


def test_execute_and_collect_returns_every_record(stream_env):
    out = list(numbers(stream_env, 0, 9_999, 2).map(lambda v: -v).execute_and_collect())

    assert sorted(out) == sorted(-v for v in range(10_000))


def test_collect_with_limit_cancels_the_job(stream_env, tmp_path):
    endless = numbers(stream_env, 0, 10**12, 2).map(CloseMarker(tmp_path))

    first = endless.execute_and_collect(limit=3)

    assert len(first) == 3 and len(set(first)) == 3
    assert all(0 <= v <= 10**12 for v in first)
    # Returning means the job was cancelled: both subtasks were closed.
    assert sorted(os.listdir(tmp_path)) == ["closed-0", "closed-1"]
    # ... and the cluster is free for the next job.
    again = list(numbers(stream_env, 0, 99, 2).map(lambda v: v + 1).execute_and_collect())
    assert sorted(again) == list(range(1, 101))


def test_closing_the_collect_iterator_early_cancels_the_job(stream_env, tmp_path):
    endless = numbers(stream_env, 0, 10**12, 2).map(CloseMarker(tmp_path))

    with endless.execute_and_collect() as results:
        head = [next(results) for _ in range(5)]

    assert len(set(head)) == 5
    assert sorted(os.listdir(tmp_path)) == ["closed-0", "closed-1"]
    assert sorted(stream_env.from_collection([1, 2]).execute_and_collect()) == [1, 2]


# -- print() ------------------------------------------------------------------------


def test_print_without_prefix_at_parallelism_1(stream_env, capsys):
    stream_env.set_parallelism(1)
    stream_env.from_collection([1, "two", (3, 4), Row(x=5)]).print()

    stream_env.execute("print p=1")

    assert capsys.readouterr().out == "1\ntwo\n(3, 4)\nRow(x=5)\n"


def test_print_prefixes_the_subtask_at_parallelism_2(stream_env, capsys):
    numbers(stream_env, 0, 9, 2).print()

    stream_env.execute("print p=2")

    lines = capsys.readouterr().out.splitlines()
    # Subtask i prints its own share, in order, prefixed with i + 1.
    assert [line for line in lines if line.startswith("1> ")] == [f"1> {v}" for v in range(5)]
    assert [line for line in lines if line.startswith("2> ")] == [f"2> {v}" for v in range(5, 10)]
    assert len(lines) == 10


def test_print_with_a_sink_identifier(stream_env, capsys):
    numbers(stream_env, 0, 3, 2).print("out")
    stream_env.from_collection(["x"]).print("solo").set_parallelism(1)

    stream_env.execute("print with identifiers")

    assert sorted(capsys.readouterr().out.splitlines()) == [
        "out:1> 0", "out:1> 1", "out:2> 2", "out:2> 3", "solo> x",
    ]


def test_print_flushed_in_a_user_function_reaches_the_client_before_the_batch_ends(
    stream_env, monkeypatch
):
    """``print(..., flush=True)`` inside a slow function shows up at once, not when
    the function's whole batch (here 300 records x 10 ms) is done."""
    arrivals = []

    class TimedStdout:
        def write(self, text):
            arrivals.append((time.monotonic(), text))
            return len(text)

        def flush(self):
            pass

    def slow(value):
        if value == 0:
            print("started", flush=True)
        time.sleep(0.01)
        return value

    monkeypatch.setattr("sys.stdout", TimedStdout())
    numbers(stream_env, 0, 299, 1).map(slow).set_parallelism(1).add_sink(lambda v: None)
    stream_env.execute("slow printer")
    finished = time.monotonic()

    (arrived,) = [t for t, text in arrivals if "started" in text]
    assert finished - arrived > 1.5, "the flushed line only arrived with the batch's end"


# -- read_text_file -----------------------------------------------------------------


def text_variants():
    rng = random.Random(3)
    alphabet = "abcdefghij ÄÖü€"
    straddling = "\n".join(
        "".join(rng.choices(alphabet, k=rng.choice([0, 1, 5, 17, 33, 64])))
        for _ in range(80)
    )  # no trailing newline; empty lines; multi-byte characters
    return {
        "straddling-no-trailing-newline": straddling.encode("utf-8"),
        "boundaries-at-line-starts": b"abcde\n" * 12,
        "crlf": b"one\r\ntwo\r\n\r\nfour\r\nfive",
        "single-line-no-newline": b"only one line, no newline",
    }


def expected_lines(data: bytes):
    """``[(start offset, line)]`` of every line (without its terminator)."""
    lines, offset = [], 0
    for raw in data.split(b"\n"):
        lines.append((offset, raw.decode("utf-8").rstrip("\r")))
        offset += len(raw) + 1
    if data.endswith(b"\n"):
        lines.pop()
    return lines


@pytest.mark.parametrize("parallelism", [1, 3, 4])
@pytest.mark.parametrize("variant", list(text_variants()))
def test_read_text_file_reads_every_line_once(stream_env, tmp_path, variant, parallelism):
    data = text_variants()[variant]
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    size = len(data)
    starts = [size * i // parallelism for i in range(parallelism)]
    if variant == "straddling-no-trailing-newline" and parallelism == 3:
        assert all(data[b - 1 : b] != b"\n" for b in starts[1:])  # the split cuts lines
    if variant == "boundaries-at-line-starts" and parallelism == 3:
        assert all(data[b - 1 : b] == b"\n" for b in starts[1:])
    stream_env.set_parallelism(parallelism)

    out = list(stream_env.read_text_file(str(path)).map(TagSubtask()).execute_and_collect())

    def owner(offset):  # a line belongs to the byte range in which it starts
        return max(i for i, start in enumerate(starts) if start <= offset)

    assert Counter(out) == Counter(
        (owner(offset), line) for offset, line in expected_lines(data)
    )


class TagSubtask(MapFunction):
    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value):
        return (self.subtask, value)


# -- ProcessFunction and RuntimeContext ---------------------------------------------


class Explode(ProcessFunction):
    """Yields ``value % 3`` outputs per record (none for multiples of 3)."""

    def process_element(self, value, ctx):
        assert ctx.timestamp() is None
        for i in range(value % 3):
            yield (value, i)


class ReturnList(ProcessFunction):
    def process_element(self, value, ctx):
        return [value, -value] if value % 2 else None


def test_process_function_yields_several_outputs(stream_env):
    out = list(numbers(stream_env, 0, 299, 2).process(Explode()).execute_and_collect())

    assert_equal_unordered(out, [(v, i) for v in range(300) for i in range(v % 3)])


def test_process_function_may_return_a_list_or_none(stream_env):
    out = list(numbers(stream_env, 0, 99, 2).process(ReturnList()).execute_and_collect())

    assert_equal_unordered(out, [x for v in range(1, 100, 2) for x in (v, -v)])


class Inspect(MapFunction):
    def open(self, runtime_context):
        self.info = (
            runtime_context.get_task_name(),
            runtime_context.get_task_name_with_subtasks(),
            runtime_context.get_index_of_this_subtask(),
            runtime_context.get_number_of_parallel_subtasks(),
            runtime_context.get_max_number_of_parallel_subtasks(),
            runtime_context.get_attempt_number(),
        )

    def map(self, value):
        return self.info


def test_runtime_context_describes_the_subtask(stream_env):
    stream_env.set_max_parallelism(64)

    out = set(
        numbers(stream_env, 0, 99, 2)
        .map(lambda v: v)
        .rebalance()
        .map(Inspect()).name("Inspect").set_parallelism(3)
        .execute_and_collect()  # the collect sink (p=2) is not chained to Inspect (p=3)
    )

    assert out == {("Inspect", f"Inspect ({i + 1}/3)", i, 3, 64, 0) for i in range(3)}


# -- open() and close() -------------------------------------------------------------


class Lifecycle:
    """Appends ``open``/``close`` events (name, subtask, pid) to a shared file."""

    def __init__(self, path, name):
        self.path, self.name = str(path), name

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        self._log("open")

    def close(self):
        self._log("close")

    def _log(self, event):
        with open(self.path, "a") as file:  # O_APPEND: one small write is atomic
            file.write(f"{event} {self.name} {self.subtask} {os.getpid()}\n")


class LifecycleMap(Lifecycle, MapFunction):
    def map(self, value):
        return value


class LifecycleReduce(Lifecycle, ReduceFunction):
    def reduce(self, value1, value2):
        return value1 + value2


class LifecycleSink(Lifecycle, SinkFunction):
    def invoke(self, value, context):
        pass


def test_open_and_close_run_once_per_subtask(stream_env, tmp_path):
    log = tmp_path / "events.log"
    (
        numbers(stream_env, 0, 999, 2)
        .map(LifecycleMap(log, "map"))
        .key_by(lambda v: v % 10)
        .reduce(LifecycleReduce(log, "reduce")).set_parallelism(3)
        .add_sink(LifecycleSink(log, "sink")).set_parallelism(1)
    )

    stream_env.execute("lifecycle")

    events = [line.split() for line in log.read_text().splitlines()]
    subtasks = {"map": 2, "reduce": 3, "sink": 1}
    assert Counter((event, name, int(i)) for event, name, i, _ in events) == Counter(
        (event, name, i) for name, n in subtasks.items() for i in range(n)
        for event in ("open", "close")
    )
    for name, n in subtasks.items():
        for i in range(n):
            mine = [(event, pid) for event, nm, idx, pid in events if (nm, int(idx)) == (name, i)]
            assert [event for event, _ in mine] == ["open", "close"]
            assert mine[0][1] == mine[1][1]  # opened and closed in the same process
