"""What a pane holds and how a fired pane becomes output.

``WindowContents`` says how elements are kept per (key, window): all of them
(``list``, for ``process``/``apply`` and with evictors), folded by a reduce function
(``reducing``) or by an ``AggregateFunction`` (``aggregating``). Folded panes hold one
value, so the user's window function then receives a one-element list, as in Flink.

The internal window functions adapt the user's function kinds to one call,
``process(key, window, context, inputs)``: pass-through (reduce/aggregate alone emit
their result), ``WindowFunction.apply(key, window, inputs)``,
``ProcessWindowFunction.process(key, context, inputs)`` and the ``window_all``
variants without the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from minicluster._functions.base import resolve_function
from minicluster._functions.simple import ReduceFunction
from minicluster._functions.window import (
    AllWindowFunction,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    WindowFunction,
)
from minicluster.state.descriptors import (
    AggregatingStateDescriptor,
    ListStateDescriptor,
    ReducingStateDescriptor,
    StateDescriptor,
)

WINDOW_CONTENTS = "window-contents"  # Flink's name for the pane state


@dataclass(frozen=True)
class WindowContents:
    """How a pane keeps its elements: ``list``, ``reducing`` or ``aggregating``."""

    kind: str
    function: Any = None  # the ReduceFunction/callable or the AggregateFunction

    def __post_init__(self) -> None:
        if self.kind == "reducing":
            resolve_function(self.function, ReduceFunction, "reduce")
        elif self.kind == "aggregating":
            for method in ("create_accumulator", "add", "get_result"):
                if not callable(getattr(self.function, method, None)):
                    raise TypeError(
                        f"aggregate() takes an AggregateFunction (with {method}()), got "
                        f"{self.function!r}"
                    )
        elif self.kind != "list":
            raise ValueError(f"unknown window contents kind {self.kind!r}")

    def descriptor(self, evicting: bool) -> StateDescriptor:
        """The pane's state; with an evictor always a list of timestamped elements."""
        if evicting or self.kind == "list":
            return ListStateDescriptor(WINDOW_CONTENTS)
        if self.kind == "reducing":
            return ReducingStateDescriptor(WINDOW_CONTENTS, self.function)
        return AggregatingStateDescriptor(WINDOW_CONTENTS, self.function)

    def fold(self, values: list) -> list:
        """The window function's input for ``values`` (an evicting pane's survivors)."""
        if self.kind == "list":
            return values
        if self.kind == "reducing":
            if not values:
                return []
            reduce = resolve_function(self.function, ReduceFunction, "reduce")
            result = values[0]
            for value in values[1:]:
                result = reduce(result, value)
            return [result]
        add = self.function.add
        accumulator = self.function.create_accumulator()
        for value in values:
            accumulator = add(value, accumulator)
        return [self.function.get_result(accumulator)]

    def describe(self) -> str:
        if self.function is None:
            return ""
        return getattr(self.function, "__name__", type(self.function).__name__)


class InternalWindowFunction:
    """Calls the user's window function for one fired pane."""

    __slots__ = ("function",)

    def __init__(self, function: Any) -> None:
        self.function = function

    def process(self, key: Any, window: Any, context: Any, inputs: list) -> Iterable[Any] | None:
        raise NotImplementedError

    def clear(self, window: Any, context: Any) -> None:
        pass

    def has_clear(self) -> bool:
        """False if ``clear`` does nothing (then a fired window need not call it)."""
        return False

    def describe(self) -> str:
        return type(self.function).__name__


class PassThroughWindowFunction(InternalWindowFunction):
    """reduce/aggregate without a window function: emit the folded value."""

    def __init__(self) -> None:
        super().__init__(None)

    def process(self, key: Any, window: Any, context: Any, inputs: list) -> list:
        return inputs

    def describe(self) -> str:
        return "PassThroughWindowFunction"


class _Apply(InternalWindowFunction):
    def process(self, key: Any, window: Any, context: Any, inputs: list):
        return self.function.apply(key, window, inputs)


class _Process(InternalWindowFunction):
    def process(self, key: Any, window: Any, context: Any, inputs: list):
        return self.function.process(key, context, inputs)

    def clear(self, window: Any, context: Any) -> None:
        self.function.clear(context)

    def has_clear(self) -> bool:
        return type(self.function).clear is not ProcessWindowFunction.clear


class _AllApply(InternalWindowFunction):
    def process(self, key: Any, window: Any, context: Any, inputs: list):
        return self.function.apply(window, inputs)


class _AllProcess(InternalWindowFunction):
    def process(self, key: Any, window: Any, context: Any, inputs: list):
        return self.function.process(context, inputs)

    def clear(self, window: Any, context: Any) -> None:
        self.function.clear(context)

    def has_clear(self) -> bool:
        return type(self.function).clear is not ProcessAllWindowFunction.clear


def internal_window_function(
    function: Any, all_windows: bool, method: str
) -> InternalWindowFunction:
    """Adapt ``function`` (None, a window function or a process window function).

    Raises:
        TypeError: ``function`` is of a kind ``method`` does not take.
    """
    if function is None:
        return PassThroughWindowFunction()
    if all_windows:
        if isinstance(function, ProcessAllWindowFunction):
            return _AllProcess(function)
        if isinstance(function, AllWindowFunction):
            return _AllApply(function)
        expected = "an AllWindowFunction or a ProcessAllWindowFunction"
    else:
        if isinstance(function, ProcessWindowFunction):
            return _Process(function)
        if isinstance(function, WindowFunction):
            return _Apply(function)
        expected = "a WindowFunction or a ProcessWindowFunction"
    raise TypeError(
        f"{method}() takes {expected} as its window function, got "
        f"{type(function).__name__}: {function!r}"
    )

