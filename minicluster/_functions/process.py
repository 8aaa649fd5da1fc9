"""Process functions of one input: ``ProcessFunction`` and ``KeyedProcessFunction``.

A process function gets a context with each record: its timestamp and, on a
``KeyedStream``, the current key, side outputs and the timers of that key
(``TimerService``; ``on_timer`` says which clock fired in ``TimeDomain``). The
two-input and broadcast functions (``two_input.py``) take their timers from here too.
"""

from __future__ import annotations

import abc
import enum
from typing import Any, Iterable

from minicluster._functions.base import Function


class ProcessFunction(Function):
    """Low-level per-record processing; ``process_element`` yields (or returns an
    iterable of) outputs."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None:
            """The record's event timestamp, or None when it has none."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "ProcessFunction.Context") -> Iterable[Any] | None: ...


class TimeDomain(enum.Enum):
    """Which clock fired a timer."""

    EVENT_TIME = 0
    PROCESSING_TIME = 1


class TimerService(abc.ABC):
    """Time and timers of the current key (``ctx.timer_service()``)."""

    @abc.abstractmethod
    def current_processing_time(self) -> int: ...

    @abc.abstractmethod
    def current_watermark(self) -> int: ...

    @abc.abstractmethod
    def register_processing_time_timer(self, timestamp: int) -> None: ...

    @abc.abstractmethod
    def register_event_time_timer(self, timestamp: int) -> None: ...

    @abc.abstractmethod
    def delete_processing_time_timer(self, timestamp: int) -> None: ...

    @abc.abstractmethod
    def delete_event_time_timer(self, timestamp: int) -> None: ...


class KeyedProcessFunction(Function):
    """Per-record processing on a KeyedStream, with keyed state and timers."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None: ...

        @abc.abstractmethod
        def timer_service(self) -> TimerService: ...

        @abc.abstractmethod
        def get_current_key(self) -> Any: ...

        @abc.abstractmethod
        def output(self, output_tag: Any, value: Any) -> None: ...

    class OnTimerContext(Context):
        @abc.abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "KeyedProcessFunction.Context") -> Iterable[Any] | None: ...

    def on_timer(self, timestamp: int, ctx: "KeyedProcessFunction.OnTimerContext") -> Iterable[Any] | None:
        pass
