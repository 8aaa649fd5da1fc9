"""Window functions (``WindowedStream`` / ``AllWindowedStream``).

``AggregateFunction`` folds elements into an accumulator as they arrive (also the
function of an ``AggregatingStateDescriptor``); ``WindowFunction``,
``AllWindowFunction``, ``ProcessWindowFunction`` and ``ProcessAllWindowFunction``
evaluate a fired window's elements. ``KeyedStateStore`` is the per-window and global
state a process window function's context offers.
"""

from __future__ import annotations

import abc
from typing import Any, Iterable

from minicluster._functions.base import Function


class AggregateFunction(Function):
    """Incremental aggregation with an accumulator: ``create_accumulator()``, then
    ``add(value, accumulator) -> accumulator`` per element, ``get_result(accumulator)``
    when the window fires, and ``merge(a, b)`` when session windows merge."""

    @abc.abstractmethod
    def create_accumulator(self) -> Any: ...

    @abc.abstractmethod
    def add(self, value: Any, accumulator: Any) -> Any: ...

    @abc.abstractmethod
    def get_result(self, accumulator: Any) -> Any: ...

    def merge(self, acc_a: Any, acc_b: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.merge() is needed to merge session windows"
        )


class KeyedStateStore(abc.ABC):
    """Keyed state getters (``ProcessWindowFunction.Context.window_state()`` and
    ``global_state()``)."""

    @abc.abstractmethod
    def get_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_list_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_map_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_reducing_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_aggregating_state(self, state_descriptor: Any) -> Any: ...


class WindowFunction(Function):
    """Evaluates a keyed window: ``apply(key, window, inputs)`` returns or yields the
    outputs."""

    @abc.abstractmethod
    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any] | None: ...


class AllWindowFunction(Function):
    """Evaluates a window of ``window_all``: ``apply(window, inputs)``."""

    @abc.abstractmethod
    def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any] | None: ...


class ProcessWindowFunction(Function):
    """Evaluates a keyed window with a context: ``process(key, context, elements)``
    returns or yields the outputs (``yield tag, value`` or ``context.output(tag,
    value)`` for a side output); ``clear(context)`` runs when the window is dropped."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def window(self) -> Any:
            """The window being evaluated."""

        @abc.abstractmethod
        def current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def current_watermark(self) -> int: ...

        @abc.abstractmethod
        def window_state(self) -> KeyedStateStore:
            """State of this key and window (clean it up in ``clear``)."""

        @abc.abstractmethod
        def global_state(self) -> KeyedStateStore:
            """State of this key, shared by all its windows."""

        @abc.abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            """Emit ``value`` to the side output ``output_tag``."""

    @abc.abstractmethod
    def process(self, key: Any, context: "ProcessWindowFunction.Context",
                elements: Iterable[Any]) -> Iterable[Any] | None: ...

    def clear(self, context: "ProcessWindowFunction.Context") -> None:
        """The window is dropped (its cleanup time passed): delete per-window state."""


class ProcessAllWindowFunction(Function):
    """``ProcessWindowFunction`` for ``window_all``: ``process(context, elements)``."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def window(self) -> Any: ...

        @abc.abstractmethod
        def current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def current_watermark(self) -> int: ...

        @abc.abstractmethod
        def window_state(self) -> KeyedStateStore: ...

        @abc.abstractmethod
        def global_state(self) -> KeyedStateStore: ...

        @abc.abstractmethod
        def output(self, output_tag: Any, value: Any) -> None: ...

    @abc.abstractmethod
    def process(self, context: "ProcessAllWindowFunction.Context",
                elements: Iterable[Any]) -> Iterable[Any] | None: ...

    def clear(self, context: "ProcessAllWindowFunction.Context") -> None:
        """The window is dropped: delete per-window state."""
