"""The windows themselves: ``TimeWindow``, ``CountWindow``, ``GlobalWindow``.

A window is the namespace of its contents in keyed state: the window operator stores a
pane under ``(key, window)``, so windows must hash and compare by value. ``TimeWindow``
is the hot one (every event-time record is grouped by it), so it is a ``tuple``
subclass ``(start, end)``: hashing and equality run in C, which halves the cost of a
state lookup against a class with Python ``__hash__``/``__eq__``, and its order is
Flink's ``TimeWindow.compareTo`` (by start, then end). The price is that a
``TimeWindow`` equals the plain tuple ``(start, end)``; windows never meet plain tuples
in the same namespace, so that is harmless.
"""

from __future__ import annotations

import abc
from operator import itemgetter
from typing import Any, Iterable

from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK

MAX_TIMESTAMP = MAX_WATERMARK  # Java's Long.MAX_VALUE
MIN_TIMESTAMP = MIN_WATERMARK


class Window(abc.ABC):
    """A finite bucket of elements; everything in it has arrived once event time (or
    processing time) passes ``max_timestamp()``."""

    __slots__ = ()

    @abc.abstractmethod
    def max_timestamp(self) -> int:
        """The largest timestamp that still belongs to this window."""


class TimeWindow(Window, tuple):
    """The interval ``[start, end)`` in milliseconds."""

    __slots__ = ()

    def __new__(cls, start: int, end: int) -> "TimeWindow":
        return tuple.__new__(cls, (start, end))

    def __getnewargs__(self) -> tuple[int, int]:
        return (self[0], self[1])

    start = property(itemgetter(0), doc="First millisecond of the window (inclusive).")
    end = property(itemgetter(1), doc="End of the window (exclusive).")

    def max_timestamp(self) -> int:
        return self[1] - 1

    def intersects(self, other: "TimeWindow") -> bool:
        """True if the two windows overlap or touch (Flink merges touching sessions)."""
        return self[0] <= other[1] and self[1] >= other[0]

    def cover(self, other: "TimeWindow") -> "TimeWindow":
        """The smallest window that contains both."""
        return TimeWindow(min(self[0], other[0]), max(self[1], other[1]))

    @staticmethod
    def get_window_start_with_offset(timestamp: int, offset: int, window_size: int) -> int:
        """Start of the window of ``window_size`` (shifted by ``offset``) holding
        ``timestamp``. Python's ``%`` is never negative for a positive size, so this is
        right for timestamps before the epoch too."""
        return timestamp - (timestamp - offset) % window_size

    @staticmethod
    def merge_windows(windows: Iterable["TimeWindow"], callback: Any) -> None:
        """Merge overlapping windows: ``callback.merge(to_be_merged, merge_result)`` for
        each group of more than one window (Flink's ``TimeWindow.mergeWindows``)."""
        merged: list[tuple[TimeWindow, list[TimeWindow]]] = []
        current: TimeWindow | None = None
        members: list[TimeWindow] = []
        for candidate in sorted(windows):
            if current is None:
                current, members = candidate, [candidate]
            elif current.intersects(candidate):
                current = current.cover(candidate)
                members.append(candidate)
            else:
                merged.append((current, members))
                current, members = candidate, [candidate]
        if current is not None:
            merged.append((current, members))
        merge = getattr(callback, "merge", callback)
        for result, group in merged:
            if len(group) > 1:
                merge(group, result)

    def __repr__(self) -> str:
        return f"TimeWindow(start={self[0]}, end={self[1]})"


class CountWindow(Window):
    """A count window, identified by its ordinal ``id`` (PyFlink's count windows)."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:  # noqa: A002 - PyFlink's parameter name
        self.id = id

    def max_timestamp(self) -> int:
        return MAX_TIMESTAMP

    def __eq__(self, other: object) -> bool:
        return type(other) is CountWindow and other.id == self.id

    def __hash__(self) -> int:
        return hash(("CountWindow", self.id))

    def __lt__(self, other: "CountWindow") -> bool:
        return self.id < other.id

    def __reduce__(self):
        return (CountWindow, (self.id,))

    def __repr__(self) -> str:
        return f"CountWindow(id={self.id})"


class GlobalWindow(Window):
    """The one window of ``GlobalWindows``: it never ends by itself."""

    __slots__ = ()

    @staticmethod
    def get() -> "GlobalWindow":
        return _GLOBAL_WINDOW

    def max_timestamp(self) -> int:
        return MAX_TIMESTAMP

    def __eq__(self, other: object) -> bool:
        return type(other) is GlobalWindow

    def __hash__(self) -> int:
        return 0

    def __reduce__(self):
        return (GlobalWindow.get, ())

    def __repr__(self) -> str:
        return "GlobalWindow"


_GLOBAL_WINDOW = GlobalWindow()
