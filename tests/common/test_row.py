"""Tests for ``minicluster.common.row``: construction, access, identity, pickling."""

import copy
import pickle
import re
import sys

import cloudpickle
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicluster.common import Row, RowKind
from minicluster.common.types import Row as TypesRow


def test_positional_row_is_a_tuple_of_its_values():
    row = Row(1, "a")

    assert isinstance(row, tuple)
    assert type(row) is Row
    assert len(row) == 2
    assert row[0] == 1
    assert row[-1] == "a"
    assert row[:1] == (1,)
    assert list(row) == [1, "a"]
    assert repr(row) == "<Row(1, 'a')>"


def test_keyword_row_keeps_keyword_order():
    row = Row(name="Alice", age=11)

    assert tuple(row) == ("Alice", 11)
    assert row._fields == ("name", "age")
    assert repr(row) == "Row(name='Alice', age=11)"


def test_named_fields_read_by_attribute_name_and_position():
    row = Row(name="Alice", age=11)

    assert row.name == "Alice"
    assert row.age == 11
    assert row["name"] == "Alice"
    assert row["age"] == 11
    assert row[0] == "Alice"
    assert row[1] == 11


def test_fields_named_like_tuple_methods_read_as_fields():
    row = Row(word="flink", count=3, index=7)

    assert row.count == 3
    assert row.index == 7
    assert Row(1, 1).count(1) == 2


def test_row_methods_win_over_fields_of_the_same_name():
    row = Row(as_dict=1)

    assert row.as_dict() == {"as_dict": 1}
    assert row["as_dict"] == 1


def test_row_class_builds_named_rows():
    person = Row("name", "age")

    assert repr(person) == "<Row('name', 'age')>"
    assert "name" in person
    bob = person("Bob", 3)
    assert bob == ("Bob", 3)
    assert repr(bob) == "Row(name='Bob', age=3)"
    assert bob.name == "Bob"
    assert type(bob) is type(Row(name="x", age=0))


def test_row_class_needs_one_value_per_field():
    person = Row("name", "age")

    with pytest.raises(
        ValueError,
        match=re.escape(
            "Row with fields ('name', 'age') needs 2 values, got 1: ('Bob',)"
        ),
    ):
        person("Bob")


def test_row_class_needs_string_names():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "only a row of field names (all str) can build rows; <Row(1, 2)> is not one"
        ),
    ):
        Row(1, 2)(3, 4)


def test_row_class_needs_unique_names():
    with pytest.raises(ValueError, match=re.escape("field names must be unique, got ('a', 'a')")):
        Row("a", "a")(1, 2)


def test_positional_and_keyword_arguments_do_not_mix():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Row() takes positional values or keyword fields, not both; got (1,) and {'b': 2}"
        ),
    ):
        Row(1, b=2)


def test_named_row_class_checks_arity():
    named_class = type(Row(a=1, b=2))

    assert named_class(3, 4) == Row(a=3, b=4)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Row with fields ('a', 'b') needs 2 values, got (3,)"
        ),
    ):
        named_class(3)


def test_equality_and_hash_are_the_tuple_s():
    assert Row(1, 2) == (1, 2)
    assert (1, 2) == Row(1, 2)
    assert hash(Row(1, 2)) == hash((1, 2))
    assert Row(a=1, b=2) == Row(1, 2) == Row(x=1, y=2)
    assert hash(Row(a=1, b=2)) == hash((1, 2))
    assert Row(1, 2) != [1, 2]
    assert Row(1, 2) != Row(2, 1)


def test_kind_does_not_take_part_in_equality():
    deleted = Row(1, 2)
    deleted.set_row_kind(RowKind.DELETE)

    assert deleted == Row(1, 2)
    assert hash(deleted) == hash(Row(1, 2))
    assert {Row(1, 2): "v"}[deleted] == "v"
    assert {(1, 2): "v"}[deleted] == "v"


def test_membership_checks_names_of_named_rows_and_values_of_others():
    assert "name" in Row(name="Alice")
    assert "Alice" not in Row(name="Alice")
    assert "Alice" in Row("Alice", 11)
    assert "age" not in Row("Alice", 11)


def test_missing_field_errors_name_the_fields():
    with pytest.raises(
        AttributeError,
        match=re.escape(
            "Row has no field 'nope'; its fields are ('name', 'age')"
        ),
    ):
        Row(name="Alice", age=11).nope
    with pytest.raises(
        KeyError,
        match=re.escape(
            "Row has no field 'nope'; its fields are ('name', 'age')"
        ),
    ):
        Row(name="Alice", age=11)["nope"]
    with pytest.raises(
        AttributeError,
        match=re.escape(
            "Row has no field names, so it has no field 'name'"
        ),
    ):
        Row("Alice").name
    assert not hasattr(Row(1), "_fields")


def test_row_is_immutable_and_says_how_to_change_it():
    row = Row(name="Alice", age=11)

    with pytest.raises(
        TypeError,
        match=re.escape(
            "cannot set [0] = 'Bob'. Build a new row instead: row._replace_at(index, value) "
            "or Row(*values)"
        ),
    ):
        row[0] = "Bob"
    with pytest.raises(TypeError, match=re.escape("cannot set ['name'] = 'Bob'")):
        row["name"] = "Bob"
    with pytest.raises(AttributeError):
        row.name = "Bob"
    assert row == ("Alice", 11)


def test_replace_at_keeps_names_and_kind():
    row = Row(word="flink", count=1)
    row.set_row_kind(RowKind.UPDATE_AFTER)

    updated = row._replace_at(1, 2)

    assert updated == ("flink", 2)
    assert updated.count == 2
    assert updated._fields == ("word", "count")
    assert updated.get_row_kind() is RowKind.UPDATE_AFTER
    assert row == ("flink", 1)
    assert Row(1, 2)._replace_at(-1, 9) == (1, 9)
    assert type(Row(1, 2)._replace_at(0, 0)) is Row


def test_replace_at_out_of_range():
    with pytest.raises(IndexError):
        Row(1, 2)._replace_at(2, 0)


def test_row_kind_defaults_to_insert_and_can_be_set():
    row = Row(a=1)

    assert row.get_row_kind() is RowKind.INSERT
    row.set_row_kind(RowKind.UPDATE_BEFORE)
    assert row.get_row_kind() is RowKind.UPDATE_BEFORE
    assert row.a == 1
    assert Row(b=2).get_row_kind() is RowKind.INSERT
    assert [kind.value for kind in RowKind] == [0, 1, 2, 3]


def test_set_row_kind_needs_a_row_kind():
    with pytest.raises(TypeError, match=re.escape("row kind must be a RowKind, got 'DELETE'")):
        Row(1).set_row_kind("DELETE")


def test_set_field_names_names_the_fields_in_place():
    row = Row("Alice", 11)
    row.set_row_kind(RowKind.DELETE)

    row.set_field_names(["name", "age"])

    assert row.name == "Alice"
    assert row["age"] == 11
    assert repr(row) == "Row(name='Alice', age=11)"
    assert row.get_row_kind() is RowKind.DELETE


def test_set_field_names_validates():
    with pytest.raises(ValueError, match=re.escape("1 field names ('a',) for a row of 2 values")):
        Row(1, 2).set_field_names(["a"])
    with pytest.raises(TypeError, match=re.escape("field names must be str, got 1 in (1, 'b')")):
        Row(1, 2).set_field_names([1, "b"])


def test_as_dict():
    row = Row(key=1, value=Row(name="a", age=2), items=[Row(x=1)], plain=Row(5))

    assert row.as_dict() == {
        "key": 1,
        "value": Row(name="a", age=2),
        "items": [Row(x=1)],
        "plain": Row(5),
    }
    assert row.as_dict(recursive=True) == {
        "key": 1,
        "value": {"name": "a", "age": 2},
        "items": [{"x": 1}],
        "plain": Row(5),
    }
    assert list(Row(b=1, a=2).as_dict()) == ["b", "a"]


def test_as_dict_needs_names():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "<Row(1, 2)> has no field names, so it cannot become a dict"
        ),
    ):
        Row(1, 2).as_dict()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip_keeps_names_and_kind(protocol):
    row = Row(name="Alice", age=11, tags=["x"])
    row.set_row_kind(RowKind.UPDATE_BEFORE)

    restored = pickle.loads(pickle.dumps(row, protocol=protocol))

    assert restored == row
    assert restored._fields == ("name", "age", "tags")
    assert restored.name == "Alice"
    assert restored.get_row_kind() is RowKind.UPDATE_BEFORE
    assert repr(restored) == "Row(name='Alice', age=11, tags=['x'])"


def test_pickle_protocol_5_round_trips_unnamed_rows_and_kinds():
    plain = pickle.loads(pickle.dumps(Row(1, "a"), protocol=5))
    assert type(plain) is Row
    assert plain == (1, "a")

    deleted = Row(1, "a")
    deleted.set_row_kind(RowKind.DELETE)
    restored = pickle.loads(pickle.dumps(deleted, protocol=5))
    assert restored.get_row_kind() is RowKind.DELETE
    assert not hasattr(restored, "_fields")


def test_cloudpickle_and_copies_keep_names_and_kind():
    row = Row(a=[1])
    row.set_row_kind(RowKind.DELETE)

    for other in (cloudpickle.loads(cloudpickle.dumps(row)), copy.copy(row), copy.deepcopy(row)):
        assert other == row
        assert other._fields == ("a",)
        assert other.get_row_kind() is RowKind.DELETE
    assert copy.deepcopy(row).a is not row.a


def test_named_rows_cost_no_more_memory_than_tuples():
    assert sys.getsizeof(Row(name="a", age=1)) == sys.getsizeof(("a", 1))
    assert not hasattr(Row(name="a", age=1), "__dict__")


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))


@given(
    values=st.lists(_scalars, max_size=5),
    kind=st.sampled_from(list(RowKind)),
    named=st.booleans(),
)
def test_any_row_round_trips_and_hashes_as_its_tuple(values, kind, named):
    names = tuple(f"f{i}" for i in range(len(values))) if named else None
    row = Row(*values)
    if names is not None:
        row.set_field_names(names)
    row.set_row_kind(kind)

    restored = pickle.loads(pickle.dumps(row, protocol=5))

    assert restored == tuple(values)
    assert hash(restored) == hash(tuple(values))
    assert restored.get_row_kind() is kind
    assert getattr(restored, "_fields", None) == names
    assert repr(restored) == repr(row)


def test_types_module_reexports_row_under_pyflink_path():
    assert TypesRow is Row
