"""Functions of two connected inputs, called with one input's record at a time.

``connect`` gives ``CoMapFunction``, ``CoFlatMapFunction`` and ``CoProcessFunction``
(``KeyedCoProcessFunction`` after ``key_by``); connecting a ``BroadcastStream`` gives
``BroadcastProcessFunction`` or, on a ``KeyedStream``, ``KeyedBroadcastProcessFunction``.
One instance serves both inputs, so the two sides can share state; as in Flink, the two
inputs are not ordered relative to each other.
"""

from __future__ import annotations

import abc
from typing import Any, Iterable

from minicluster._functions.base import Function
from minicluster._functions.process import TimeDomain, TimerService


class CoMapFunction(Function):
    """A map over two connected streams: ``map1`` for the first input's records,
    ``map2`` for the second's. One instance serves both inputs, so the two can share
    state. As in PyFlink, a result of None is dropped."""

    @abc.abstractmethod
    def map1(self, value: Any) -> Any: ...

    @abc.abstractmethod
    def map2(self, value: Any) -> Any: ...


class CoFlatMapFunction(Function):
    """A flat-map over two connected streams: ``flat_map1``/``flat_map2`` return or
    yield zero or more records each (None counts as none, as in PyFlink)."""

    @abc.abstractmethod
    def flat_map1(self, value: Any) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def flat_map2(self, value: Any) -> Iterable[Any] | None: ...


class CoProcessFunction(Function):
    """Low-level processing of two connected streams; ``process_element1``/``2`` yield
    outputs (``yield tag, value`` for a side output). Timers need keyed streams."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timer_service(self) -> TimerService:
            """Current processing time and watermark (timers need keyed streams)."""

        @abc.abstractmethod
        def timestamp(self) -> int | None:
            """The record's event timestamp, or None when it has none."""

    @abc.abstractmethod
    def process_element1(
        self, value: Any, ctx: "CoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_element2(
        self, value: Any, ctx: "CoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...


class KeyedCoProcessFunction(Function):
    """``CoProcessFunction`` on two keyed streams (``connect(...).key_by(k1, k2)``),
    with keyed state and timers for the current key."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def get_current_key(self) -> Any: ...

        @abc.abstractmethod
        def timer_service(self) -> TimerService: ...

        @abc.abstractmethod
        def timestamp(self) -> int | None: ...

    class OnTimerContext(Context):
        @abc.abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abc.abstractmethod
    def process_element1(
        self, value: Any, ctx: "KeyedCoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_element2(
        self, value: Any, ctx: "KeyedCoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    def on_timer(
        self, timestamp: int, ctx: "KeyedCoProcessFunction.OnTimerContext"
    ) -> Iterable[Any] | None:
        pass


class BaseBroadcastProcessFunction(Function):
    """What both broadcast process functions share: their contexts.

    The broadcast side (``process_broadcast_element``) gets a ``Context`` whose
    ``get_broadcast_state(descriptor)`` is writable; the other side
    (``process_element``) gets a ``ReadOnlyContext`` whose state only reads. Every
    parallel instance receives every broadcast record, so instances that update their
    state only from broadcast records keep the same state.
    """

    class BaseContext(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None: ...

        @abc.abstractmethod
        def current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def current_watermark(self) -> int: ...

    class Context(BaseContext):
        @abc.abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any:
            """The writable ``BroadcastState`` named by a ``MapStateDescriptor``."""

    class ReadOnlyContext(BaseContext):
        @abc.abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any:
            """A ``ReadOnlyBroadcastState`` view of the state the descriptor names."""


class BroadcastProcessFunction(BaseBroadcastProcessFunction):
    """Connects a non-keyed stream with a ``BroadcastStream``
    (``ds.connect(rules.broadcast(descriptor)).process(f)``)."""

    class Context(BaseBroadcastProcessFunction.Context, abc.ABC):
        pass

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext, abc.ABC):
        pass

    @abc.abstractmethod
    def process_element(
        self, value: Any, ctx: "BroadcastProcessFunction.ReadOnlyContext"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_broadcast_element(
        self, value: Any, ctx: "BroadcastProcessFunction.Context"
    ) -> Iterable[Any] | None: ...


class KeyedBroadcastProcessFunction(BaseBroadcastProcessFunction):
    """Connects a ``KeyedStream`` with a ``BroadcastStream``; ``process_element`` sees
    the record's key (``ctx.get_current_key()``)."""

    class Context(BaseBroadcastProcessFunction.Context, abc.ABC):
        pass

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext, abc.ABC):
        @abc.abstractmethod
        def timer_service(self) -> TimerService: ...

        @abc.abstractmethod
        def get_current_key(self) -> Any: ...

    class OnTimerContext(ReadOnlyContext, abc.ABC):
        @abc.abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abc.abstractmethod
    def process_element(
        self, value: Any, ctx: "KeyedBroadcastProcessFunction.ReadOnlyContext"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_broadcast_element(
        self, value: Any, ctx: "KeyedBroadcastProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    def on_timer(
        self, timestamp: int, ctx: "KeyedBroadcastProcessFunction.OnTimerContext"
    ) -> Iterable[Any] | None:
        pass
