"""The heap keyed state backend, without processes.

    tables[state name][key group][(key, namespace)] -> stored value

Every state type is driven through ``set_current_key`` / ``set_current_namespace`` and
checked against hand-computed values. TTL runs on ``ManualClock``, so expiry is exact
to the millisecond: Flink's rule is that a unit written (or, with ``OnReadAndWrite``,
last read) at ``t`` is expired from ``t + ttl`` on.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from minicluster._functions.runtime_context import RuntimeContext
from minicluster._functions.simple import ReduceFunction
from minicluster._functions.window import AggregateFunction
from minicluster.common import Time
from minicluster.datastream.state import (
    AggregatingState,
    AggregatingStateDescriptor,
    ListState,
    ListStateDescriptor,
    MapState,
    MapStateDescriptor,
    ReducingState,
    ReducingStateDescriptor,
    StateTtlConfig,
    ValueState,
    ValueStateDescriptor,
)
from minicluster.state import KeyGroupRange, key_group_for, key_groups
from minicluster.state.heap_backend import HeapKeyedStateBackend

MAX_PARALLELISM = 128
TTL_MS = 100

ON_WRITE = StateTtlConfig.UpdateType.OnCreateAndWrite
ON_READ = StateTtlConfig.UpdateType.OnReadAndWrite
NEVER = StateTtlConfig.StateVisibility.NeverReturnExpired
RETURN_EXPIRED = StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp


class ManualClock:
    """Processing time that moves only when told to, in whole milliseconds.

    The backend reads ``int(clock() * 1000)``; the clock answers an exact ``Fraction``
    of seconds because a float would lose a millisecond (``int(1.001 * 1000) == 1000``).
    """

    def __init__(self, ms: int = 0) -> None:
        self.ms = ms

    def __call__(self) -> Fraction:
        return Fraction(self.ms, 1000)

    def at(self, ms: int) -> None:
        self.ms = ms


class Sum(ReduceFunction):
    def reduce(self, value1, value2):
        return value1 + value2


class Average(AggregateFunction):
    """Accumulator ``(sum, count)``; result the mean."""

    def create_accumulator(self):
        return (0, 0)

    def add(self, value, accumulator):
        return (accumulator[0] + value, accumulator[1] + 1)

    def get_result(self, accumulator):
        return accumulator[0] / accumulator[1]

    def merge(self, acc_a, acc_b):
        return (acc_a[0] + acc_b[0], acc_a[1] + acc_b[1])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000_000)


@pytest.fixture
def backend(clock) -> HeapKeyedStateBackend:
    return HeapKeyedStateBackend(MAX_PARALLELISM, KeyGroupRange(0, MAX_PARALLELISM - 1), clock)


def with_ttl(descriptor, update_type=ON_WRITE, visibility=NEVER, ttl_ms=TTL_MS):
    config = (
        StateTtlConfig.new_builder(Time.milliseconds(ttl_ms))
        .set_update_type(update_type)
        .set_state_visibility(visibility)
        .build()
    )
    descriptor.enable_time_to_live(config)
    return descriptor


def entries(backend, name):
    """Every ``(key group, key, namespace)`` holding an entry of state ``name``."""
    return sorted(
        (group, key, namespace)
        for group, table in backend.tables.get(name, {}).items()
        for key, namespace in table
    )


def two_keys_in_different_groups():
    groups = {}
    for key in ("a", "b", "c", "d", "e", "f"):
        groups.setdefault(key_group_for(key, MAX_PARALLELISM), key)
        if len(groups) == 2:
            return tuple(groups.values())
    raise AssertionError("six keys in one key group")


# -- value state ------------------------------------------------------------------------


def test_value_state_is_none_until_updated_and_after_clear(backend):
    state = backend.get_state(ValueStateDescriptor("v"))
    backend.set_current_key("a")

    assert isinstance(state, ValueState)
    assert state.value() is None
    state.update(5)
    assert state.value() == 5
    state.update(0)  # falsy values are values
    assert state.value() == 0
    state.clear()
    assert state.value() is None
    assert entries(backend, "v") == []


def test_value_state_update_none_clears_the_entry(backend):
    state = backend.get_state(ValueStateDescriptor("v"))
    backend.set_current_key("a")
    state.update("x")

    state.update(None)

    assert state.value() is None
    assert entries(backend, "v") == []


def test_value_state_is_kept_per_key_and_per_namespace(backend):
    state = backend.get_state(ValueStateDescriptor("v"))
    backend.set_current_key("a")
    state.update("a-global")
    state.set_current_namespace("w1")
    state.update("a-w1")
    backend.set_current_key("b")
    assert state.value() is None  # still namespace w1, other key
    state.update("b-w1")
    state.set_current_namespace(None)
    assert state.value() is None

    backend.set_current_key("a")
    assert state.value() == "a-global"
    state.set_current_namespace("w1")
    assert state.value() == "a-w1"
    state.clear()  # only (a, w1)
    backend.set_current_key("b")
    assert state.value() == "b-w1"
    backend.set_current_key("a")
    state.set_current_namespace(None)
    assert state.value() == "a-global"


def test_entries_live_under_the_key_group_of_their_key(backend):
    first, second = two_keys_in_different_groups()
    state = backend.get_state(ValueStateDescriptor("v"))
    for key in (first, second):
        backend.set_current_key(key)
        state.update(key.upper())
    state.set_current_namespace("w")
    backend.set_current_key(first)
    state.update("in w")

    g1, g2 = key_group_for(first, MAX_PARALLELISM), key_group_for(second, MAX_PARALLELISM)
    assert backend.tables["v"] == {
        g1: {(first, None): first.upper(), (first, "w"): "in w"},
        g2: {(second, None): second.upper()},
    }
    assert backend.current_group == g1
    assert backend.get_current_key() == first
    assert sorted(backend.keys("v")) == sorted([first, second])
    assert list(backend.keys("v", "w")) == [first]


def test_states_of_different_names_are_independent(backend):
    one = backend.get_state(ValueStateDescriptor("one"))
    two = backend.get_state(ValueStateDescriptor("two"))
    backend.set_current_key("a")
    one.update(1)

    assert two.value() is None
    assert backend.get_state(ValueStateDescriptor("one")) is one


@pytest.mark.parametrize(
    "first, second, message",
    [
        (ValueStateDescriptor("s"), ListStateDescriptor("s"),
         "state 's' is already registered as value state; it cannot also be list state"),
        (MapStateDescriptor("s"), ReducingStateDescriptor("s", Sum()),
         "state 's' is already registered as map state; it cannot also be reducing state"),
        (AggregatingStateDescriptor("s", Average()), ValueStateDescriptor("s"),
         "state 's' is already registered as aggregating state; it cannot also be value state"),
    ],
)
def test_one_name_cannot_be_registered_as_two_kinds(backend, first, second, message):
    backend.get_state(first)

    with pytest.raises(ValueError, match=f"^{message}$"):
        backend.get_state(second)


def test_runtime_context_getters_check_the_descriptor_kind(backend):
    context = RuntimeContext("t", 0, 1, MAX_PARALLELISM).with_keyed_state(backend)

    assert isinstance(context.get_state(ValueStateDescriptor("v")), ValueState)
    assert isinstance(context.get_list_state(ListStateDescriptor("l")), ListState)
    assert isinstance(context.get_map_state(MapStateDescriptor("m")), MapState)
    assert isinstance(
        context.get_reducing_state(ReducingStateDescriptor("r", Sum())), ReducingState
    )
    assert isinstance(
        context.get_aggregating_state(AggregatingStateDescriptor("g", Average())), AggregatingState
    )
    with pytest.raises(TypeError, match="get_state\\(\\) needs a ValueStateDescriptor"):
        context.get_state(ListStateDescriptor("x"))
    with pytest.raises(TypeError, match="get_list_state\\(\\) needs a ListStateDescriptor"):
        context.get_list_state(ValueStateDescriptor("x"))


def test_runtime_context_without_keyed_state_points_to_key_by():
    context = RuntimeContext("t", 0, 1, MAX_PARALLELISM)

    with pytest.raises(RuntimeError, match=r"keyed state \('count'\) .* after key_by\(\)"):
        context.get_state(ValueStateDescriptor("count"))


# -- list state -------------------------------------------------------------------------


def test_list_state_get_add_add_all_update_clear(backend):
    state = backend.get_state(ListStateDescriptor("l"))
    backend.set_current_key("a")

    assert state.get() == []
    state.add(1)
    state.add(0)
    assert state.get() == [1, 0]
    state.add_all([2, 3])
    assert state.get() == [1, 0, 2, 3]
    state.update([9, 8])
    assert state.get() == [9, 8]
    state.update([])
    assert state.get() == []
    assert entries(backend, "l") == []
    state.add_all([4])
    state.clear()
    assert state.get() == []
    assert entries(backend, "l") == []


def test_list_state_get_returns_a_copy(backend):
    state = backend.get_state(ListStateDescriptor("l"))
    backend.set_current_key("a")
    state.add_all([1, 2])

    state.get().append(3)

    assert state.get() == [1, 2]


def test_list_state_refuses_none(backend):
    state = backend.get_state(ListStateDescriptor("l"))
    backend.set_current_key("a")
    state.add(1)

    with pytest.raises(ValueError, match="cannot add None to list state 'l'"):
        state.add(None)
    with pytest.raises(ValueError, match="cannot add None to list state 'l'"):
        state.update([2, None])  # Flink: "You cannot add null to a ListState."
    assert state.get() == [1]  # a refused update changes nothing


def test_list_state_is_kept_per_key_and_namespace(backend):
    state = backend.get_state(ListStateDescriptor("l"))
    backend.set_current_key("a")
    state.add("a1")
    state.set_current_namespace("w")
    state.add("a-w")
    backend.set_current_key("b")
    state.add("b-w")

    assert state.get() == ["b-w"]
    backend.set_current_key("a")
    assert state.get() == ["a-w"]
    state.set_current_namespace(None)
    assert state.get() == ["a1"]


# -- map state --------------------------------------------------------------------------


def test_map_state_operations(backend):
    state = backend.get_state(MapStateDescriptor("m"))
    backend.set_current_key("a")

    assert state.is_empty()
    assert state.get("x") is None
    assert not state.contains("x")
    assert (state.items(), state.keys(), state.values(), list(state)) == ([], [], [], [])

    state.put("x", 1)
    state.put_all({"y": 2, "z": 3})
    state.put("x", 10)  # overwrite keeps the insertion position
    assert state.get("x") == 10
    assert state.contains("y")
    assert not state.is_empty()
    assert state.items() == [("x", 10), ("y", 2), ("z", 3)]
    assert state.keys() == ["x", "y", "z"]
    assert state.values() == [10, 2, 3]
    assert list(state) == ["x", "y", "z"]

    state.remove("y")
    state.remove("not there")
    assert state.items() == [("x", 10), ("z", 3)]
    assert not state.contains("y")
    state.remove("x")
    state.remove("z")
    assert state.is_empty()
    assert entries(backend, "m") == []  # the last removal drops the entry


def test_map_state_holds_none_values(backend):
    state = backend.get_state(MapStateDescriptor("m"))
    backend.set_current_key("a")
    state.put("x", None)

    assert state.contains("x")
    assert state.get("x") is None
    assert state.items() == [("x", None)]


def test_map_state_clear_and_per_key_namespace(backend):
    state = backend.get_state(MapStateDescriptor("m"))
    backend.set_current_key("a")
    state.put("k", "a")
    state.set_current_namespace("w")
    state.put("k", "a-w")
    backend.set_current_key("b")
    state.put("k", "b-w")

    state.clear()
    assert state.is_empty()
    backend.set_current_key("a")
    assert state.items() == [("k", "a-w")]
    state.set_current_namespace(None)
    assert state.items() == [("k", "a")]


# -- reducing and aggregating state -----------------------------------------------------


@pytest.mark.parametrize("reducer", [Sum(), lambda a, b: a + b], ids=["ReduceFunction", "lambda"])
def test_reducing_state_folds_added_values(backend, reducer):
    state = backend.get_state(ReducingStateDescriptor("r", reducer))
    backend.set_current_key("a")

    assert state.get() is None
    for value in (1, 2, 3):
        state.add(value)
    assert state.get() == 6
    backend.set_current_key("b")
    assert state.get() is None
    state.add(10)
    assert state.get() == 10
    backend.set_current_key("a")
    state.clear()
    assert state.get() is None
    state.add(4)
    assert state.get() == 4


def test_aggregating_state_keeps_an_accumulator(backend):
    state = backend.get_state(AggregatingStateDescriptor("g", Average()))
    backend.set_current_key("a")

    assert state.get() is None
    state.add(2)
    state.add(4)
    assert state.get() == 3.0
    key_group = key_group_for("a", MAX_PARALLELISM)
    assert backend.tables["g"][key_group][("a", None)] == (6, 2)  # the accumulator
    state.set_current_namespace("w")
    assert state.get() is None
    state.add(7)
    assert state.get() == 7.0
    state.clear()
    assert state.get() is None
    state.set_current_namespace(None)
    assert state.get() == 3.0


def test_descriptors_check_their_functions():
    with pytest.raises(TypeError, match="ReducingStateDescriptor needs a ReduceFunction"):
        ReducingStateDescriptor("r", 42)
    with pytest.raises(TypeError, match="AggregateFunction with create_accumulator"):
        AggregatingStateDescriptor("g", object())
    with pytest.raises(ValueError, match="non-empty name"):
        ValueStateDescriptor("")


# -- TTL --------------------------------------------------------------------------------


def test_ttl_config_builder_defaults_and_accessors():
    config = StateTtlConfig.new_builder(Time.seconds(2)).build()

    assert config.get_ttl() == 2000
    assert config.get_update_type() is ON_WRITE
    assert config.get_state_visibility() is NEVER
    assert config.is_enabled()
    with pytest.raises(ValueError, match="state TTL must be positive, got 0 ms"):
        StateTtlConfig.new_builder(Time.milliseconds(0)).build()
    with pytest.raises(TypeError, match="new_builder\\(\\) takes a Time or Duration"):
        StateTtlConfig.new_builder(5)


def test_value_ttl_on_create_and_write_ignores_reads(backend, clock):
    state = backend.get_state(with_ttl(ValueStateDescriptor("v")))
    backend.set_current_key("a")
    start = clock.ms
    state.update("x")

    clock.at(start + TTL_MS - 1)
    assert state.value() == "x"  # a read does not extend the TTL
    clock.at(start + TTL_MS)
    assert state.value() is None
    assert entries(backend, "v") == []  # expired on access: removed


def test_value_ttl_is_renewed_by_writes(backend, clock):
    state = backend.get_state(with_ttl(ValueStateDescriptor("v")))
    backend.set_current_key("a")
    start = clock.ms
    state.update("x")
    clock.at(start + 60)
    state.update("y")

    clock.at(start + 60 + TTL_MS - 1)
    assert state.value() == "y"
    clock.at(start + 60 + TTL_MS)
    assert state.value() is None


def test_value_ttl_on_read_and_write_renews_on_every_read(backend, clock):
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), ON_READ))
    backend.set_current_key("a")
    start = clock.ms
    state.update("x")

    clock.at(start + 99)
    assert state.value() == "x"  # renewed to start + 99
    clock.at(start + 198)
    assert state.value() == "x"  # renewed to start + 198
    clock.at(start + 298)
    assert state.value() is None


def test_value_ttl_return_expired_if_not_cleaned_up_returns_it_once(backend, clock):
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), visibility=RETURN_EXPIRED))
    backend.set_current_key("a")
    start = clock.ms
    state.update("x")

    clock.at(start + TTL_MS + 50)
    assert state.value() == "x"  # expired, still there: returned, then cleaned up
    assert state.value() is None


def test_ttl_is_per_key(backend, clock):
    state = backend.get_state(with_ttl(ValueStateDescriptor("v")))
    start = clock.ms
    backend.set_current_key("a")
    state.update("a")
    clock.at(start + 50)
    backend.set_current_key("b")
    state.update("b")

    clock.at(start + TTL_MS)
    assert state.value() == "b"
    backend.set_current_key("a")
    assert state.value() is None


def test_value_states_with_and_without_ttl_side_by_side(backend, clock):
    """Without TTL a value state stores the value itself (its direct read and write
    paths); with TTL, ``(value, written ms)``. Each state keeps its own kind, whichever
    was registered first, and both answer alike until the TTL passes."""
    timed = backend.get_state(with_ttl(ValueStateDescriptor("timed")))
    plain = backend.get_state(ValueStateDescriptor("plain"))
    first, second = two_keys_in_different_groups()
    start = clock.ms
    for key in (first, second):
        backend.set_current_key(key)
        assert plain.value() is None and timed.value() is None
        plain.update(key * 2)
        timed.update(key * 2)
        assert plain.value() == timed.value() == key * 2
    plain.set_current_namespace("w")
    plain.update(0)  # falsy values are values
    assert plain.value() == 0

    g1, g2 = key_group_for(first, MAX_PARALLELISM), key_group_for(second, MAX_PARALLELISM)
    assert backend.tables["plain"] == {
        g1: {(first, None): first * 2},
        g2: {(second, None): second * 2, (second, "w"): 0},
    }
    assert backend.tables["timed"] == {
        g1: {(first, None): (first * 2, start)},
        g2: {(second, None): (second * 2, start)},
    }

    clock.at(start + TTL_MS)
    backend.set_current_key(first)
    plain.set_current_namespace(None)
    assert plain.value() == first * 2
    assert timed.value() is None
    plain.update(None)  # clears, as update(None) always did
    assert plain.value() is None
    assert backend.tables["plain"] == {
        g1: {},
        g2: {(second, None): second * 2, (second, "w"): 0},
    }


def test_value_state_without_ttl_reading_creates_no_key_group(backend):
    state = backend.get_state(ValueStateDescriptor("v"))
    backend.set_current_key("a")

    assert state.value() is None
    assert backend.tables["v"] == {}


def test_list_ttl_expires_each_element_on_its_own(backend, clock):
    state = backend.get_state(with_ttl(ListStateDescriptor("l")))
    backend.set_current_key("a")
    start = clock.ms
    state.add("first")
    clock.at(start + 60)
    state.add("second")

    clock.at(start + TTL_MS)
    assert state.get() == ["second"]
    clock.at(start + 60 + TTL_MS)
    assert state.get() == []
    assert entries(backend, "l") == []


def test_list_ttl_return_expired_shows_expired_elements_once(backend, clock):
    state = backend.get_state(with_ttl(ListStateDescriptor("l"), visibility=RETURN_EXPIRED))
    backend.set_current_key("a")
    start = clock.ms
    state.add("first")
    clock.at(start + 60)
    state.add("second")

    clock.at(start + TTL_MS)
    assert state.get() == ["first", "second"]
    assert state.get() == ["second"]


def test_list_ttl_on_read_and_write_renews_the_live_elements(backend, clock):
    state = backend.get_state(with_ttl(ListStateDescriptor("l"), ON_READ))
    backend.set_current_key("a")
    start = clock.ms
    state.add_all(["x", "y"])

    clock.at(start + 90)
    assert state.get() == ["x", "y"]  # renewed to start + 90
    clock.at(start + 90 + TTL_MS - 1)
    assert state.get() == ["x", "y"]


def test_list_ttl_update_stamps_every_element_now(backend, clock):
    state = backend.get_state(with_ttl(ListStateDescriptor("l")))
    backend.set_current_key("a")
    start = clock.ms
    state.add("old")
    clock.at(start + 80)
    state.update(["p", "q"])

    clock.at(start + 80 + TTL_MS - 1)
    assert state.get() == ["p", "q"]
    clock.at(start + 80 + TTL_MS)
    assert state.get() == []


def test_map_ttl_expires_each_entry_on_its_own(backend, clock):
    state = backend.get_state(with_ttl(MapStateDescriptor("m")))
    backend.set_current_key("a")
    start = clock.ms
    state.put("x", 1)
    clock.at(start + 60)
    state.put("y", 2)

    clock.at(start + TTL_MS)
    assert state.get("x") is None
    assert not state.contains("x")
    assert state.get("y") == 2
    assert state.contains("y")
    assert state.items() == [("y", 2)]
    assert state.keys() == ["y"]
    assert state.values() == [2]
    assert list(state) == ["y"]
    assert not state.is_empty()
    clock.at(start + 60 + TTL_MS)
    assert state.is_empty()
    assert state.items() == []
    assert entries(backend, "m") == []


def test_map_ttl_expiry_seen_by_get_or_contains_drops_an_emptied_map(backend, clock):
    state = backend.get_state(with_ttl(MapStateDescriptor("m")))
    start = clock.ms
    for key in ("a", "b"):
        backend.set_current_key(key)
        state.put("x", 1)

    clock.at(start + TTL_MS)
    backend.set_current_key("a")
    assert state.get("x") is None
    backend.set_current_key("b")
    assert not state.contains("x")
    assert entries(backend, "m") == []  # as the last remove() does


def test_map_ttl_return_expired_shows_expired_entries_once(backend, clock):
    state = backend.get_state(with_ttl(MapStateDescriptor("m"), visibility=RETURN_EXPIRED))
    backend.set_current_key("a")
    start = clock.ms
    state.put("x", 1)
    state.put("y", 2)

    clock.at(start + TTL_MS)
    assert state.get("x") == 1  # returned once, removed
    assert state.get("x") is None
    assert state.items() == [("y", 2)]  # returned once, removed
    assert state.items() == []


def test_map_ttl_on_read_and_write_renews_entries_read_by_get(backend, clock):
    state = backend.get_state(with_ttl(MapStateDescriptor("m"), ON_READ))
    backend.set_current_key("a")
    start = clock.ms
    state.put_all({"x": 1, "y": 2})

    clock.at(start + 90)
    assert state.get("x") == 1  # only x is renewed
    clock.at(start + TTL_MS)
    assert state.items() == [("x", 1)]


def test_map_ttl_on_read_and_write_renews_entries_read_by_iteration(backend, clock):
    """Flink's ``TtlMapState`` renews each entry its ``entries()``/``keys()``/
    ``values()`` iterators return (``getWrappedWithTtlCheckAndUpdate`` per entry)."""
    state = backend.get_state(with_ttl(MapStateDescriptor("m"), ON_READ))
    backend.set_current_key("a")
    start = clock.ms
    state.put_all({"x": 1, "y": 2})

    clock.at(start + 90)
    assert state.items() == [("x", 1), ("y", 2)]  # both renewed to start + 90
    clock.at(start + 90 + TTL_MS - 1)
    assert state.values() == [1, 2]


def test_map_ttl_contains_a_none_value(backend):
    """Flink's ``TtlMapState.contains`` checks the wrapped value, so a live entry whose
    user value is null is contained."""
    state = backend.get_state(with_ttl(MapStateDescriptor("m")))
    backend.set_current_key("a")
    state.put("x", None)

    assert state.contains("x")
    assert state.items() == [("x", None)]


@pytest.mark.parametrize("visibility, after_expiry", [(NEVER, 5), (RETURN_EXPIRED, 3 + 5)])
def test_reducing_ttl(backend, clock, visibility, after_expiry):
    """After expiry ``add`` starts again (NeverReturnExpired) or folds into the expired
    value (ReturnExpiredIfNotCleanedUp), as Flink's ``getUnexpired`` does."""
    state = backend.get_state(
        with_ttl(ReducingStateDescriptor("r", Sum()), visibility=visibility)
    )
    backend.set_current_key("a")
    start = clock.ms
    state.add(1)
    clock.at(start + 50)
    state.add(2)  # a write: renewed to start + 50

    clock.at(start + 50 + TTL_MS - 1)
    assert state.get() == 3
    clock.at(start + 50 + TTL_MS)
    state.add(5)
    assert state.get() == after_expiry


def test_reducing_ttl_get_expires(backend, clock):
    state = backend.get_state(with_ttl(ReducingStateDescriptor("r", Sum())))
    backend.set_current_key("a")
    start = clock.ms
    state.add(1)

    clock.at(start + TTL_MS)
    assert state.get() is None
    assert entries(backend, "r") == []


def test_reducing_ttl_on_read_and_write_renews_on_get(backend, clock):
    """Flink's ``TtlReducingState.get`` goes through ``getWithTtlCheckAndUpdate``."""
    state = backend.get_state(with_ttl(ReducingStateDescriptor("r", Sum()), ON_READ))
    backend.set_current_key("a")
    start = clock.ms
    state.add(4)

    clock.at(start + 90)
    assert state.get() == 4  # renewed to start + 90
    clock.at(start + TTL_MS + 50)
    assert state.get() == 4


@pytest.mark.parametrize("visibility, after_expiry", [(NEVER, 10.0), (RETURN_EXPIRED, 14 / 3)])
def test_aggregating_ttl(backend, clock, visibility, after_expiry):
    state = backend.get_state(
        with_ttl(AggregatingStateDescriptor("g", Average()), visibility=visibility)
    )
    backend.set_current_key("a")
    start = clock.ms
    state.add(2)
    state.add(2)

    clock.at(start + TTL_MS - 1)
    assert state.get() == 2.0
    clock.at(start + TTL_MS)
    state.add(10)
    assert state.get() == after_expiry


def test_aggregating_ttl_get_expires(backend, clock):
    state = backend.get_state(with_ttl(AggregatingStateDescriptor("g", Average())))
    backend.set_current_key("a")
    start = clock.ms
    state.add(1)

    clock.at(start + TTL_MS)
    assert state.get() is None
    assert entries(backend, "g") == []


def test_aggregating_ttl_on_read_and_write_renews_on_get(backend, clock):
    """Flink's ``TtlAggregatingState.get`` reads through ``getInternal``, which renews."""
    state = backend.get_state(with_ttl(AggregatingStateDescriptor("g", Average()), ON_READ))
    backend.set_current_key("a")
    start = clock.ms
    state.add(4)

    clock.at(start + 90)
    assert state.get() == 4.0  # renewed to start + 90
    clock.at(start + TTL_MS + 50)
    assert state.get() == 4.0


def test_state_without_ttl_never_expires(backend, clock):
    state = backend.get_state(ValueStateDescriptor("v"))
    backend.set_current_key("a")
    state.update("x")

    clock.at(clock.ms + 10**9)
    assert state.value() == "x"


# -- merging namespaces (session windows) -----------------------------------------------


def fill(state, backend, key, by_namespace, add):
    backend.set_current_key(key)
    for namespace, values in by_namespace.items():
        state.set_current_namespace(namespace)
        for value in values:
            add(value)


def read(state, backend, key, namespaces, get):
    backend.set_current_key(key)
    out = {}
    for namespace in namespaces:
        state.set_current_namespace(namespace)
        out[namespace] = get()
    return out


def test_merge_namespaces_of_list_state(backend):
    state = backend.get_state(ListStateDescriptor("l"))
    fill(state, backend, "a", {"w1": [1, 2], "w2": [3], "w3": [4, 5]}, state.add)
    fill(state, backend, "b", {"w2": ["b"]}, state.add)

    backend.set_current_key("a")
    state.merge_namespaces("w1", ["w2", "w1", "w9"])

    assert read(state, backend, "a", ["w1", "w2", "w3"], state.get) == {
        "w1": [1, 2, 3], "w2": [], "w3": [4, 5],
    }
    assert read(state, backend, "b", ["w2"], state.get) == {"w2": ["b"]}  # other key untouched


def test_merge_namespaces_into_an_empty_target(backend):
    state = backend.get_state(ListStateDescriptor("l"))
    fill(state, backend, "a", {"w1": [1], "w2": [2]}, state.add)

    backend.set_current_key("a")
    state.merge_namespaces("new", ["w1", "w2"])

    assert read(state, backend, "a", ["new", "w1", "w2"], state.get) == {
        "new": [1, 2], "w1": [], "w2": [],
    }
    key_group = key_group_for("a", MAX_PARALLELISM)
    assert entries(backend, "l") == [(key_group, "a", "new")]


def test_merge_namespaces_of_reducing_state(backend):
    state = backend.get_state(ReducingStateDescriptor("r", Sum()))
    fill(state, backend, "a", {"w1": [1, 2], "w2": [10], "w3": [100]}, state.add)
    fill(state, backend, "b", {"w2": [7]}, state.add)

    backend.set_current_key("a")
    state.merge_namespaces("w1", ["w2", "w3"])

    assert read(state, backend, "a", ["w1", "w2", "w3"], state.get) == {
        "w1": 113, "w2": None, "w3": None,
    }
    assert read(state, backend, "b", ["w2"], state.get) == {"w2": 7}
    backend.set_current_key("a")
    state.merge_namespaces("w4", ["w1", "w5"])  # empty target, a missing source
    assert read(state, backend, "a", ["w1", "w4"], state.get) == {"w1": None, "w4": 113}


def test_merge_namespaces_of_aggregating_state_merges_accumulators(backend):
    state = backend.get_state(AggregatingStateDescriptor("g", Average()))
    fill(state, backend, "a", {"w1": [1, 3], "w2": [8]}, state.add)

    backend.set_current_key("a")
    state.merge_namespaces("w1", ["w2"])

    assert read(state, backend, "a", ["w1", "w2"], state.get) == {"w1": 4.0, "w2": None}
    assert backend.tables["g"][key_group_for("a", MAX_PARALLELISM)] == {("a", "w1"): (12, 3)}


def test_merge_namespaces_with_ttl_keeps_the_units_usable(backend, clock):
    state = backend.get_state(with_ttl(ReducingStateDescriptor("r", Sum())))
    fill(state, backend, "a", {"w1": [1], "w2": [2]}, state.add)

    backend.set_current_key("a")
    state.merge_namespaces("w1", ["w2"])

    assert read(state, backend, "a", ["w1", "w2"], state.get) == {"w1": 3, "w2": None}


@pytest.mark.parametrize(
    "descriptor", [ValueStateDescriptor("v"), MapStateDescriptor("m")], ids=["value", "map"]
)
def test_value_and_map_state_cannot_merge(backend, descriptor):
    state = backend.get_state(descriptor)
    backend.set_current_key("a")

    with pytest.raises(NotImplementedError, match="cannot merge namespaces"):
        state.merge_namespaces("w1", ["w2"])


def test_set_current_key_stays_right_past_the_key_cache_limit(backend, monkeypatch):
    monkeypatch.setattr(key_groups, "KEY_CACHE_LIMIT", 100)
    state = backend.get_state(ValueStateDescriptor("v"))
    keys = [f"k{i}" for i in range(350)]
    for key in keys:
        backend.set_current_key(key)
        assert backend.current_group == key_group_for(key, MAX_PARALLELISM)
        state.update(key.upper())
        assert len(backend._group_of) <= 100  # bounded: it starts over when full

    for key in keys:  # most evicted by now: same groups, same entries
        backend.set_current_key(key)
        assert backend.current_group == key_group_for(key, MAX_PARALLELISM)
        assert state.value() == key.upper()
