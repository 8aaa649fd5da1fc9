"""Tests for ``minicluster.common.configuration``: string storage, parsing, options."""

import copy
import pickle
import re

import pytest

from minicluster.common import ConfigOption, Configuration


def test_values_are_stored_as_strings():
    config = Configuration()
    config.set_integer("a", 2)
    config.set_boolean("b", True)
    config.set_float("c", 1.5)
    config.set_float("d", 3)
    config.set_string("e", "x")

    assert config.to_dict() == {"a": "2", "b": "true", "c": "1.5", "d": "3.0", "e": "x"}
    assert config.get_string("a", "") == "2"
    assert config.get_string("b", "") == "true"


def test_typed_getters_parse_and_fall_back_to_defaults():
    config = Configuration().set_string("n", " 42 ").set_string("f", "2.5").set_string("t", "TRUE")

    assert config.get_integer("n", 0) == 42
    assert config.get_float("f", 0.0) == 2.5
    assert config.get_float("n", 0.0) == 42.0
    assert config.get_boolean("t", False) is True
    assert config.get_boolean("missing", True) is True
    assert config.get_integer("missing", 7) == 7
    assert config.get_float("missing", 0.5) == 0.5
    assert config.get_string("missing", "dflt") == "dflt"
    assert Configuration().set_string("x", "False").get_boolean("x", True) is False


def test_setters_chain():
    config = Configuration().set_integer("a", 1).set_string("b", "2").set("c", 3.0)

    assert config.key_set() == {"a", "b", "c"}


def test_get_integer_of_a_non_integer_names_key_and_value():
    config = Configuration().set_string("parallelism.default", "four")

    with pytest.raises(
        ValueError,
        match=re.escape(
            "config key 'parallelism.default' holds 'four', which is not an integer"
        ),
    ):
        config.get_integer("parallelism.default", 1)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "config key 'x' holds '2.0', which is not an integer"
        ),
    ):
        Configuration().set_float("x", 2).get_integer("x", 0)


def test_get_boolean_and_get_float_of_bad_values():
    config = Configuration().set_string("flag", "yes")

    with pytest.raises(
        ValueError,
        match=re.escape(
            "config key 'flag' holds 'yes', which is not 'true' or 'false'"
        ),
    ):
        config.get_boolean("flag", False)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "config key 'flag' holds 'yes', which is not a number"
        ),
    ):
        config.get_float("flag", 0.0)


def test_setters_check_value_types():
    config = Configuration()

    with pytest.raises(
        TypeError,
        match=re.escape(
            "config key 'a': expected an int, got bool True"
        ),
    ):
        config.set_integer("a", True)
    with pytest.raises(TypeError, match=re.escape("config key 'a': expected a str, got int 1")):
        config.set_string("a", 1)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "config key 'a': expected a bool, got str 'true'"
        ),
    ):
        config.set_boolean("a", "true")
    with pytest.raises(
        TypeError,
        match=re.escape(
            "config key 'a': expected a float, got str '1.0'"
        ),
    ):
        config.set_float("a", "1.0")
    with pytest.raises(
        TypeError,
        match=re.escape(
            "config key 'a': value must be a str, int, float or bool, got list [1]"
        ),
    ):
        config.set("a", [1])
    with pytest.raises(TypeError, match=re.escape("config keys are str, got 1")):
        config.set(1, "a")
    assert config.to_dict() == {}


def test_generic_get_and_set():
    config = Configuration().set("a", 1).set("b", False).set("c", "s").set("d", 0.25)

    assert config.get("a") == "1"
    assert config.get("b") == "false"
    assert config.get("c") == "s"
    assert config.get("d") == "0.25"
    assert config.get("missing") is None
    assert config.get("missing", "x") == "x"


def test_contains_remove_and_key_set():
    config = Configuration().set_string("a", "1")

    assert config.contains_key("a")
    assert not config.contains_key("b")
    assert config.remove_config("a") is True
    assert config.remove_config("a") is False
    assert config.key_set() == set()


def test_copy_constructor_does_not_share_changes():
    original = Configuration().set_string("a", "1")
    copied = Configuration(original)
    copied.set_string("a", "2")

    assert original.get_string("a", "") == "1"
    assert copied.get_string("a", "") == "2"


def test_copy_constructor_refuses_mappings():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Configuration(other) copies a Configuration, got dict; use "
            "Configuration.from_dict() for a mapping"
        ),
    ):
        Configuration({"a": "1"})


def test_from_dict_formats_values():
    config = Configuration.from_dict({"a": 1, "b": True, "c": "x", "d": 1.5})

    assert config.to_dict() == {"a": "1", "b": "true", "c": "x", "d": "1.5"}


def test_add_all_with_and_without_prefix():
    target = Configuration().set_string("a", "old")
    source = Configuration().set_string("a", "new").set_string("b", "2")

    assert target.add_all(source) is target
    assert target.to_dict() == {"a": "new", "b": "2"}
    target.add_all(source, prefix="p.")
    assert target.get_string("p.b", "") == "2"
    with pytest.raises(TypeError, match=re.escape("add_all() takes a Configuration, got dict")):
        target.add_all({"a": "1"})


def test_add_all_to_dict_and_to_dict_copies():
    config = Configuration().set_string("a", "1")
    target = {"z": "0"}
    config.add_all_to_dict(target)

    assert target == {"z": "0", "a": "1"}
    config.to_dict()["a"] = "changed"
    assert config.get_string("a", "") == "1"


def test_equality_repr_and_copies():
    one = Configuration().set_integer("a", 1)
    same = Configuration.from_dict({"a": "1"})

    assert one == same
    assert one != Configuration()
    assert one != {"a": "1"}
    assert repr(one) == "Configuration({'a': '1'})"
    assert pickle.loads(pickle.dumps(one, protocol=5)) == one
    assert copy.deepcopy(one) == one
    with pytest.raises(TypeError, match="unhashable"):
        hash(one)


def test_config_option_reads_typed_values_or_default():
    parallelism = ConfigOption("parallelism.default", 1, int, "Default parallelism of operators.")
    config = Configuration()

    assert config.get_option(parallelism) == 1
    config.set_integer("parallelism.default", 4)
    assert config.get_option(parallelism) == 4
    assert config.get_option(ConfigOption("flag", False)) is False
    assert config.set("flag", True).get_option(ConfigOption("flag", False)) is True
    assert config.set_string("ratio", "0.5").get_option(ConfigOption("ratio", 1.0)) == 0.5
    assert config.get_option(ConfigOption("name")) is None
    assert config.set_string("name", "x").get_option(ConfigOption("name")) == "x"


def test_config_option_bad_stored_value():
    option = ConfigOption("taskmanager.numberOfTaskSlots", 1)
    config = Configuration().set_string(option.key, "many")

    with pytest.raises(
        ValueError,
        match=re.escape(
            "config key 'taskmanager.numberOfTaskSlots' holds 'many', which is not an integer"
        ),
    ):
        config.get_option(option)


def test_config_option_infers_and_checks_its_type():
    assert ConfigOption("a", 1).value_type is int
    assert ConfigOption("a", True).value_type is bool
    assert ConfigOption("a").value_type is str
    as_float = ConfigOption("a", 1, float)
    assert as_float.default == 1.0
    assert isinstance(as_float.default, float)
    with pytest.raises(TypeError, match=re.escape("ConfigOption 'a': default True is not an int")):
        ConfigOption("a", True, int)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "ConfigOption 'a': value_type must be one of str, int, bool, float; got <class "
            "'list'>"
        ),
    ):
        ConfigOption("a", value_type=list)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "ConfigOption key must be a non-empty str, got ''"
        ),
    ):
        ConfigOption("")


def test_config_option_is_frozen_and_hashable():
    option = ConfigOption("a", 1, description="d")

    with pytest.raises(AttributeError):
        option.default = 2
    assert option == ConfigOption("a", 1, int, "d")
    assert len({option, ConfigOption("a", 1, int, "d")}) == 1
