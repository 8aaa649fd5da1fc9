"""Keyed process operators: ``KeyedStream.process`` and ``ConnectedStreams.process`` of
keyed streams, with keyed state and timers.

Per record: extract the key, make it the state backend's current key, call the user's
``process_element``. A watermark first fires the event-time timers it passes, each with
its key's state in scope, then moves on downstream. Outputs of an event-time timer
carry the timer's timestamp, as in Flink. In BATCH, with key-grouped input
(``process_runs``), a key's timers of both domains fire when its records end.

``KeyedStream.map``/``flat_map``/``filter``/``reduce``-free functions that use keyed
state run through the same operator via small adapters, so state works in them too.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

from minicluster._functions.base import close_function, open_function, resolve_function
from minicluster._functions.process import KeyedProcessFunction, TimeDomain, TimerService
from minicluster._functions.simple import KeySelector
from minicluster._output_tag import OutputTag
from minicluster.network.events import MAX_WATERMARK
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.simple import Emitter
from minicluster.operators.timers import InternalTimerService
from minicluster.state.heap_backend import HeapKeyedStateBackend
from minicluster.state.key_groups import key_group_range_for_subtask


_NO_KEY = object()  # equal to no key


class _TimerServiceView(TimerService):
    __slots__ = ("_timers",)

    def __init__(self, timers: InternalTimerService) -> None:
        self._timers = timers

    def current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def current_watermark(self) -> int:
        return self._timers.current_watermark

    def register_processing_time_timer(self, timestamp: int) -> None:
        self._timers.register_processing_time_timer(timestamp)

    def register_event_time_timer(self, timestamp: int) -> None:
        self._timers.register_event_time_timer(timestamp)

    def delete_processing_time_timer(self, timestamp: int) -> None:
        self._timers.delete_processing_time_timer(timestamp)

    def delete_event_time_timer(self, timestamp: int) -> None:
        self._timers.delete_event_time_timer(timestamp)


class _KeyedContext(KeyedProcessFunction.OnTimerContext):
    """The ``ctx`` of process_element and on_timer (one object, re-pointed per call)."""

    def __init__(self, backend: HeapKeyedStateBackend, timers: InternalTimerService,
                 emitter: Emitter) -> None:
        self._backend = backend
        self._timer_service = _TimerServiceView(timers)
        self._emitter = emitter
        self._timestamp: int | None = None
        self._time_domain = TimeDomain.EVENT_TIME

    def timestamp(self) -> int | None:
        return self._timestamp

    def timer_service(self) -> TimerService:
        return self._timer_service

    def get_current_key(self) -> Any:
        return self._backend.get_current_key()

    def output(self, output_tag: Any, value: Any) -> None:
        self._emitter.side.add(output_tag, value, self._timestamp)

    def time_domain(self) -> TimeDomain:
        return self._time_domain


class KeyedOperatorBase(StreamOperator):
    """Keyed state backend, timers and context for operators on keyed inputs.

    Subclasses call ``_process_keyed(values, timestamps, key_of, function)`` and may
    override ``_on_timer``.
    """

    def _open_keyed(self, ctx: OperatorContext, functions: list[object]) -> None:
        key_groups = key_group_range_for_subtask(
            ctx.max_parallelism, ctx.parallelism, ctx.subtask_index
        )
        self.backend = HeapKeyedStateBackend(ctx.max_parallelism, key_groups)
        self.runtime_context = ctx.runtime_context.with_keyed_state(self.backend)
        self.emitter = Emitter()
        self.timers = InternalTimerService(
            self.backend,
            ctx.processing_time,
            self._fire_event_timer,
            self._fire_processing_timer,
            self._after_processing_timers,
        )
        self.context = _KeyedContext(self.backend, self.timers, self.emitter)
        self._grouped_key: Any = _NO_KEY  # BATCH: the key process_runs is in
        self._functions = functions
        for function in functions:
            open_function(function, self.runtime_context)

    def batch_key_selectors(self) -> list | None:
        """Per input index, the key function of an open operator: in BATCH the task
        feeds a keyed operator its inputs grouped by these keys
        (``network/grouped_input.py``)."""
        key_of = getattr(self, "_key_of", None)
        if key_of is None:
            return None
        return list(key_of) if isinstance(key_of, list) else [key_of]

    def close(self) -> None:
        for function in reversed(getattr(self, "_functions", [])):
            close_function(function)

    def _process_keyed(self, values: list, timestamps: list | None, key_of, call) -> None:
        self.emitter.run_per_record(
            self.output, values, timestamps, call, self.context,
            key_of=key_of, set_key=self.backend.set_current_key,
        )

    def process_runs(self, runs: list[tuple[list, list | None, int]]) -> None:
        """BATCH, key-grouped input: the runs in order, their outputs leave as one
        batch. Operators that call a function per record (``_calls``, one per input)
        take this path; others process run by run."""
        calls = getattr(self, "_calls", None)
        if calls is None:
            for values, timestamps, input_index in runs:
                self.process_batch(values, timestamps, input_index)
            return
        key_of = self._key_of
        keys = key_of if isinstance(key_of, list) else [key_of]
        context, set_key, emitter = self.context, self.backend.set_current_key, self.emitter
        append, append_stamp, side = emitter.values.append, emitter.timestamps.append, emitter.side
        timers = self.timers
        if not timers.batch:
            timers.use_batch_mode()  # grouped BATCH input: timers fire per key
        has_timers, discard = timers.has_timers, self.backend.discard_key
        # Emitter.run_per_record's loop, with two changes for records grouped by key:
        # the current key is set only when it changes (the type check keeps 1 and True
        # apart, as distinct set_current_key calls would), and emit_all is inlined (a
        # call per record costs as much as the sorting it does). One loop over all runs,
        # so a key's short runs (W3: one customer, then its orders) cost no set-up each.
        # A change to an unequal key ends the previous key: its timers fire then
        # (_end_key), and its state is dropped (it never comes back). Equal keys of
        # other types (1, True) share one group, state and timers, as in STREAMING.
        current, has_time = self._grouped_key, False
        for values, timestamps, input_index in runs:
            call, key_of = calls[input_index], keys[input_index]
            if timestamps is None:
                timestamps = repeat(None)
            else:
                has_time = True
            for value, timestamp in zip(values, timestamps):
                key = key_of(value)
                if key != current or type(key) is not type(current):
                    if key != current and current is not _NO_KEY:  # not 1 -> True
                        if has_timers():
                            self._end_key()
                            has_time = True  # event-time timers' outputs carry stamps
                        discard(current)
                    set_key(key)
                    current = key
                context._timestamp = timestamp
                produced = call(value, context)
                if produced is not None:
                    for out in produced:  # Emitter.emit_all, inlined
                        if type(out) is tuple and len(out) == 2 and isinstance(out[0], OutputTag):
                            side.add(out[0], out[1], timestamp)
                        else:
                            append(out)
                            append_stamp(timestamp)
        self._grouped_key = current
        emitter.flush(self.output, has_time)

    def _end_key(self) -> None:
        """BATCH, key-grouped input: the current key's records are all in; fire its
        timers of both domains now (Flink's batch timer service)."""
        self.timers.fire_all_timers()

    def process_watermark(self, watermark: int) -> None:
        if watermark == MAX_WATERMARK and self._grouped_key is not _NO_KEY:
            self._end_key()  # BATCH: the last key ends with the input, before the watermark
        self.timers.advance_watermark(watermark)
        self.emitter.flush(self.output, True)
        self.output.emit_watermark(watermark)

    def _fire_event_timer(self, timestamp: int, key: Any, namespace: Any) -> None:
        self._on_timer(timestamp, TimeDomain.EVENT_TIME, namespace)

    def _fire_processing_timer(self, timestamp: int, key: Any, namespace: Any) -> None:
        self._on_timer(timestamp, TimeDomain.PROCESSING_TIME, namespace)

    def _after_processing_timers(self) -> None:
        """The outputs of one pass of processing-time timers leave as one batch."""
        self.emitter.flush(self.output, False)

    def _on_timer(self, timestamp: int, domain: TimeDomain, namespace: Any) -> None:
        ctx = self.context
        ctx._time_domain = domain
        ctx._timestamp = timestamp  # ctx.timestamp() is the timer's in both domains, as in Flink
        produced = self.on_timer_call(timestamp, ctx)
        if produced is not None:  # a processing-time timer's outputs carry no timestamp
            self.emitter.emit_all(produced, timestamp if domain is TimeDomain.EVENT_TIME else None)

    def on_timer_call(self, timestamp: int, ctx: _KeyedContext):
        return None


class KeyedProcessOperator(KeyedOperatorBase):
    def __init__(self, key_selector: object, function: KeyedProcessFunction) -> None:
        resolve_function(key_selector, KeySelector, "get_key")
        if not isinstance(function, KeyedProcessFunction):
            raise TypeError(
                f"KeyedStream.process() takes a KeyedProcessFunction, got {type(function).__name__}"
            )
        self.key_selector = key_selector
        self.function = function

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = resolve_function(self.key_selector, KeySelector, "get_key")
        self._open_keyed(ctx, [self.key_selector, self.function])
        self._calls = [self.function.process_element]

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self._process_keyed(values, timestamps, self._key_of, self.function.process_element)

    def on_timer_call(self, timestamp: int, ctx: _KeyedContext):
        return self.function.on_timer(timestamp, ctx)


class KeyedCoProcessOperator(KeyedOperatorBase):
    """Two keyed inputs; input 0 calls ``process_element1``, input 1 ``process_element2``."""

    def __init__(self, key_selector1: object, key_selector2: object, function: Any) -> None:
        for selector in (key_selector1, key_selector2):
            resolve_function(selector, KeySelector, "get_key")
        for method in ("process_element1", "process_element2"):
            if not callable(getattr(function, method, None)):
                raise TypeError(f"a KeyedCoProcessFunction needs {method}(), got {function!r}")
        self.key_selectors = (key_selector1, key_selector2)
        self.function = function

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = [resolve_function(s, KeySelector, "get_key") for s in self.key_selectors]
        self._calls = [self.function.process_element1, self.function.process_element2]
        self._open_keyed(ctx, [*self.key_selectors, self.function])

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self._process_keyed(values, timestamps, self._key_of[input_index], self._calls[input_index])

    def on_timer_call(self, timestamp: int, ctx: _KeyedContext):
        on_timer = getattr(self.function, "on_timer", None)
        return None if on_timer is None else on_timer(timestamp, ctx)


class KeyedFunctionAdapter(KeyedProcessFunction):
    """Runs a map/flat_map/filter function as a keyed process function, so that keyed
    state is available in it (``KeyedStream.map`` etc.)."""

    def __init__(self, function: object, kind: type, method: str, shape: str) -> None:
        resolve_function(function, kind, method)
        self.function, self.kind, self.method, self.shape = function, kind, method, shape

    def open(self, runtime_context: Any) -> None:
        self._call = resolve_function(self.function, self.kind, self.method)
        open_function(self.function, runtime_context)

    def close(self) -> None:
        close_function(self.function)

    def process_element(self, value: Any, ctx: Any):
        result = self._call(value)
        if self.shape == "map":
            return (result,)
        if self.shape == "filter":
            return (value,) if result else None
        if result is None:
            raise TypeError(
                f"flat_map function returned None for {value!r}; it must return or yield an iterable"
            )
        return result
