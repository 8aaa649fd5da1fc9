"""Two-input operators on real TaskManager processes: ``connect`` with co-map,
co-flat-map and co-process functions, keyed connected streams, and broadcast state.

    input 0 --\\
               >-- Co-Map / Co-Flat Map / Co-Process / Co-Process-Broadcast (p=2) --> collect
    input 1 --/

The session cluster (2 TaskManagers x 2 slots) runs every job. The two inputs of a
connected operator race (no order between them, as in Flink), so every assertion
here holds whatever the interleaving: exact multisets, per-key co-location, and
properties of the broadcast state that every subtask must share.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream import (
    BroadcastConnectedStream,
    BroadcastProcessFunction,
    BroadcastStream,
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    ConnectedStreams,
    DataStream,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
    OutputTag,
    ProcessFunction,
    StreamExecutionEnvironment,
)
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.datastream.state import MapStateDescriptor, ValueStateDescriptor
from minicluster.errors import JobExecutionError
from minicluster.operators.broadcast import BroadcastState, ReadOnlyBroadcastState
from minicluster.state import subtask_for_key
from minicluster.testing import assert_equal_unordered

MAX_PARALLELISM = 128  # the default: key groups of every keyed operator below


@pytest.fixture
def stream_env(stream_env):
    """The plugin's environment with a default parallelism of 2 instead of the CPU
    count, so that every two-input operator runs as two subtasks on every machine."""
    return stream_env.set_parallelism(2)


def numbers(env, first, last, parallelism=2):
    return env.from_source(
        NumberSequenceSource(first, last), WatermarkStrategy.no_watermarks(), "numbers"
    ).set_parallelism(parallelism)


def predecessors(env, target_name):
    """``{predecessor name: (ship strategy, chained?)}`` of a named operator, from the
    execution plan."""
    nodes = json.loads(env.get_execution_plan())["nodes"]
    names = {node["id"]: node["type"] for node in nodes}
    (target,) = [node for node in nodes if node["type"] == target_name]
    return {
        names[p["id"]]: (p["ship_strategy"], p["chained"]) for p in target["predecessors"]
    }


# -- co-map, co-flat-map, co-process ------------------------------------------------


class Label(CoMapFunction):
    """``map1``: numbers, dropping 500 (a None result is dropped, as in PyFlink);
    ``map2``: strings."""

    def map1(self, value):
        return None if value == 500 else ("n", value)

    def map2(self, value):
        return ("s", value.upper())


def test_co_map_calls_map1_for_the_first_input_and_map2_for_the_second(stream_env):
    """numbers (p=2) + collection (p=1) -> Co-Map (p=2), neither input chained."""
    words = stream_env.from_collection(["a", "b", "c"])
    connected = numbers(stream_env, 0, 999).name("first").connect(words.map(str).name("second"))
    assert isinstance(connected, ConnectedStreams)

    out = connected.map(Label()).execute_and_collect()

    expected = [("n", v) for v in range(1000) if v != 500] + [("s", w) for w in "ABC"]
    assert_equal_unordered(out, expected)


def test_co_map_inputs_reach_the_operator_over_the_network(stream_env):
    first = numbers(stream_env, 0, 9).map(lambda v: v).name("first")
    second = numbers(stream_env, 0, 9).map(lambda v: v).name("second")
    first.connect(second).map(Label()).print()

    assert predecessors(stream_env, "Co-Map") == {
        "first": ("FORWARD", False),
        "second": ("FORWARD", False),
    }


class Explode(CoFlatMapFunction):
    def flat_map1(self, value):
        if value % 2:
            return None  # counts as no record, as in PyFlink
        yield value
        yield -value

    def flat_map2(self, value):
        return list(value)


def test_co_flat_map_emits_any_number_of_records_per_input_record(stream_env):
    words = stream_env.from_collection(["ab", "", "cde"])
    out = numbers(stream_env, 1, 100).connect(words).flat_map(Explode()).execute_and_collect()

    expected = [v for e in range(2, 101, 2) for v in (e, -e)] + list("abcde")
    assert_equal_unordered(out, expected)


class TimestampsAndTime(CoProcessFunction):
    """Yields ``(input, value, ctx.timestamp())``; checks what the context offers."""

    def process_element1(self, value, ctx):
        assert ctx.timer_service().current_processing_time() > 0
        yield (1, value, ctx.timestamp())

    def process_element2(self, value, ctx):
        try:
            ctx.timer_service().register_event_time_timer(0)
        except TypeError as error:
            yield ("no timers", str(error))
        yield (2, value, ctx.timestamp())


def test_co_process_sees_each_records_timestamp_from_either_input(stream_env):
    """Both inputs carry event time; CoProcessFunction without key_by cannot set timers."""
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, record_timestamp: value * 10
    )
    first = numbers(stream_env, 0, 99).assign_timestamps_and_watermarks(strategy)
    second = stream_env.from_collection([5, 6]).assign_timestamps_and_watermarks(strategy)

    out = list(first.connect(second).process(TimestampsAndTime()).execute_and_collect())

    errors = [record for record in out if record[0] == "no timers"]
    assert len(errors) == 2
    assert "register_event_time_timer(): timers can only be set on keyed streams" in errors[0][1]
    expected = [(1, v, v * 10) for v in range(100)] + [(2, 5, 50), (2, 6, 60)]
    assert_equal_unordered([r for r in out if r[0] != "no timers"], expected)


def test_co_process_of_records_without_event_time_sees_no_timestamp(stream_env):
    out = (
        numbers(stream_env, 0, 9)
        .connect(stream_env.from_collection([7]))
        .process(TimestampsAndTime())
        .execute_and_collect()
    )

    values = [r for r in out if r[0] != "no timers"]
    assert_equal_unordered(values, [(1, v, None) for v in range(10)] + [(2, 7, None)])


# -- key_by: equal keys of both inputs meet in one subtask ---------------------------


class CountPerKey(CoProcessFunction):
    """Counts records per key across both inputs in a dict on the function object:
    legal only because key_by sends a key's records of both inputs to one subtask."""

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.counts = Counter()

    def _count(self, key):
        self.counts[key] += 1
        return (key, self.subtask, self.counts[key])

    def process_element1(self, value, ctx):
        yield self._count(value % 30)

    def process_element2(self, value, ctx):
        yield self._count(value[0])


def test_key_by_sends_equal_keys_of_both_inputs_to_one_subtask(stream_env):
    """600 numbers (20 per key) and 300 pairs (10 per key) over keys 0..29: each key
    is counted on exactly one subtask, the one owning its key group, up to 30."""
    first = numbers(stream_env, 0, 599)
    second = numbers(stream_env, 0, 299).map(lambda v: (v % 30, "pair"))
    connected = first.connect(second).key_by(lambda v: v % 30, lambda pair: pair[0])

    out = list(connected.process(CountPerKey()).execute_and_collect())

    assert len(out) == 900
    subtasks, highest = defaultdict(set), Counter()
    for key, subtask, count in out:
        subtasks[key].add(subtask)
        highest[key] = max(highest[key], count)
    assert {key: s for key, s in subtasks.items()} == {
        key: {subtask_for_key(key, 2, MAX_PARALLELISM)} for key in range(30)
    }
    assert highest == {key: 30 for key in range(30)}
    assert {s for key, (s,) in subtasks.items()} == {0, 1}  # both subtasks have keys


def test_key_by_hash_partitions_both_inputs(stream_env):
    first = numbers(stream_env, 0, 9).map(lambda v: v).name("first")
    second = numbers(stream_env, 0, 9).map(lambda v: v).name("second")
    first.connect(second).key_by(lambda v: v, lambda v: v).process(CountPerKey()).print()

    assert predecessors(stream_env, "Keyed Co-Process") == {
        "first": ("HASH", False),
        "second": ("HASH", False),
    }


def test_key_by_of_keyed_streams_rekeys_their_origins(stream_env):
    """``ConnectedStreams.key_by`` on already keyed streams keys their inputs anew."""
    first = numbers(stream_env, 0, 99).key_by(lambda v: 0)
    second = numbers(stream_env, 0, 29).map(lambda v: (v, "pair")).key_by(lambda p: 0)
    connected = first.connect(second).key_by(lambda v: v % 30, lambda pair: pair[0])

    out = list(connected.process(CountPerKey()).execute_and_collect())

    assert {(key, subtask) for key, subtask, _ in out} == {
        (key, subtask_for_key(key, 2, MAX_PARALLELISM)) for key in range(30)
    }


class CountInKeyedState(KeyedCoProcessFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def _count(self, ctx):
        count = (self.count.value() or 0) + 1
        self.count.update(count)
        return (ctx.get_current_key(), count)

    def process_element1(self, value, ctx):
        yield self._count(ctx)

    def process_element2(self, value, ctx):
        yield self._count(ctx)


def test_keyed_co_process_function_keeps_keyed_state_across_both_inputs(stream_env):
    first = numbers(stream_env, 0, 599)
    second = numbers(stream_env, 0, 299).map(lambda v: (v % 30, "pair"))
    connected = first.connect(second).key_by(lambda v: v % 30, lambda pair: pair[0])

    out = list(connected.process(CountInKeyedState()).execute_and_collect())

    assert_equal_unordered(out, [(key, n) for key in range(30) for n in range(1, 31)])


class CountWithCoMap(CoMapFunction):
    """Keyed state in a co-map on keyed streams (PyFlink runs it as a keyed co-process)."""

    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def _next(self):
        count = (self.count.value() or 0) + 1
        self.count.update(count)
        return count

    def map1(self, value):
        return ("first", value % 5, self._next())

    def map2(self, value):
        return ("second", value % 5, self._next())


def test_co_map_on_keyed_streams_can_use_keyed_state(stream_env):
    connected = numbers(stream_env, 0, 49).connect(numbers(stream_env, 0, 49))
    out = connected.key_by(lambda v: v % 5, lambda v: v % 5).map(CountWithCoMap())

    counts = defaultdict(list)
    for _, key, count in out.execute_and_collect():
        counts[key].append(count)
    assert {key: sorted(c) for key, c in counts.items()} == {
        key: list(range(1, 21)) for key in range(5)
    }


# -- side outputs ----------------------------------------------------------------------

ODD = OutputTag("odd")
WORDS = OutputTag("words")


class SplitBoth(CoProcessFunction):
    """Input 1: odd numbers to a side output through ``ctx.output``; input 2: every
    word to a side output through ``yield tag, value``."""

    def process_element1(self, value, ctx):
        if value % 2:
            ctx.output(ODD, value)
        else:
            yield value

    def process_element2(self, value, ctx):
        yield WORDS, value
        yield len(value)


@pytest.mark.skipif(
    not hasattr(DataStream, "get_side_output"), reason="DataStream.get_side_output() not built yet"
)
def test_co_process_sends_records_to_side_outputs_from_either_input(stream_env):
    processed = (
        numbers(stream_env, 0, 99)
        .connect(stream_env.from_collection(["ab", "cde"]))
        .process(SplitBoth())
    )
    main = processed.map(lambda v: ("main", v))
    odd = processed.get_side_output(ODD).map(lambda v: ("odd", v))
    words = processed.get_side_output(WORDS).map(lambda v: ("words", v))

    out = main.union(odd, words).execute_and_collect()

    expected = (
        [("main", v) for v in range(0, 100, 2)]
        + [("main", 2), ("main", 3)]
        + [("odd", v) for v in range(1, 100, 2)]
        + [("words", "ab"), ("words", "cde")]
    )
    assert_equal_unordered(out, expected)


# -- broadcast state -----------------------------------------------------------------

RULES = MapStateDescriptor("rules", None, None)
RULE_LIST = [("div2", 2), ("div3", 3), ("div5", 5)]
RULE_NAMES = [name for name, _ in RULE_LIST]


class ApplyRules(BroadcastProcessFunction):
    """Rules (name, divisor) arrive on the broadcast side and are stored in broadcast
    state; each item is matched against the rules its subtask holds at that moment.

    Emits ``("rule", subtask, name, rules held after it)`` per rule and subtask, and
    ``("item", subtask, value, rules held, matching rules)`` per item.
    """

    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()

    def process_broadcast_element(self, rule, ctx):
        name, divisor = rule
        state = ctx.get_broadcast_state(RULES)
        state.put(name, divisor)
        yield ("rule", self.subtask, name, tuple(state.keys()))

    def process_element(self, value, ctx):
        state = ctx.get_broadcast_state(RULES)
        held = tuple(state.keys())
        matching = tuple(name for name, divisor in state.items() if value % divisor == 0)
        yield ("item", self.subtask, value, held, matching)


def rule_job(env, function, items):
    rules = env.from_collection(RULE_LIST).broadcast(RULES)
    assert isinstance(rules, BroadcastStream)
    connected = items.connect(rules)
    assert isinstance(connected, BroadcastConnectedStream)
    return connected.process(function)


def test_every_subtask_receives_every_rule_in_order(stream_env):
    """Each of the two subtasks stores the three rules, in the order they were sent,
    whatever the items do meanwhile."""
    job = rule_job(stream_env, ApplyRules(), numbers(stream_env, 1, 300))
    out = list(job.execute_and_collect())

    rules = [record for record in out if record[0] == "rule"]
    expected = [
        ("rule", subtask, name, tuple(RULE_NAMES[: i + 1]))
        for subtask in (0, 1)
        for i, name in enumerate(RULE_NAMES)
    ]
    assert_equal_unordered(rules, expected)


def test_items_are_matched_against_the_rules_present_when_they_arrive(stream_env):
    """Rules and items race, so an item may see none, some or all rules; but what it
    sees is always a prefix of the rules in sending order, and its matches are
    exactly the held rules that divide it."""
    job = rule_job(stream_env, ApplyRules(), numbers(stream_env, 1, 300))
    out = list(job.execute_and_collect())

    items = [record for record in out if record[0] == "item"]
    assert sorted(record[2] for record in items) == list(range(1, 301))
    divisors = dict(RULE_LIST)
    for _, subtask, value, held, matching in items:
        assert subtask in (0, 1)
        assert list(held) == RULE_NAMES[: len(held)], held
        assert matching == tuple(n for n in held if value % divisors[n] == 0)


def test_broadcast_edge_reaches_every_subtask(stream_env):
    items = numbers(stream_env, 1, 10).map(lambda v: v).name("items")
    rules = stream_env.from_collection(RULE_LIST).map(tuple).name("rules").broadcast(RULES)
    items.connect(rules).process(ApplyRules()).print()

    assert predecessors(stream_env, "Co-Process-Broadcast") == {
        "items": ("FORWARD", False),
        "rules": ("BROADCAST", False),
    }


class TryToWrite(BroadcastProcessFunction):
    """Tries to write broadcast state from the non-broadcast side, and to read a state
    that was never registered; yields the error messages."""

    def process_broadcast_element(self, rule, ctx):
        ctx.get_broadcast_state(RULES).put(*rule)
        return None

    def process_element(self, value, ctx):
        state = ctx.get_broadcast_state(RULES)
        writes = {
            "put": lambda: state.put("x", 1),
            "put_all": lambda: state.put_all({"x": 1}),
            "remove": lambda: state.remove("div2"),
            "clear": lambda: state.clear(),
        }
        for method, write in writes.items():
            try:
                write()
            except TypeError as error:
                yield (method, str(error))
        try:
            ctx.get_broadcast_state(MapStateDescriptor("typo", None, None))
        except ValueError as error:
            yield ("unknown", str(error))


def test_broadcast_state_is_read_only_on_the_non_broadcast_side(stream_env):
    out = list(rule_job(stream_env, TryToWrite(), numbers(stream_env, 1, 4)).execute_and_collect())

    by_method = defaultdict(set)
    for method, message in out:
        by_method[method].add(message)
    assert sorted(by_method) == ["clear", "put", "put_all", "remove", "unknown"]
    assert {len(messages) for messages in by_method.values()} == {1}
    for method in ("put", "put_all", "remove", "clear"):
        (message,) = by_method[method]
        assert message.startswith(
            f"ReadOnlyBroadcastState.{method}(): broadcast state 'rules' is read-only in "
            "process_element()"
        )
        assert "update it in process_broadcast_element()" in message
    (unknown,) = by_method["unknown"]
    assert unknown.startswith(
        "broadcast state 'typo' does not exist in operator 'Co-Process-Broadcast'"
    )
    assert "['rules']" in unknown


class WriteFromItems(BroadcastProcessFunction):
    def process_broadcast_element(self, rule, ctx):
        return None

    def process_element(self, value, ctx):
        ctx.get_broadcast_state(RULES).remove(value)


def test_writing_read_only_broadcast_state_fails_the_job_naming_the_method(stream_env):
    job = rule_job(stream_env, WriteFromItems(), numbers(stream_env, 1, 4))

    with pytest.raises(JobExecutionError, match=r"ReadOnlyBroadcastState\.remove\(\)") as info:
        list(job.execute_and_collect())
    assert info.value.operator_name == "Co-Process-Broadcast"


class KeyedRules(KeyedBroadcastProcessFunction):
    def open(self, runtime_context):
        self.subtask = runtime_context.get_index_of_this_subtask()

    def process_broadcast_element(self, rule, ctx):
        ctx.get_broadcast_state(RULES).put(*rule)
        yield ("rule", self.subtask, rule[0])

    def process_element(self, value, ctx):
        assert ctx.timer_service().current_processing_time() > 0
        held = tuple(ctx.get_broadcast_state(RULES).keys())
        yield ("item", self.subtask, value, ctx.get_current_key(), held)


def test_keyed_broadcast_process_function_sees_the_key_of_each_record(stream_env):
    items = numbers(stream_env, 0, 199).key_by(lambda v: v % 7)
    out = list(rule_job(stream_env, KeyedRules(), items).execute_and_collect())

    rules = [record for record in out if record[0] == "rule"]
    assert_equal_unordered(rules, [("rule", s, name) for s in (0, 1) for name in RULE_NAMES])
    items_out = [record for record in out if record[0] == "item"]
    assert sorted(record[2] for record in items_out) == list(range(200))
    for _, subtask, value, key, held in items_out:
        assert key == value % 7
        assert subtask == subtask_for_key(key, 2, MAX_PARALLELISM)
        assert list(held) == RULE_NAMES[: len(held)]


# -- the API refuses what cannot work, before any process starts ----------------------


class Plain(ProcessFunction):
    def process_element(self, value, ctx):
        yield value


class CoPlain(CoProcessFunction):
    def process_element1(self, value, ctx):
        yield value

    def process_element2(self, value, ctx):
        yield value


class KeyedPlain(KeyedBroadcastProcessFunction):
    def process_element(self, value, ctx):
        yield value

    def process_broadcast_element(self, value, ctx):
        yield value


class NonKeyedPlain(BroadcastProcessFunction):
    def process_element(self, value, ctx):
        yield value

    def process_broadcast_element(self, value, ctx):
        yield value


@pytest.fixture
def env():
    return StreamExecutionEnvironment.get_execution_environment().set_parallelism(2)


def test_connect_takes_a_stream(env):
    with pytest.raises(
        TypeError, match=r"connect\(\) takes a DataStream or a BroadcastStream, got int"
    ):
        env.from_collection([1]).connect(42)


@pytest.mark.parametrize(
    "method, function, expected",
    [
        (
            "map",
            lambda v: v,
            r"ConnectedStreams\.map\(\) takes a CoMapFunction \(with map1 and map2\(\)\)",
        ),
        ("flat_map", Label(), r"ConnectedStreams\.flat_map\(\) takes a CoFlatMapFunction"),
        (
            "process",
            Plain(),
            r"ConnectedStreams\.process\(\) takes a CoProcessFunction or a KeyedCoProcessFunction",
        ),
    ],
)
def test_connected_streams_take_their_function_classes(env, method, function, expected):
    connected = env.from_collection([1]).connect(env.from_collection([2]))
    with pytest.raises(TypeError, match=expected):
        getattr(connected, method)(function)


def test_keyed_co_process_function_needs_keyed_streams(env):
    connected = env.from_collection([1]).connect(env.from_collection([2]))
    with pytest.raises(TypeError, match=r"a KeyedCoProcessFunction needs keyed streams: .*key_by"):
        connected.process(CountInKeyedState())


def test_co_process_function_on_keyed_streams_runs_keyed(env):
    connected = env.from_collection([1]).connect(env.from_collection([2]))
    stream = connected.key_by(lambda v: v, lambda v: v).process(CoPlain())
    assert stream.get_name() == "Keyed Co-Process"


def test_broadcast_takes_map_state_descriptors(env):
    with pytest.raises(
        TypeError, match=r"broadcast\(\) takes MapStateDescriptors .*got ValueStateDescriptor"
    ):
        env.from_collection([1]).broadcast(ValueStateDescriptor("v"))
    assert type(env.from_collection([1]).broadcast()) is DataStream  # plain BROADCAST


def test_broadcast_functions_match_keyed_and_non_keyed_streams(env):
    rules = env.from_collection([1]).broadcast(RULES)
    with pytest.raises(
        TypeError, match="BroadcastProcessFunction should be applied to a non-keyed DataStream"
    ):
        env.from_collection([1]).key_by(lambda v: v).connect(rules).process(NonKeyedPlain())
    with pytest.raises(
        TypeError, match="KeyedBroadcastProcessFunction should be applied to a KeyedStream"
    ):
        env.from_collection([1]).connect(rules).process(KeyedPlain())


def test_streams_of_different_environments_cannot_be_connected(env):
    other = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(ValueError, match="different environments"):
        env.from_collection([1]).connect(other.from_collection([2]))


# -- broadcast state objects (no processes) -----------------------------------------


def test_broadcast_state_reads_and_writes_like_a_map():
    state = BroadcastState("rules")
    assert state.is_empty() and state.get("a") is None

    state.put("a", 1)
    state["b"] = 2
    state.put_all({"c": 3, "d": 4})
    state.remove("d")
    state.remove("missing")  # no error, as in Flink
    del state["missing"]

    assert list(state.items()) == [("a", 1), ("b", 2), ("c", 3)]
    assert list(state.keys()) == ["a", "b", "c"] == list(state)
    assert list(state.values()) == [1, 2, 3]
    assert state.contains("a") and "b" in state and state["c"] == 3
    for key in state:  # removing while iterating is fine on the broadcast side
        state.remove(key)
    assert state.is_empty()


def test_read_only_view_follows_the_state_and_refuses_writes():
    state = BroadcastState("rules")
    view = state.read_only
    state.put("a", 1)

    assert isinstance(view, ReadOnlyBroadcastState) and not isinstance(view, BroadcastState)
    assert view.get("a") == 1 and view["a"] == 1 and "a" in view and view.contains("a")
    assert list(view.items()) == [("a", 1)] and list(view.keys()) == ["a"] == list(view)
    assert list(view.values()) == [1] and not view.is_empty()
    for method, call in [
        ("put", lambda: view.put("b", 2)),
        ("put_all", lambda: view.put_all({"b": 2})),
        ("remove", lambda: view.remove("a")),
        ("clear", lambda: view.clear()),
        ("__setitem__", lambda: view.__setitem__("b", 2)),
        ("__delitem__", lambda: view.__delitem__("a")),
    ]:
        expected = rf"^ReadOnlyBroadcastState\.{method}\(\): broadcast state 'rules' is read-only"
        with pytest.raises(TypeError, match=expected):
            call()
    assert list(state.items()) == [("a", 1)]


def test_a_stream_connected_with_itself_feeds_both_inputs(stream_env):
    """One producer, two edges to the same operator (input 0 and input 1)."""
    both = numbers(stream_env, 0, 99)

    out = both.connect(both.map(str)).map(Label()).execute_and_collect()

    expected = [("n", v) for v in range(100)] + [("s", str(v)) for v in range(100)]
    assert_equal_unordered(out, expected)


def test_a_stream_connected_with_its_own_broadcast_feeds_both_inputs(stream_env):
    """The same source is the item stream and the rule stream: each subtask stores
    every value in broadcast state, and each value is seen once as an item."""
    values = numbers(stream_env, 0, 99)

    class StoreAll(BroadcastProcessFunction):
        def open(self, runtime_context):
            self.subtask = runtime_context.get_index_of_this_subtask()

        def process_broadcast_element(self, value, ctx):
            state = ctx.get_broadcast_state(RULES)
            state.put(value, True)
            yield ("stored", self.subtask, len(state.keys()))

        def process_element(self, value, ctx):
            yield ("item", value)

    out = list(values.connect(values.broadcast(RULES)).process(StoreAll()).execute_and_collect())

    assert sorted(v for kind, v in (r[:2] for r in out) if kind == "item") == list(range(100))
    stored = Counter(r[1] for r in out if r[0] == "stored")
    highest = {s: max(r[2] for r in out if r[:2] == ("stored", s)) for s in stored}
    assert stored == {0: 100, 1: 100} and highest == {0: 100, 1: 100}
