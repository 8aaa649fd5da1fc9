"""State descriptors and TTL configuration (public as ``minicluster.datastream.state``).

A descriptor names a piece of keyed (or broadcast) state and says what kind it is;
the state backend creates the state object from it. Type information arguments are
accepted, as in PyFlink, and ignored: values are stored as Python objects.
"""

from __future__ import annotations

import enum
from typing import Any, Callable


class StateTtlConfig:
    """Time-to-live of state entries, in processing time.

    Built like PyFlink's: ``StateTtlConfig.new_builder(Time.seconds(1))
    .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
    .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired).build()``.
    """

    class UpdateType(enum.Enum):
        Disabled = 0
        OnCreateAndWrite = 1
        OnReadAndWrite = 2

    class StateVisibility(enum.Enum):
        ReturnExpiredIfNotCleanedUp = 0
        NeverReturnExpired = 1

    class TtlTimeCharacteristic(enum.Enum):
        ProcessingTime = 0

    def __init__(self, ttl_ms: int, update_type: "StateTtlConfig.UpdateType",
                 visibility: "StateTtlConfig.StateVisibility") -> None:
        if ttl_ms <= 0:
            raise ValueError(f"state TTL must be positive, got {ttl_ms} ms")
        self.ttl_ms = ttl_ms
        self.update_type = update_type
        self.visibility = visibility

    @staticmethod
    def new_builder(ttl: Any) -> "StateTtlConfig.Builder":
        return StateTtlConfig.Builder(ttl)

    def get_ttl(self) -> int:
        return self.ttl_ms

    def get_update_type(self) -> "StateTtlConfig.UpdateType":
        return self.update_type

    def get_state_visibility(self) -> "StateTtlConfig.StateVisibility":
        return self.visibility

    def is_enabled(self) -> bool:
        return self.update_type is not StateTtlConfig.UpdateType.Disabled

    class Builder:
        def __init__(self, ttl: Any) -> None:
            to_ms = getattr(ttl, "to_milliseconds", None)
            if to_ms is None:
                raise TypeError(f"new_builder() takes a Time or Duration, got {ttl!r}")
            self._ttl_ms = int(to_ms())
            self._update = StateTtlConfig.UpdateType.OnCreateAndWrite
            self._visibility = StateTtlConfig.StateVisibility.NeverReturnExpired

        def set_update_type(self, update_type: "StateTtlConfig.UpdateType"):
            self._update = update_type
            return self

        def update_ttl_on_create_and_write(self):
            return self.set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)

        def update_ttl_on_read_and_write(self):
            return self.set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite)

        def set_state_visibility(self, visibility: "StateTtlConfig.StateVisibility"):
            self._visibility = visibility
            return self

        def never_return_expired(self):
            return self.set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)

        def return_expired_if_not_cleaned_up(self):
            return self.set_state_visibility(
                StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp
            )

        def set_ttl(self, ttl: Any):
            self._ttl_ms = int(ttl.to_milliseconds())
            return self

        def set_ttl_time_characteristic(self, characteristic: Any):
            return self

        def cleanup_full_snapshot(self):
            return self

        def cleanup_incrementally(self, *args: Any):
            return self

        def cleanup_in_rocksdb_compact_filter(self, *args: Any):
            return self

        def disable_cleanup_in_background(self):
            return self

        def build(self) -> "StateTtlConfig":
            return StateTtlConfig(self._ttl_ms, self._update, self._visibility)


class StateDescriptor:
    """Base of the descriptors; ``kind`` tells the backend which state to build."""

    kind = "value"

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a state descriptor needs a non-empty name, got {name!r}")
        self.name = name
        self.ttl_config: StateTtlConfig | None = None

    def get_name(self) -> str:
        return self.name

    def enable_time_to_live(self, ttl_config: StateTtlConfig) -> None:
        if not isinstance(ttl_config, StateTtlConfig):
            raise TypeError(f"enable_time_to_live() takes a StateTtlConfig, got {ttl_config!r}")
        self.ttl_config = ttl_config

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class ValueStateDescriptor(StateDescriptor):
    kind = "value"

    def __init__(self, name: str, value_type_info: Any = None) -> None:
        super().__init__(name)


class ListStateDescriptor(StateDescriptor):
    kind = "list"

    def __init__(self, name: str, elem_type_info: Any = None) -> None:
        super().__init__(name)


class MapStateDescriptor(StateDescriptor):
    kind = "map"

    def __init__(self, name: str, key_type_info: Any = None, value_type_info: Any = None) -> None:
        super().__init__(name)


class ReducingStateDescriptor(StateDescriptor):
    kind = "reducing"

    def __init__(self, name: str, reduce_function: Any, type_info: Any = None) -> None:
        super().__init__(name)
        reduce = getattr(reduce_function, "reduce", reduce_function)
        if not callable(reduce):
            raise TypeError(f"ReducingStateDescriptor needs a ReduceFunction, got {reduce_function!r}")
        self.reduce_function = reduce_function

    def reducer(self) -> Callable[[Any, Any], Any]:
        return getattr(self.reduce_function, "reduce", self.reduce_function)


class AggregatingStateDescriptor(StateDescriptor):
    kind = "aggregating"

    def __init__(self, name: str, agg_function: Any, state_type_info: Any = None) -> None:
        super().__init__(name)
        for method in ("create_accumulator", "add", "get_result"):
            if not callable(getattr(agg_function, method, None)):
                raise TypeError(
                    f"AggregatingStateDescriptor needs an AggregateFunction with {method}(), "
                    f"got {agg_function!r}"
                )
        self.agg_function = agg_function


__all__ = [
    "AggregatingStateDescriptor",
    "ListStateDescriptor",
    "MapStateDescriptor",
    "ReducingStateDescriptor",
    "StateDescriptor",
    "StateTtlConfig",
    "ValueStateDescriptor",
]
