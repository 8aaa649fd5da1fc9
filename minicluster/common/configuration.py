"""``Configuration``: string key/value settings, as Flink's, plus typed ``ConfigOption``.

Values are stored as strings, the form they take in a YAML file, an environment
variable or a command-line flag, and parsed when read: ``set_integer('a', 2)`` then
``get_string('a', '') == '2'``, and ``get_integer`` of a value that is not an integer
raises ``ValueError`` naming the key and the value. Booleans are written ``true`` /
``false`` (Java's spelling) and read case-insensitively.

Setters return the configuration, as PyFlink's do, so calls chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Mapping, TypeVar

__all__ = ["ConfigOption", "Configuration"]

T = TypeVar("T")

_OPTION_TYPES = (str, int, bool, float)
_A_TYPE = {str: "a str", int: "an int", bool: "a bool", float: "a float"}


@dataclass(frozen=True, slots=True)
class ConfigOption(Generic[T]):
    """A typed setting: its key, default, value type and what it controls.

    Args:
        key: the configuration key, e.g. ``"parallelism.default"``.
        default: the value when the key is not set (``None``: no default).
        value_type: one of ``str``, ``int``, ``bool``, ``float``; inferred from
            ``default`` when omitted (``str`` when there is no default either).
        description: one line for users, shown in docs and ``--help``.

    Raises:
        ValueError: if ``key`` is empty.
        TypeError: if ``value_type`` is unsupported or ``default`` does not fit it.
    """

    key: str
    default: T | None = None
    value_type: type | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"ConfigOption key must be a non-empty str, got {self.key!r}")
        value_type = self.value_type
        if value_type is None:
            value_type = str if self.default is None else type(self.default)
            object.__setattr__(self, "value_type", value_type)
        if value_type not in _OPTION_TYPES:
            raise TypeError(
                f"ConfigOption {self.key!r}: value_type must be one of str, int, bool, "
                f"float; got {value_type!r}"
            )
        default = self.default
        if default is None:
            return
        if value_type is float and _is_int(default):
            object.__setattr__(self, "default", float(default))
        elif type(default) is not value_type:
            raise TypeError(
                f"ConfigOption {self.key!r}: default {default!r} is not "
                f"{_A_TYPE[value_type]}"
            )


class Configuration:
    """A mutable map of string settings, as Flink's ``Configuration``.

    Args:
        other: a configuration to copy; the copy does not share later changes.

    Raises:
        TypeError: if ``other`` is not a Configuration (use ``from_dict`` for a
            mapping).
    """

    __hash__ = None  # type: ignore[assignment]  # mutable, so not hashable

    def __init__(self, other: Configuration | None = None) -> None:
        if other is not None and not isinstance(other, Configuration):
            raise TypeError(
                f"Configuration(other) copies a Configuration, got {type(other).__name__}; "
                f"use Configuration.from_dict() for a mapping"
            )
        self._data: dict[str, str] = {} if other is None else dict(other._data)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Configuration:
        """Builds a configuration from ``{key: value}``; values are formatted as by ``set``."""
        config = cls()
        for key, value in mapping.items():
            config.set(key, value)
        return config

    def get_string(self, key: str, default_value: str) -> str:
        """Returns the value of ``key``, or ``default_value`` when it is not set."""
        return self._data.get(key, default_value)

    def set_string(self, key: str, value: str) -> Configuration:
        """Sets ``key`` to a string.

        Raises:
            TypeError: if ``value`` is not a ``str`` (use ``set`` to format others).
        """
        return self._put(key, value, str)

    def get_integer(self, key: str, default_value: int) -> int:
        """Returns the value of ``key`` as an int, or ``default_value`` when unset.

        Raises:
            ValueError: if the value is not an integer.
        """
        raw = self._data.get(key)
        return default_value if raw is None else _parse_int(key, raw)

    def set_integer(self, key: str, value: int) -> Configuration:
        """Sets ``key`` to an integer.

        Raises:
            TypeError: if ``value`` is not an ``int`` (``bool`` is refused).
        """
        return self._put(key, value, int)

    def get_boolean(self, key: str, default_value: bool) -> bool:
        """Returns the value of ``key`` as a bool, or ``default_value`` when unset.

        Raises:
            ValueError: if the value is not ``true`` or ``false`` (any case).
        """
        raw = self._data.get(key)
        return default_value if raw is None else _parse_bool(key, raw)

    def set_boolean(self, key: str, value: bool) -> Configuration:
        """Sets ``key`` to ``true`` or ``false``.

        Raises:
            TypeError: if ``value`` is not a ``bool``.
        """
        return self._put(key, value, bool)

    def get_float(self, key: str, default_value: float) -> float:
        """Returns the value of ``key`` as a float, or ``default_value`` when unset.

        Raises:
            ValueError: if the value is not a number.
        """
        raw = self._data.get(key)
        return default_value if raw is None else _parse_float(key, raw)

    def set_float(self, key: str, value: float) -> Configuration:
        """Sets ``key`` to a float (an ``int`` is accepted).

        Raises:
            TypeError: if ``value`` is not a number.
        """
        return self._put(key, value, float)

    def get(self, key: str, default: str | None = None) -> str | None:
        """Returns the stored string of ``key``, or ``default`` when it is not set."""
        return self._data.get(key, default)

    def set(self, key: str, value: str | int | float | bool) -> Configuration:
        """Sets ``key`` from a str, int, float or bool, formatted as its setter would.

        Raises:
            TypeError: for any other type of value.
        """
        value_type = str if isinstance(value, str) else type(value)
        if value_type not in _OPTION_TYPES:
            raise TypeError(
                f"config key {key!r}: value must be a str, int, float or bool, got "
                f"{type(value).__name__} {value!r}"
            )
        return self._put(key, value, value_type)

    def get_option(self, option: ConfigOption[T]) -> T | None:
        """Returns the value of ``option`` parsed to its type, or its default.

        Raises:
            ValueError: if the stored value does not parse as the option's type.
        """
        raw = self._data.get(option.key)
        if raw is None:
            return option.default
        return _PARSERS[option.value_type](option.key, raw)

    def contains_key(self, key: str) -> bool:
        """Returns whether ``key`` is set."""
        return key in self._data

    def remove_config(self, key: str) -> bool:
        """Removes ``key``; returns whether it was set."""
        return self._data.pop(key, None) is not None

    def key_set(self) -> set[str]:
        """Returns the set keys (a new set)."""
        return set(self._data)

    def to_dict(self) -> dict[str, str]:
        """Returns the settings as a new ``{key: string value}`` dict."""
        return dict(self._data)

    def add_all_to_dict(self, target_dict: dict[str, str]) -> None:
        """Copies every setting into ``target_dict``."""
        target_dict.update(self._data)

    def add_all(self, other: Configuration, prefix: str | None = None) -> Configuration:
        """Copies every setting of ``other`` here, keys prefixed with ``prefix``.

        Raises:
            TypeError: if ``other`` is not a Configuration.
        """
        if not isinstance(other, Configuration):
            raise TypeError(f"add_all() takes a Configuration, got {type(other).__name__}")
        prefix = prefix or ""
        self._data.update((prefix + key, value) for key, value in other._data.items())
        return self

    def _put(self, key: str, value: Any, value_type: type) -> Configuration:
        if not isinstance(key, str):
            raise TypeError(f"config keys are str, got {key!r}")
        if not _ACCEPTS[value_type](value):
            raise TypeError(
                f"config key {key!r}: expected {_A_TYPE[value_type]}, got "
                f"{type(value).__name__} {value!r}"
            )
        self._data[key] = _FORMATTERS[value_type](value)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configuration):
            return NotImplemented
        return self._data == other._data

    def __repr__(self) -> str:
        return f"Configuration({self._data!r})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_int(key: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"config key {key!r} holds {raw!r}, which is not an integer") from None


def _parse_float(key: str, raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError(f"config key {key!r} holds {raw!r}, which is not a number") from None


def _parse_bool(key: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(f"config key {key!r} holds {raw!r}, which is not 'true' or 'false'")


_ACCEPTS: dict[type, Callable[[Any], bool]] = {
    str: lambda value: isinstance(value, str),
    int: _is_int,
    bool: lambda value: isinstance(value, bool),
    float: lambda value: _is_int(value) or isinstance(value, float),
}

_PARSERS: dict[type, Callable[[str, str], Any]] = {
    str: lambda key, raw: raw,
    int: _parse_int,
    bool: _parse_bool,
    float: _parse_float,
}

_FORMATTERS: dict[type, Callable[[Any], str]] = {
    str: str,
    int: str,
    bool: lambda value: "true" if value else "false",
    float: lambda value: repr(float(value)),
}
