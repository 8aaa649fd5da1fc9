"""Broadcast state and the operators of ``ds.connect(rules.broadcast(descriptor))``
(Flink's ``CoBroadcastWithNonKeyedOperator`` and ``CoBroadcastWithKeyedOperator``).

    input 0: the other stream (any partitioning)  --> process_element(value, ReadOnlyContext)
    input 1: the broadcast stream (BROADCAST)     --> process_broadcast_element(value, Context)

Every parallel subtask keeps its own broadcast state: one ``BroadcastState`` (a dict)
per ``MapStateDescriptor`` given to ``broadcast(...)``. Only the broadcast side may
write it; the other side sees a ``ReadOnlyBroadcastState`` over the same dict. Since
every subtask receives every broadcast record, in the order its producer sent them,
subtasks that update their state only from broadcast records hold the same state once
they have seen the same broadcast records.

What Flink does not promise, neither do we: the two inputs race. A record of the
other stream may be processed before, between or after the broadcast records, and
not at the same point on every subtask.
"""

from __future__ import annotations

from typing import Any, Iterable

from minicluster._functions.base import close_function, open_function, resolve_function
from minicluster._functions.process import TimerService
from minicluster._functions.simple import KeySelector
from minicluster._functions.two_input import (
    BroadcastProcessFunction,
    KeyedBroadcastProcessFunction,
)
from minicluster._output_tag import OutputTag
from minicluster.network.events import MIN_WATERMARK
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.co_operators import NonKeyedTimerService
from minicluster.operators.simple import Emitter


class ReadOnlyBroadcastState:
    """A read-only view of a broadcast state (``ctx.get_broadcast_state`` in
    ``process_element``).

    ``items``/``keys``/``values`` are live views (nothing can change the state while
    ``process_element`` runs). Values are not copied: do not modify what ``get`` or
    ``items`` return, or this subtask's state drifts from the others'.
    """

    __slots__ = ("_name", "_entries")

    def __init__(self, name: str, entries: dict) -> None:
        self._name = name
        self._entries = entries

    def get(self, key: Any) -> Any:
        """The value of ``key``, or None."""
        return self._entries.get(key)

    def contains(self, key: Any) -> bool:
        return key in self._entries

    def items(self) -> Iterable[tuple[Any, Any]]:
        return self._entries.items()

    def keys(self) -> Iterable[Any]:
        return self._entries.keys()

    def values(self) -> Iterable[Any]:
        return self._entries.values()

    def is_empty(self) -> bool:
        return not self._entries

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __contains__(self, key: Any) -> bool:
        return key in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, {len(self._entries)} entries)"

    # -- writes: only the broadcast side may write ------------------------------------

    def _read_only(self, method: str) -> None:
        raise TypeError(
            f"ReadOnlyBroadcastState.{method}(): broadcast state {self._name!r} is "
            "read-only in process_element(); update it in process_broadcast_element(), "
            "which every parallel instance receives, so that all instances keep the "
            "same state"
        )

    def put(self, key: Any, value: Any) -> None:
        self._read_only("put")

    def put_all(self, dict_value: dict) -> None:
        self._read_only("put_all")

    def remove(self, key: Any) -> None:
        self._read_only("remove")

    def clear(self) -> None:
        self._read_only("clear")

    def __setitem__(self, key: Any, value: Any) -> None:
        self._read_only("__setitem__")

    def __delitem__(self, key: Any) -> None:
        self._read_only("__delitem__")


class BroadcastState(ReadOnlyBroadcastState):
    """A subtask's broadcast state for one ``MapStateDescriptor`` (writable from
    ``process_broadcast_element``)."""

    __slots__ = ("read_only",)

    def __init__(self, name: str) -> None:
        super().__init__(name, {})
        self.read_only = ReadOnlyBroadcastState(name, self._entries)

    # Snapshots, so that the broadcast side may update the state while iterating it.
    def items(self) -> list[tuple[Any, Any]]:
        return list(self._entries.items())

    def keys(self) -> list[Any]:
        return list(self._entries)

    def values(self) -> list[Any]:
        return list(self._entries.values())

    def __iter__(self):
        return iter(list(self._entries))

    def put(self, key: Any, value: Any) -> None:
        self._entries[key] = value

    def put_all(self, dict_value: dict) -> None:
        self._entries.update(dict_value)

    def remove(self, key: Any) -> None:
        """Delete ``key``'s mapping (nothing happens when there is none)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __setitem__(self, key: Any, value: Any) -> None:
        self._entries[key] = value

    def __delitem__(self, key: Any) -> None:
        self._entries.pop(key, None)


def _timers_not_wired(method: str, operator_name: str) -> BaseException:
    return NotImplementedError(
        f"TimerService.{method}() in a KeyedBroadcastProcessFunction (operator "
        f"{operator_name!r}): timers and keyed state are not wired into broadcast "
        "operators yet"
    )


class _ContextImpl:
    """What every broadcast context does; ``_states`` holds writable states or
    read-only views, depending on the side."""

    def __init__(self, operator: "BroadcastOperatorBase", states: dict) -> None:
        self._operator = operator
        self._states = states
        self._timestamp: int | None = None

    def timestamp(self) -> int | None:
        return self._timestamp

    def current_processing_time(self) -> int:
        return self._operator.current_processing_time()

    def current_watermark(self) -> int:
        return self._operator.current_watermark

    def get_broadcast_state(self, state_descriptor: Any) -> Any:
        get_name = getattr(state_descriptor, "get_name", None)
        if get_name is None:
            raise TypeError(
                f"get_broadcast_state() takes a MapStateDescriptor, got {state_descriptor!r}"
            )
        state = self._states.get(get_name())
        if state is None:
            raise ValueError(
                f"broadcast state {get_name()!r} does not exist in operator "
                f"{self._operator.name!r}; the stream was broadcast with "
                f"{sorted(self._states)}: pass its MapStateDescriptor to "
                "DataStream.broadcast(...), or check the name for typos"
            )
        return state

    def output(self, output_tag: OutputTag, value: object) -> None:
        self._operator._emitter.side.add(output_tag, value, self._timestamp)


class _Context(_ContextImpl, BroadcastProcessFunction.Context):
    pass


class _ReadOnlyContext(_ContextImpl, BroadcastProcessFunction.ReadOnlyContext):
    pass


class _KeyedContext(_ContextImpl, KeyedBroadcastProcessFunction.Context):
    pass


class _KeyedReadOnlyContext(_ContextImpl, KeyedBroadcastProcessFunction.ReadOnlyContext):
    def __init__(self, operator: "BroadcastOperatorBase", states: dict) -> None:
        super().__init__(operator, states)
        self._current_key: Any = None
        self._timer_service = NonKeyedTimerService(operator, _timers_not_wired)

    def get_current_key(self) -> Any:
        return self._current_key

    def timer_service(self) -> TimerService:
        return self._timer_service


class BroadcastOperatorBase(StreamOperator):
    """Input 0 calls ``process_element`` with read-only state, input 1
    ``process_broadcast_element`` with writable state."""

    kind: type = BroadcastProcessFunction
    current_watermark = MIN_WATERMARK

    def __init__(self, function: object, state_names: Iterable[str]) -> None:
        if not isinstance(function, self.kind):
            raise TypeError(
                f"{type(self).__name__} runs a {self.kind.__name__}, "
                f"got {type(function).__name__}: {function!r}"
            )
        self.function = function
        self.state_names = tuple(dict.fromkeys(state_names))

    def open(self, ctx: OperatorContext) -> None:
        self._processing_time = ctx.processing_time
        self.states = {name: BroadcastState(name) for name in self.state_names}
        self._emitter = Emitter()
        self._calls = (self.function.process_element, self.function.process_broadcast_element)
        open_function(self.function, ctx.runtime_context)

    def close(self) -> None:
        close_function(self.function)

    def current_processing_time(self) -> int:
        return self._processing_time.current_processing_time()

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self._emitter.run_per_record(
            self.output, values, timestamps,
            self._calls[input_index], self._contexts[input_index],
        )

    def process_watermark(self, watermark: int) -> None:
        self.current_watermark = watermark
        self.output.emit_watermark(watermark)


class CoBroadcastWithNonKeyedOperator(BroadcastOperatorBase):
    def open(self, ctx: OperatorContext) -> None:
        super().open(ctx)
        read_only = {name: state.read_only for name, state in self.states.items()}
        self._contexts = (_ReadOnlyContext(self, read_only), _Context(self, self.states))


class CoBroadcastWithKeyedOperator(BroadcastOperatorBase):
    """The other input is a KeyedStream: ``ctx.get_current_key()`` is its record's key
    (the key selector's result).

    Keyed state and timers are not wired in yet: ``runtime_context.get_state(...)``
    and ``ctx.timer_service().register_*`` are not available here. To wire them, make
    the backend's current key follow ``set_current_key``, which runs before each
    record of input 0.
    """

    kind = KeyedBroadcastProcessFunction

    def __init__(self, key_selector: object, function: object, state_names: Iterable[str]) -> None:
        resolve_function(key_selector, KeySelector, "get_key")
        super().__init__(function, state_names)
        self.key_selector = key_selector

    def open(self, ctx: OperatorContext) -> None:
        super().open(ctx)
        self._key_of = resolve_function(self.key_selector, KeySelector, "get_key")
        open_function(self.key_selector, ctx.runtime_context)
        read_only = {name: state.read_only for name, state in self.states.items()}
        self._read_only_ctx = _KeyedReadOnlyContext(self, read_only)
        self._contexts = (self._read_only_ctx, _KeyedContext(self, self.states))

    def close(self) -> None:
        super().close()
        close_function(self.key_selector)

    def set_current_key(self, key: Any) -> None:
        self._read_only_ctx._current_key = key

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        if input_index == 1:
            super().process_batch(values, timestamps, 1)
            return
        self._emitter.run_per_record(
            self.output, values, timestamps, self._calls[0], self._read_only_ctx,
            key_of=self._key_of, set_key=self.set_current_key,
        )

