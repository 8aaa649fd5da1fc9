"""Join functions: ``ProcessJoinFunction`` for ``interval_join``; ``JoinFunction``,
``FlatJoinFunction`` and ``CoGroupFunction`` for a window ``join``/``co_group``.

Each sees both sides at once (a matching pair, or one key's elements of one window),
unlike the two-input functions, which see one input's record at a time.
"""

from __future__ import annotations

import abc
from typing import Any, Iterable

from minicluster._functions.base import Function


class ProcessJoinFunction(Function):
    """The function of an interval join: called once per matching (left, right) pair;
    ``ctx.get_left_timestamp()``, ``get_right_timestamp()``, ``get_timestamp()``."""

    @abc.abstractmethod
    def process_element(self, left: Any, right: Any, ctx: Any) -> Iterable[Any] | None: ...


class JoinFunction(Function):
    """A window join's function: ``join(value1, value2)`` for every pair of one key and
    one window."""

    @abc.abstractmethod
    def join(self, value1: Any, value2: Any) -> Any: ...


class FlatJoinFunction(Function):
    """Like ``JoinFunction`` but returns or yields any number of outputs per pair."""

    @abc.abstractmethod
    def join(self, value1: Any, value2: Any) -> Iterable[Any] | None: ...


class CoGroupFunction(Function):
    """``co_group(first, second)``: both sides' elements of one key and one window
    (either may be empty); returns or yields the outputs."""

    @abc.abstractmethod
    def co_group(self, first: list, second: list) -> Iterable[Any] | None: ...
