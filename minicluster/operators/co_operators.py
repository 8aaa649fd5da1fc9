"""Two-input operators: ``connect(...).map/flat_map/process`` (Flink's ``CoStreamMap``,
``CoStreamFlatMap``, ``CoProcessOperator``).

    input 0 (first stream)  --\\
                               >-- process_batch(values, timestamps, input_index) --> output
    input 1 (second stream) --/

The task hands the operator one batch at a time from either input, tagged with the
input's index (the StreamEdge's ``input_index``); the operator picks the user's
method for that input once per batch (``map1`` or ``map2``), so only the user's
function runs per record. There is no ordering between the two inputs: batches
arrive as the channels deliver them, as in Flink. The operator's watermark is the
minimum over the channels of both inputs (the task computes it), so event time on the
output never runs ahead of the slower input.

On keyed connected streams (``connect(...).key_by(k1, k2)``) PyFlink runs co-map and
co-flat-map functions as a ``KeyedCoProcessFunction``, so that keyed state works in
them; ``KeyedCoMapAdapter``/``KeyedCoFlatMapAdapter`` are those adapters.
"""

from __future__ import annotations

from typing import Any, Callable

from minicluster._functions.base import close_function, open_function
from minicluster._functions.process import TimerService
from minicluster._functions.two_input import (
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    KeyedCoProcessFunction,
)
from minicluster._output_tag import OutputTag
from minicluster.network.events import MIN_WATERMARK
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.simple import Emitter, SideOutputBuffer


class TwoInputUserFunctionOperator(StreamOperator):
    """An operator around one two-input user function: ``methods[i]`` handles input i.

    PyFlink accepts only the matching function class here (no plain callables: one
    callable cannot tell the inputs apart).
    """

    kind: type = CoMapFunction
    methods: tuple[str, str] = ("map1", "map2")
    api = "ConnectedStreams.map()"

    def __init__(self, function: object) -> None:
        if not isinstance(function, self.kind):
            raise TypeError(
                f"{self.api} takes a {self.kind.__name__} (with {' and '.join(self.methods)}()), "
                f"got {type(function).__name__}: {function!r}"
            )
        self.function = function

    def open(self, ctx: OperatorContext) -> None:
        self._calls = tuple(getattr(self.function, method) for method in self.methods)
        open_function(self.function, ctx.runtime_context)

    def close(self) -> None:
        close_function(self.function)


class CoMapOperator(TwoInputUserFunctionOperator):
    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        f = self._calls[input_index]
        out = [f(value) for value in values]
        if any(result is None for result in out):  # PyFlink drops None results
            keep = [result is not None for result in out]
            out = [result for result, k in zip(out, keep) if k]
            if timestamps is not None:
                timestamps = [t for t, k in zip(timestamps, keep) if k]
        self.output.collect(out, timestamps)


class CoFlatMapOperator(TwoInputUserFunctionOperator):
    kind = CoFlatMapFunction
    methods = ("flat_map1", "flat_map2")
    api = "ConnectedStreams.flat_map()"

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        f = self._calls[input_index]
        out: list = []
        extend = out.extend
        if timestamps is None:
            for value in values:
                produced = f(value)
                if produced is not None:
                    extend(produced)
            self.output.collect(out, None)
            return
        out_ts: list = []
        for value, timestamp in zip(values, timestamps):
            produced = f(value)
            if produced is not None:
                before = len(out)
                extend(produced)
                out_ts.extend([timestamp] * (len(out) - before))
        self.output.collect(out, out_ts)


def _timers_need_keyed_streams(method: str, operator_name: str) -> BaseException:
    return TypeError(
        f"TimerService.{method}(): timers can only be set on keyed streams "
        f"(operator {operator_name!r}); connect two KeyedStreams, or call "
        "ConnectedStreams.key_by(key_selector1, key_selector2), and use a "
        "KeyedCoProcessFunction"
    )


class NonKeyedTimerService(TimerService):
    """A ``ctx.timer_service()`` without timers: time can be read, setting a timer
    raises ``refusal(method, operator name)`` (by default Flink's "timers are only
    supported on keyed streams"). ``operator`` provides ``current_processing_time()``,
    ``current_watermark`` and ``name``."""

    __slots__ = ("_operator", "_refusal")

    def __init__(
        self,
        operator: Any,
        refusal: Callable[[str, str], BaseException] = _timers_need_keyed_streams,
    ) -> None:
        self._operator = operator
        self._refusal = refusal

    def current_processing_time(self) -> int:
        return self._operator.current_processing_time()

    def current_watermark(self) -> int:
        return self._operator.current_watermark

    def _no_timers(self, method: str) -> None:
        raise self._refusal(method, self._operator.name)

    def register_processing_time_timer(self, timestamp: int) -> None:
        self._no_timers("register_processing_time_timer")

    def register_event_time_timer(self, timestamp: int) -> None:
        self._no_timers("register_event_time_timer")

    def delete_processing_time_timer(self, timestamp: int) -> None:
        self._no_timers("delete_processing_time_timer")

    def delete_event_time_timer(self, timestamp: int) -> None:
        self._no_timers("delete_event_time_timer")


class _CoProcessContext(CoProcessFunction.Context):
    __slots__ = ("_timestamp", "_side", "_timer_service")

    def __init__(self, side: SideOutputBuffer, timer_service: TimerService) -> None:
        self._timestamp: int | None = None
        self._side = side
        self._timer_service = timer_service

    def timestamp(self) -> int | None:
        return self._timestamp

    def timer_service(self) -> TimerService:
        return self._timer_service

    def output(self, output_tag: OutputTag, value: object) -> None:
        self._side.add(output_tag, value, self._timestamp)


class CoProcessOperator(TwoInputUserFunctionOperator):
    kind = CoProcessFunction
    methods = ("process_element1", "process_element2")
    api = "ConnectedStreams.process()"

    current_watermark = MIN_WATERMARK

    def open(self, ctx: OperatorContext) -> None:
        super().open(ctx)
        self._emitter = Emitter()
        self._processing_time = ctx.processing_time
        timer_service = NonKeyedTimerService(self)
        self._ctx = _CoProcessContext(self._emitter.side, timer_service)

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self._emitter.run_per_record(
            self.output, values, timestamps, self._calls[input_index], self._ctx
        )

    def current_processing_time(self) -> int:
        return self._processing_time.current_processing_time()

    def process_watermark(self, watermark: int) -> None:
        self.current_watermark = watermark
        self.output.emit_watermark(watermark)


class _KeyedCoAdapter(KeyedCoProcessFunction):
    """Runs a co-map/co-flat-map function as a KeyedCoProcessFunction (PyFlink's
    ``CoMapKeyedCoProcessFunctionAdapter``), so keyed state works in it."""

    kind: type = CoMapFunction
    methods: tuple[str, str] = ("map1", "map2")

    def __init__(self, function: Any) -> None:
        if not isinstance(function, self.kind):
            raise TypeError(
                f"expected a {self.kind.__name__}, got {type(function).__name__}: {function!r}"
            )
        self.function = function

    def open(self, runtime_context: Any) -> None:
        self._call1, self._call2 = (getattr(self.function, m) for m in self.methods)
        self.function.open(runtime_context)

    def close(self) -> None:
        self.function.close()


class KeyedCoMapAdapter(_KeyedCoAdapter):
    def process_element1(self, value: Any, ctx: Any):
        result = self._call1(value)
        return None if result is None else (result,)

    def process_element2(self, value: Any, ctx: Any):
        result = self._call2(value)
        return None if result is None else (result,)


class KeyedCoFlatMapAdapter(_KeyedCoAdapter):
    kind = CoFlatMapFunction
    methods = ("flat_map1", "flat_map2")

    def process_element1(self, value: Any, ctx: Any):
        return self._call1(value)

    def process_element2(self, value: Any, ctx: Any):
        return self._call2(value)
