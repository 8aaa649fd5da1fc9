"""The contexts the window operator hands to user code.

One object of each kind per operator, re-pointed at the current key and window before
each call (Flink does the same): the trigger's context (timers and state of the key
and window), the window function's context (window, time, per-window and global
state, side outputs), the assigner's and the evictor's. Timers are registered with the
window as their namespace, so a firing timer names its window.
"""

from __future__ import annotations

from typing import Any

from minicluster._functions.window import (
    KeyedStateStore,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
)
from minicluster.operators.window.assigners import WindowAssigner
from minicluster.operators.window.evictors import Evictor
from minicluster.operators.window.triggers import Trigger

_KINDS = {
    "get_state": "value",
    "get_list_state": "list",
    "get_map_state": "map",
    "get_reducing_state": "reducing",
    "get_aggregating_state": "aggregating",
}


class TriggerContext(Trigger.OnMergeContext):
    """``ctx`` of every trigger call; ``window`` is the pane's window and
    ``merged_windows`` is set only during ``on_merge``."""

    __slots__ = ("_backend", "_timers", "window", "merged_windows")

    def __init__(self, backend: Any, timers: Any) -> None:
        self._backend = backend
        self._timers = timers
        self.window: Any = None
        self.merged_windows: list | None = None

    def get_current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def get_current_watermark(self) -> int:
        return self._timers.current_watermark

    current_processing_time = get_current_processing_time
    current_watermark = get_current_watermark

    def register_processing_time_timer(self, time: int) -> None:
        self._timers.register_processing_time_timer(time, self.window)

    def register_event_time_timer(self, time: int) -> None:
        self._timers.register_event_time_timer(time, self.window)

    def delete_processing_time_timer(self, time: int) -> None:
        self._timers.delete_processing_time_timer(time, self.window)

    def delete_event_time_timer(self, time: int) -> None:
        self._timers.delete_event_time_timer(time, self.window)

    def get_partitioned_state(self, state_descriptor: Any) -> Any:
        state = self._backend.get_state(state_descriptor)
        state.set_current_namespace(self.window)
        return state

    def merge_partitioned_state(self, state_descriptor: Any) -> None:
        if self.merged_windows:
            state = self._backend.get_state(state_descriptor)
            state.merge_namespaces(self.window, self.merged_windows)
            state.set_current_namespace(self.window)


class _StateStore(KeyedStateStore):
    """Keyed state getters bound to one namespace (a window, or None for global)."""

    __slots__ = ("_backend", "namespace", "_where")

    def __init__(self, backend: Any, where: str) -> None:
        self._backend = backend
        self.namespace: Any = None
        self._where = where

    def _get(self, descriptor: Any, method: str) -> Any:
        kind = _KINDS[method]
        if getattr(descriptor, "kind", None) != kind:
            raise TypeError(
                f"{self._where}.{method}() needs a {kind} state descriptor, got {descriptor!r}"
            )
        state = self._backend.get_state(descriptor)
        state.set_current_namespace(self.namespace)
        return state

    def get_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "get_state")

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "get_list_state")

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "get_map_state")

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "get_reducing_state")

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "get_aggregating_state")


class WindowFunctionContext(ProcessWindowFunction.Context, ProcessAllWindowFunction.Context):
    """``context`` of ``ProcessWindowFunction.process``/``clear`` (and of the
    ``window_all`` variant)."""

    def __init__(self, backend: Any, timers: Any, emitter: Any, merging: bool) -> None:
        self._timers = timers
        self._emitter = emitter
        self._merging = merging
        self._window: Any = None
        self._window_store = _StateStore(backend, "window_state()")
        self._global_store = _StateStore(backend, "global_state()")

    def set_window(self, window: Any) -> None:
        self._window = window

    def window(self) -> Any:
        return self._window

    def current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def current_watermark(self) -> int:
        return self._timers.current_watermark

    def window_state(self) -> KeyedStateStore:
        if self._merging:
            raise RuntimeError(
                "per-window state (window_state()) is not supported with merging windows "
                "(sessions), as in Flink: a merged window has no single namespace; use "
                "global_state() instead"
            )
        self._window_store.namespace = self._window
        return self._window_store

    def global_state(self) -> KeyedStateStore:
        return self._global_store

    def output(self, output_tag: Any, value: Any) -> None:
        self._emitter.side.add(output_tag, value, self._window.max_timestamp())


class AssignerContext(WindowAssigner.WindowAssignerContext):
    __slots__ = ("_processing_time", "_runtime_context")

    def __init__(self, processing_time: Any, runtime_context: Any) -> None:
        self._processing_time = processing_time
        self._runtime_context = runtime_context

    def get_current_processing_time(self) -> int:
        return self._processing_time.current_processing_time()

    def get_runtime_context(self) -> Any:
        return self._runtime_context


class EvictorContext(Evictor.EvictorContext):
    __slots__ = ("_timers",)

    def __init__(self, timers: Any) -> None:
        self._timers = timers

    def get_current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def get_current_watermark(self) -> int:
        return self._timers.current_watermark
