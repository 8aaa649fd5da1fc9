"""The heap keyed state backend: state in dicts, grouped by key group.

    tables[state name][key group][(key, namespace)] -> value

Every entry lives under the key group of its key, so a later checkpoint can snapshot
(and a rescale can move) whole key groups. ``set_current_key`` is called once per
record by the keyed operators; the state objects then read and write the entry of the
current key (and of their current namespace: windows use the window as namespace,
everything else the ``None`` namespace).

TTL (processing time): with a ``StateTtlConfig`` on the descriptor, each stored unit
(a value, a list element, a map entry) carries the time it was last written (or read,
with ``OnReadAndWrite``); an expired unit is dropped when it is next touched and, with
``NeverReturnExpired``, never returned.
"""

from __future__ import annotations

import abc
import time
from typing import Any, Callable, Iterable, Iterator

from minicluster.state.descriptors import StateDescriptor, StateTtlConfig
from minicluster.state.key_groups import KeyGroupRange, cache_bounded, key_group_for


class KeyedStateBackend(abc.ABC):
    """What keyed operators need from a state backend (heap today, on-disk later)."""

    @abc.abstractmethod
    def set_current_key(self, key: Any) -> None: ...

    @abc.abstractmethod
    def get_current_key(self) -> Any: ...

    @abc.abstractmethod
    def get_state(self, descriptor: StateDescriptor) -> "KeyedState": ...

    @abc.abstractmethod
    def key_groups(self) -> KeyGroupRange: ...


class HeapKeyedStateBackend(KeyedStateBackend):
    def __init__(
        self,
        max_parallelism: int,
        key_group_range: KeyGroupRange,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_parallelism = max_parallelism
        self._range = key_group_range
        self.clock = clock
        self.tables: dict[str, dict[int, dict]] = {}
        self._states: dict[str, KeyedState] = {}
        self._group_of: dict = {}
        self.current_key: Any = None
        self.current_group = 0

    def set_current_key(self, key: Any) -> None:
        self.current_key = key
        try:
            self.current_group = self._group_of[key]
        except (KeyError, TypeError):
            group = key_group_for(key, self.max_parallelism)
            cache_bounded(self._group_of, key, group)
            self.current_group = group

    def get_current_key(self) -> Any:
        return self.current_key

    def discard_key(self, key: Any) -> None:
        """Drop every state entry of ``key`` (of every state, in the ``None`` namespace:
        keyed process functions); ``key`` becomes the current key. BATCH keyed operators
        on key-grouped input call it when a key's records end: that key never comes
        back, so its state is garbage, and memory holds one key's state at a time (as
        Flink's batch state backend, which keeps only the current key's)."""
        self.set_current_key(key)
        entry, group = (key, None), self.current_group
        for table in self.tables.values():
            entries = table.get(group)
            if entries is not None:
                entries.pop(entry, None)

    def key_groups(self) -> KeyGroupRange:
        return self._range

    def get_state(self, descriptor: StateDescriptor) -> "KeyedState":
        existing = self._states.get(descriptor.name)
        if existing is not None:
            if existing.descriptor.kind != descriptor.kind:
                raise ValueError(
                    f"state {descriptor.name!r} is already registered as {existing.descriptor.kind} "
                    f"state; it cannot also be {descriptor.kind} state"
                )
            return existing
        state_class = _STATE_CLASSES[descriptor.kind]
        state = state_class(self, descriptor, self.tables.setdefault(descriptor.name, {}))
        self._states[descriptor.name] = state
        return state

    def keys(self, state_name: str, namespace: Any = None) -> Iterator[Any]:
        """Keys that hold an entry of ``state_name`` in ``namespace``."""
        for group in self.tables.get(state_name, {}).values():
            for key, ns in list(group):
                if ns == namespace:
                    yield key


class KeyedState:
    """State of the current key (and namespace) of one descriptor."""

    def __init__(self, backend: HeapKeyedStateBackend, descriptor: StateDescriptor, table: dict):
        self.backend = backend
        self.descriptor = descriptor
        self._table = table
        self.namespace: Any = None
        ttl = descriptor.ttl_config
        self._ttl_ms = ttl.ttl_ms if ttl is not None and ttl.is_enabled() else None
        self._touch_on_read = (
            ttl is not None and ttl.update_type is StateTtlConfig.UpdateType.OnReadAndWrite
        )
        self._return_expired = (
            ttl is not None
            and ttl.visibility is StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp
        )

    def set_current_namespace(self, namespace: Any) -> None:
        self.namespace = namespace

    def _entries(self) -> dict:
        backend = self.backend
        group = self._table.get(backend.current_group)
        if group is None:
            group = self._table[backend.current_group] = {}
        return group

    def current_group_entries(self) -> dict:
        """The ``(key, namespace) -> stored value`` dict of the current key's key group
        (created if missing), for an operator that updates the entries of a whole batch
        at once (the window operator's batch path). A stored value is what this kind of
        state keeps: the value, the list, the accumulator (wrapped only with TTL)."""
        return self._entries()

    def entries_of_key(self, key: Any) -> dict:
        """``set_current_key(key)`` then ``current_group_entries()``, in one call (for
        the window operator's batch path, which switches keys at every pane)."""
        backend = self.backend
        try:  # set_current_key's cached case, inlined
            group_id = backend._group_of[key]
        except (KeyError, TypeError):
            backend.set_current_key(key)
            group_id = backend.current_group
        else:
            backend.current_key = key
            backend.current_group = group_id
        group = self._table.get(group_id)
        if group is None:
            group = self._table[group_id] = {}
        return group

    def _entry_key(self) -> tuple:
        return (self.backend.current_key, self.namespace)

    def _raw(self) -> Any:
        """The stored unit of the current key and namespace, or None. One call (a
        keyed function typically reads its state once per record); a read does not
        create the key group's dict."""
        backend = self.backend
        group = self._table.get(backend.current_group)
        return None if group is None else group.get((backend.current_key, self.namespace))

    def _store(self, stored: Any) -> None:
        self._entries()[self._entry_key()] = stored

    def clear(self) -> None:
        self._entries().pop(self._entry_key(), None)

    # -- TTL: a stored unit is (value, last_access_ms) when TTL is on --------------------

    def _wrap(self, value: Any) -> Any:
        if self._ttl_ms is None:
            return value
        return (value, int(self.backend.clock() * 1000))

    def _unwrap(self, stored: Any) -> tuple[bool, Any]:
        """``(alive, value)`` of a stored unit."""
        if self._ttl_ms is None:
            return True, stored
        value, written = stored
        if int(self.backend.clock() * 1000) - written >= self._ttl_ms:
            return self._return_expired, value
        return True, value

    def _is_expired(self, stored: Any) -> bool:
        return self._ttl_ms is not None and (
            int(self.backend.clock() * 1000) - stored[1] >= self._ttl_ms
        )

    def _read_single(self) -> Any:
        """The value of a state holding one unit (value, reducing, aggregating), TTL
        applied with one reading of the clock. An expired unit is dropped and returned
        only with ``ReturnExpiredIfNotCleanedUp`` (so an ``add`` folds into it then,
        as Flink's ``getUnexpired`` does)."""
        stored = self._raw()
        if stored is None:
            return None
        if self._ttl_ms is None:
            return stored
        value, written = stored
        now = int(self.backend.clock() * 1000)
        if now - written >= self._ttl_ms:
            self.clear()
            return value if self._return_expired else None
        if self._touch_on_read:
            self._store((value, now))
        return value

    # -- merging (session windows) -------------------------------------------------------

    def merge_namespaces(self, target: Any, sources: Iterable[Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot merge namespaces")

    def _merge_single_values(
        self, target: Any, sources: Iterable[Any], combine: Callable[[Any, Any], Any]
    ) -> None:
        """Fold the values of ``sources`` into ``target`` (states holding one value)."""
        entries, key = self._entries(), self.backend.current_key
        merged = entries.get((key, target))
        for source in sources:
            if source == target:
                continue
            other = entries.pop((key, source), None)
            if other is not None:
                merged = other if merged is None else self._wrap(
                    combine(self._unwrap(merged)[1], self._unwrap(other)[1])
                )
        if merged is not None:
            entries[(key, target)] = merged


class ValueState(KeyedState):
    """One value per key and namespace. Without TTL the stored unit is the value
    itself, so ``value``/``update`` are bound at creation to paths without the TTL
    layer (``_raw``, ``_update_without_ttl``): one call per read instead of four."""

    def __init__(self, backend: HeapKeyedStateBackend, descriptor: StateDescriptor, table: dict):
        super().__init__(backend, descriptor, table)
        if self._ttl_ms is None:  # the stored unit is the value itself: no TTL layer
            self.value = self._raw
            self.update = self._update_without_ttl

    def value(self) -> Any:
        return self._read_single()

    def update(self, value: Any) -> None:
        if value is None:
            self.clear()
        else:
            self._store(self._wrap(value))

    def _update_without_ttl(self, value: Any) -> None:
        """``update(value)`` when TTL is off: nothing to wrap."""
        if value is None:
            self.clear()
        else:
            self._entries()[(self.backend.current_key, self.namespace)] = value


class ListState(KeyedState):
    def _live(self) -> list:
        stored = self._raw()
        if not stored:
            return []
        if self._ttl_ms is None:
            return stored
        kept = [unit for unit in stored if not self._is_expired(unit)]
        visible = stored if self._return_expired else kept
        if len(kept) != len(stored):
            if kept:
                self._store(kept)
            else:
                self.clear()
        if self._touch_on_read and kept:
            self._store([self._wrap(v) for v, _ in kept])
        return [value for value, _ in visible]

    def get(self) -> list:
        return list(self._live())

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError(f"cannot add None to list state {self.descriptor.name!r}")
        entries, key = self._entries(), self._entry_key()
        stored = entries.get(key)
        if stored is None:
            entries[key] = [self._wrap(value)]
        else:
            stored.append(self._wrap(value))

    def add_all(self, values: Iterable[Any]) -> None:
        for value in values:
            self.add(value)

    def update(self, values: Iterable[Any]) -> None:
        values = list(values)
        if any(value is None for value in values):  # checked first: all or nothing
            raise ValueError(f"cannot add None to list state {self.descriptor.name!r}")
        items = [self._wrap(v) for v in values]
        if items:
            self._store(items)
        else:
            self.clear()

    def merge_namespaces(self, target: Any, sources: Iterable[Any]) -> None:
        entries, key = self._entries(), self.backend.current_key
        merged = entries.get((key, target)) or []
        for source in sources:
            if source != target:
                merged.extend(entries.pop((key, source), None) or [])
        if merged:
            entries[(key, target)] = merged


class MapState(KeyedState):
    def _map(self, create: bool = False) -> dict | None:
        entries, key = self._entries(), self._entry_key()
        stored = entries.get(key)
        if stored is None and create:
            stored = entries[key] = {}
        return stored

    def _alive_items(self) -> list[tuple[Any, Any]]:
        stored = self._map()
        if not stored:
            return []
        if self._ttl_ms is None:
            return list(stored.items())
        items = []
        for k, unit in list(stored.items()):
            if self._is_expired(unit):
                del stored[k]
                if self._return_expired:
                    items.append((k, unit[0]))
            else:
                if self._touch_on_read:  # iterating reads each entry, as Flink's TtlMapState
                    stored[k] = self._wrap(unit[0])
                items.append((k, unit[0]))
        if not stored:
            self.clear()
        return items

    def get(self, key: Any) -> Any:
        stored = self._map()
        if not stored or key not in stored:
            return None
        unit = stored[key]
        alive, value = self._unwrap(unit)
        if self._is_expired(unit):
            del stored[key]
            if not stored:
                self.clear()
        elif self._touch_on_read:
            stored[key] = self._wrap(value)
        return value if alive else None

    def put(self, key: Any, value: Any) -> None:
        self._map(create=True)[key] = self._wrap(value)

    def put_all(self, mapping: dict) -> None:
        for key, value in mapping.items():
            self.put(key, value)

    def remove(self, key: Any) -> None:
        stored = self._map()
        if stored is not None:
            stored.pop(key, None)
            if not stored:
                self.clear()

    def contains(self, key: Any) -> bool:
        stored = self._map()
        if not stored or key not in stored:
            return False
        if self._ttl_ms is None:
            return True
        unit = stored[key]
        if self._is_expired(unit):
            del stored[key]
            if not stored:
                self.clear()
            return self._return_expired
        if self._touch_on_read:
            stored[key] = self._wrap(unit[0])
        return True  # a live entry, whatever its value (None included)

    def items(self) -> list[tuple[Any, Any]]:
        return self._alive_items()

    def keys(self) -> list[Any]:
        return [k for k, _ in self._alive_items()]

    def values(self) -> list[Any]:
        return [v for _, v in self._alive_items()]

    def is_empty(self) -> bool:
        return not self._alive_items()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())


class ReducingState(KeyedState):
    def __init__(self, backend: HeapKeyedStateBackend, descriptor: StateDescriptor, table: dict):
        super().__init__(backend, descriptor, table)
        self._reduce = descriptor.reducer()

    def get(self) -> Any:
        return self._read_single()

    def add(self, value: Any) -> None:
        current = self._read_single()
        self._store(self._wrap(value if current is None else self._reduce(current, value)))

    def merge_namespaces(self, target: Any, sources: Iterable[Any]) -> None:
        self._merge_single_values(target, sources, self._reduce)


class AggregatingState(KeyedState):
    """Keeps an accumulator; ``get`` returns ``get_result(accumulator)``."""

    def __init__(self, backend: HeapKeyedStateBackend, descriptor: StateDescriptor, table: dict):
        super().__init__(backend, descriptor, table)
        self._function = descriptor.agg_function

    def _accumulator(self) -> Any:
        return self._read_single()

    def get(self) -> Any:
        accumulator = self._accumulator()
        return None if accumulator is None else self._function.get_result(accumulator)

    def add(self, value: Any) -> None:
        accumulator = self._read_single()
        if accumulator is None:
            accumulator = self._function.create_accumulator()
        self._store(self._wrap(self._function.add(value, accumulator)))

    def merge_namespaces(self, target: Any, sources: Iterable[Any]) -> None:
        self._merge_single_values(target, sources, self._function.merge)


_STATE_CLASSES: dict[str, type[KeyedState]] = {
    "value": ValueState,
    "list": ListState,
    "map": MapState,
    "reducing": ReducingState,
    "aggregating": AggregatingState,
}
