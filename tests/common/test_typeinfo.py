"""Tests for ``minicluster.common.typeinfo``: factories, repr, equality, is_instance."""

import datetime
import decimal
import re

import pytest

from minicluster.common import Row, TypeInformation, Types
from minicluster.common.typeinfo import (
    BasicTypeInfo,
    ListTypeInfo,
    MapTypeInfo,
    RowTypeInfo,
    SqlTimeTypeInfo,
    TupleTypeInfo,
)


@pytest.mark.parametrize(
    ("factory", "text"),
    [
        (Types.STRING, "String"),
        (Types.BYTE, "Byte"),
        (Types.BOOLEAN, "Boolean"),
        (Types.SHORT, "Short"),
        (Types.INT, "Integer"),
        (Types.LONG, "Long"),
        (Types.FLOAT, "Float"),
        (Types.DOUBLE, "Double"),
        (Types.CHAR, "Char"),
        (Types.BIG_INT, "BigInteger"),
        (Types.BIG_DEC, "BigDecimal"),
        (Types.INSTANT, "Instant"),
        (Types.SQL_DATE, "DateTypeInfo"),
        (Types.SQL_TIME, "TimeTypeInfo"),
        (Types.SQL_TIMESTAMP, "TimestampTypeInfo"),
        (Types.LOCAL_DATE, "LocalDate"),
        (Types.LOCAL_TIME, "LocalTime"),
        (Types.LOCAL_DATE_TIME, "LocalDateTime"),
        (Types.PICKLED_BYTE_ARRAY, "PickledByteArrayTypeInfo"),
    ],
)
def test_leaf_types_print_pyflink_names_and_compare_by_value(factory, text):
    info = factory()

    assert isinstance(info, TypeInformation)
    assert repr(info) == text
    assert info == factory()
    assert hash(info) == hash(factory())


def test_container_reprs_match_pyflink():
    assert repr(Types.ROW([Types.STRING(), Types.INT()])) == "RowTypeInfo(String, Integer)"
    named = Types.ROW_NAMED(["a", "b"], [Types.STRING(), Types.STRING()])
    assert repr(named) == "RowTypeInfo(a: String, b: String)"
    assert repr(Types.TUPLE([Types.STRING(), Types.INT()])) == "TupleTypeInfo(String, Integer)"
    assert repr(Types.PRIMITIVE_ARRAY(Types.INT())) == "PrimitiveArrayTypeInfo<Integer>"
    assert repr(Types.BASIC_ARRAY(Types.STRING())) == "BasicArrayTypeInfo<String>"
    assert repr(Types.OBJECT_ARRAY(Types.SQL_DATE())) == "ObjectArrayTypeInfo<DateTypeInfo>"
    assert repr(Types.MAP(Types.STRING(), Types.LONG())) == "MapTypeInfo<String, Long>"
    assert repr(Types.LIST(Types.DOUBLE())) == "ListTypeInfo<Double>"


def test_equality_of_containers():
    assert Types.ROW([Types.STRING(), Types.INT()]) == RowTypeInfo([Types.STRING(), Types.INT()])
    assert Types.ROW([Types.STRING()]) != Types.ROW([Types.INT()])
    assert Types.ROW_NAMED(["a"], [Types.INT()]) != Types.ROW_NAMED(["b"], [Types.INT()])
    assert Types.ROW([Types.INT()]) == Types.ROW_NAMED(["f0"], [Types.INT()])
    assert Types.TUPLE([Types.INT()]) != Types.ROW([Types.INT()])
    assert Types.MAP(Types.STRING(), Types.INT()) == MapTypeInfo(Types.STRING(), Types.INT())
    assert Types.MAP(Types.STRING(), Types.INT()) != Types.MAP(Types.INT(), Types.INT())
    assert Types.LIST(Types.INT()) == ListTypeInfo(Types.INT())
    assert Types.PRIMITIVE_ARRAY(Types.INT()) != Types.BASIC_ARRAY(Types.INT())
    assert Types.INT() != Types.LONG()
    assert Types.INT() != "Integer"
    assert len({Types.LIST(Types.INT()), Types.LIST(Types.INT()), Types.LIST(Types.LONG())}) == 2


def test_row_type_field_accessors():
    named = Types.ROW_NAMED(["a", "b"], [Types.STRING(), Types.INT()])
    unnamed = Types.ROW([Types.STRING(), Types.STRING()])

    assert named.get_field_names() == ["a", "b"]
    assert named.get_field_types() == [Types.STRING(), Types.INT()]
    assert named.get_field_index("b") == 1
    assert named.get_field_index("zz") == -1
    assert unnamed.get_field_names() == ["f0", "f1"]
    assert Types.TUPLE([Types.CHAR()]).get_field_types() == [Types.CHAR()]


def test_sql_time_type_info_factories():
    assert SqlTimeTypeInfo.DATE() == Types.SQL_DATE()
    assert SqlTimeTypeInfo.TIME() == Types.SQL_TIME()
    assert SqlTimeTypeInfo.TIMESTAMP() == Types.SQL_TIMESTAMP()


def test_row_named_needs_one_type_per_name():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "ROW_NAMED got 2 names ['a', 'b'] but 1 types [String]; give one type per name"
        ),
    ):
        Types.ROW_NAMED(["a", "b"], [Types.STRING()])


def test_row_named_names_are_unique_strings():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "row field names must be unique, got ['a', 'a']"
        ),
    ):
        Types.ROW_NAMED(["a", "a"], [Types.INT(), Types.INT()])
    with pytest.raises(TypeError, match=re.escape("row field names must be str, got [1]")):
        Types.ROW_NAMED([1], [Types.INT()])


def test_uncalled_factory_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=re.escape("call the factory: Types.INT(), not Types.INT")):
        Types.ROW([Types.INT])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "TupleTypeInfo needs TypeInformation values such as Types.INT(), got 'int'"
        ),
    ):
        Types.TUPLE(["int"])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "ListTypeInfo needs a TypeInformation element type, got <class 'int'>"
        ),
    ):
        Types.LIST(int)


def test_array_element_types_are_checked():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "PrimitiveArrayTypeInfo elements must be one of Types.BOOLEAN(), Types.BYTE()"
        ),
    ):
        Types.PRIMITIVE_ARRAY(Types.STRING())
    with pytest.raises(TypeError, match=re.escape("BasicArrayTypeInfo elements must be one of")):
        Types.BASIC_ARRAY(Types.LIST(Types.INT()))
    assert Types.BASIC_ARRAY(Types.STRING()) == Types.BASIC_ARRAY(Types.STRING())
    with pytest.raises(TypeError, match=re.escape("BasicTypeInfo needs a BasicType, got 'STRING'")):
        BasicTypeInfo("STRING")


@pytest.mark.parametrize(
    ("info", "good", "bad"),
    [
        (Types.STRING(), ["", "x", None], [1, b"x"]),
        (Types.INT(), [0, -(2**31), 2**31 - 1], [True, 1.0, "1", None, 2**31]),
        (Types.LONG(), [2**63 - 1, -(2**63)], [2**63, False, None]),
        (Types.SHORT(), [2**15 - 1], [2**15]),
        (Types.BYTE(), [-128, 127], [128, -129]),
        (Types.BIG_INT(), [2**100, None], [True, 1.5]),
        (Types.FLOAT(), [1.5, 2], [True, "1.5", None]),
        (Types.DOUBLE(), [1.5, -3], [False]),
        (Types.BOOLEAN(), [True, False], [1, 0, None]),
        (Types.CHAR(), ["a"], ["ab", "", None]),
        (Types.BIG_DEC(), [decimal.Decimal("1.5"), None], []),
        (Types.SQL_DATE(), [datetime.date(2024, 1, 1), None], []),
        (Types.PICKLED_BYTE_ARRAY(), [object(), None, [1]], []),
        (Types.LIST(Types.INT()), [[], [1, 2]], [(1, 2), [1, None], [1, "a"], None]),
        (Types.LIST(Types.STRING()), [["a", None]], [["a", 1]]),
        (
            Types.MAP(Types.STRING(), Types.INT()),
            [{}, {"a": 1, "b": None}],
            [{"a": "x"}, {1: 1}, {None: 1}, [("a", 1)]],
        ),
        (
            Types.TUPLE([Types.STRING(), Types.INT()]),
            [("a", 1), ["a", 1], Row("a", 1)],
            [("a",), ("a", 1, 2), (1, "a"), ("a", None), None],
        ),
        (Types.PRIMITIVE_ARRAY(Types.INT()), [[1, 2], (3,)], [[1, None], [1.5], {1}]),
        (Types.PRIMITIVE_ARRAY(Types.BYTE()), [b"ab", bytearray(b"x"), [1, 2]], ["ab", [300]]),
        (Types.BASIC_ARRAY(Types.INT()), [[1, None]], [["a"], b"ab"]),
        (Types.OBJECT_ARRAY(Types.ROW([Types.INT()])), [[(1,), None]], [[(1, 2)]]),
    ],
)
def test_is_instance(info, good, bad):
    for value in good:
        assert info.is_instance(value), value
    for value in bad:
        assert not info.is_instance(value), value


def test_row_is_instance_checks_arity_and_fields_allowing_none():
    info = Types.ROW([Types.STRING(), Types.INT()])

    assert info.is_instance(Row("a", 1))
    assert info.is_instance(("a", 1))
    assert info.is_instance(["a", None])
    assert info.is_instance((None, None))
    assert not info.is_instance(("a",))
    assert not info.is_instance((1, "a"))
    assert not info.is_instance(None)
    assert not info.is_instance({"f0": "a", "f1": 1})


def test_named_row_is_instance_matches_named_rows_and_dicts_by_name():
    info = Types.ROW_NAMED(["name", "age"], [Types.STRING(), Types.INT()])

    assert info.is_instance(Row(name="a", age=1))
    assert info.is_instance(Row(age=1, name="a"))
    assert info.is_instance(Row("a", 1))
    assert info.is_instance({"name": "a", "age": 1})
    assert info.is_instance({"name": "a"})
    assert not info.is_instance(Row(name="a", years=1))
    assert not info.is_instance(Row(age="a", name=1))
    assert not info.is_instance({"name": 1})


def test_nested_types_check_recursively():
    info = Types.ROW_NAMED(
        ["id", "tags", "point"],
        [Types.LONG(), Types.LIST(Types.STRING()), Types.TUPLE([Types.DOUBLE(), Types.DOUBLE()])],
    )

    assert info.is_instance(Row(id=1, tags=["a"], point=(1.0, 2)))
    assert not info.is_instance(Row(id=1, tags=[1], point=(1.0, 2)))
    assert not info.is_instance(Row(id=1, tags=["a"], point=(1.0,)))
    assert isinstance(Types.TUPLE([Types.INT()]), TupleTypeInfo)
