"""Evictors: remove elements from a pane before and/or after the window function runs.

With an evictor the window operator keeps every element of a pane with its timestamp
(no pre-aggregation, as Flink's ``EvictingWindowOperator``). When the trigger fires it
calls ``evict_before(elements, size, window, ctx)``, runs the window function (and the
reduce or aggregate function, if any) over what is left, then ``evict_after(...)``,
and keeps the survivors as the pane's contents.

``elements`` is a list of ``TimestampedValue`` that the evictor changes in place
(``del elements[i]``, slice assignment): Python's equivalent of Flink's
``iterator.remove()``.
"""

from __future__ import annotations

import abc
from typing import Any, Callable


class TimestampedValue:
    """An element of a pane and its event timestamp (None when the stream has none)."""

    __slots__ = ("value", "timestamp")

    def __init__(self, value: Any, timestamp: int | None = None) -> None:
        self.value = value
        self.timestamp = timestamp

    def get_value(self) -> Any:
        return self.value

    def get_timestamp(self) -> int | None:
        return self.timestamp

    def has_timestamp(self) -> bool:
        return self.timestamp is not None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TimestampedValue)
            and other.value == self.value
            and other.timestamp == self.timestamp
        )

    def __hash__(self) -> int:
        return hash((self.value, self.timestamp))

    def __reduce__(self):
        return (TimestampedValue, (self.value, self.timestamp))

    def __repr__(self) -> str:
        return f"TimestampedValue({self.value!r}, {self.timestamp!r})"


class Evictor(abc.ABC):
    """Removes elements from a pane around the window function (Flink's ``Evictor``)."""

    class EvictorContext(abc.ABC):
        @abc.abstractmethod
        def get_current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def get_current_watermark(self) -> int: ...

        def get_metric_group(self) -> None:
            return None

    @abc.abstractmethod
    def evict_before(self, elements: list[TimestampedValue], size: int, window: Any,
                     evictor_context: "Evictor.EvictorContext") -> None: ...

    @abc.abstractmethod
    def evict_after(self, elements: list[TimestampedValue], size: int, window: Any,
                    evictor_context: "Evictor.EvictorContext") -> None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _EvictBeforeOrAfter(Evictor):
    """The built-in evictors: one eviction rule (``_evict``), applied before the window
    function, or after it when ``do_evict_after`` is set."""

    do_evict_after = False

    def evict_before(self, elements: list, size: int, window: Any, evictor_context: Any) -> None:
        if not self.do_evict_after:
            self._evict(elements)

    def evict_after(self, elements: list, size: int, window: Any, evictor_context: Any) -> None:
        if self.do_evict_after:
            self._evict(elements)

    def _evict(self, elements: list) -> None:
        raise NotImplementedError


class CountEvictor(_EvictBeforeOrAfter):
    """Keeps the last ``max_count`` elements (before the function, or after it with
    ``do_evict_after``)."""

    def __init__(self, max_count: int, do_evict_after: bool = False) -> None:
        if not isinstance(max_count, int) or max_count < 0:
            raise ValueError(f"CountEvictor needs a count >= 0, got {max_count!r}")
        self.max_count = max_count
        self.do_evict_after = do_evict_after

    @staticmethod
    def of(max_count: int, do_evict_after: bool = False) -> "CountEvictor":
        return CountEvictor(max_count, do_evict_after)

    def _evict(self, elements: list) -> None:
        excess = len(elements) - self.max_count
        if excess > 0:
            del elements[:excess]

    def __repr__(self) -> str:
        return f"CountEvictor({self.max_count})"


class TimeEvictor(_EvictBeforeOrAfter):
    """Keeps the elements within ``window_size`` of the newest element's timestamp
    (evicts those at or before ``max timestamp - window_size``)."""

    def __init__(self, window_size: int, do_evict_after: bool = False) -> None:
        if window_size < 0:
            raise ValueError(f"TimeEvictor needs a window size >= 0, got {window_size} ms")
        self.window_size = window_size
        self.do_evict_after = do_evict_after

    @staticmethod
    def of(window_size: Any, do_evict_after: bool = False) -> "TimeEvictor":
        from minicluster.common.time import to_millis

        return TimeEvictor(to_millis(window_size, "the evictor's window size"), do_evict_after)

    def _evict(self, elements: list) -> None:
        if not elements or not elements[0].has_timestamp():
            return
        cutoff = max(e.timestamp for e in elements) - self.window_size
        elements[:] = [e for e in elements if e.timestamp > cutoff]

    def __repr__(self) -> str:
        return f"TimeEvictor({self.window_size})"


class DeltaEvictor(_EvictBeforeOrAfter):
    """Evicts the elements whose ``delta_function(element, last element)`` is at least
    ``threshold``."""

    def __init__(self, threshold: float, delta_function: Any, do_evict_after: bool = False) -> None:
        self.threshold = threshold
        self.delta_function = delta_function
        self.do_evict_after = do_evict_after
        self._delta()  # fail early on a wrong argument

    @staticmethod
    def of(threshold: float, delta_function: Any, do_evict_after: bool = False) -> "DeltaEvictor":
        return DeltaEvictor(threshold, delta_function, do_evict_after)

    def _delta(self) -> Callable[[Any, Any], float]:
        delta = getattr(self.delta_function, "get_delta", self.delta_function)
        if not callable(delta):
            raise TypeError(
                "DeltaEvictor needs a delta function (a, b) -> float or an object with "
                f"get_delta(a, b), got {self.delta_function!r}"
            )
        return delta

    def _evict(self, elements: list) -> None:
        if not elements:
            return
        delta, last = self._delta(), elements[-1].value
        elements[:] = [e for e in elements if delta(e.value, last) < self.threshold]

    def __repr__(self) -> str:
        return f"DeltaEvictor({self.threshold})"
