"""Stateless one-input operators: map, flat_map, filter, process, and the sinks."""

from __future__ import annotations

import pickle
import sys

from minicluster._functions import (
    FilterFunction,
    FlatMapFunction,
    MapFunction,
    ProcessFunction,
    SinkFunction,
    close_function,
    open_function,
    resolve_function,
)
from minicluster.operators.base import OperatorContext, StreamOperator


class UserFunctionOperator(StreamOperator):
    """An operator around one user function, opened and closed with the subtask."""

    kind: type = MapFunction
    method = "map"

    def __init__(self, function: object) -> None:
        resolve_function(function, self.kind, self.method)  # fail in the client, not later
        self.function = function

    def open(self, ctx: OperatorContext) -> None:
        self._call = resolve_function(self.function, self.kind, self.method)
        open_function(self.function, ctx.runtime_context)

    def close(self) -> None:
        close_function(self.function)


class MapOperator(UserFunctionOperator):
    def process_batch(self, batch: list, input_index: int = 0) -> list:
        f = self._call
        return [f(value) for value in batch]


class FlatMapOperator(UserFunctionOperator):
    kind = FlatMapFunction
    method = "flat_map"

    def process_batch(self, batch: list, input_index: int = 0) -> list:
        f = self._call
        out: list = []
        extend = out.extend
        for value in batch:
            produced = f(value)
            if produced is None:
                raise TypeError(
                    f"flat_map function returned None for {value!r}; it must return or "
                    "yield an iterable"
                )
            extend(produced)
        return out


class FilterOperator(UserFunctionOperator):
    kind = FilterFunction
    method = "filter"

    def process_batch(self, batch: list, input_index: int = 0) -> list:
        f = self._call
        return [value for value in batch if f(value)]


class _ProcessContext(ProcessFunction.Context):
    __slots__ = ()

    def timestamp(self) -> int | None:
        return None


class ProcessOperator(UserFunctionOperator):
    kind = ProcessFunction
    method = "process_element"

    def __init__(self, function: object) -> None:
        if not isinstance(function, ProcessFunction):
            raise TypeError(
                f"process() takes a ProcessFunction, got {type(function).__name__}"
            )
        super().__init__(function)

    def process_batch(self, batch: list, input_index: int = 0) -> list:
        f, ctx = self._call, _ProcessContext()
        out: list = []
        extend = out.extend
        for value in batch:
            produced = f(value, ctx)
            if produced is not None:
                extend(produced)
        return out


class SinkOperator(UserFunctionOperator):
    """``add_sink``/``sink_to`` with a ``SinkFunction`` (``invoke(value, context)``) or a
    plain callable taking the value."""

    kind = SinkFunction
    method = "invoke"

    def process_batch(self, batch: list, input_index: int = 0) -> None:
        f = self._call
        if isinstance(self.function, SinkFunction):
            for value in batch:
                f(value, None)
        else:
            for value in batch:
                f(value)
        return None


class PrintOperator(StreamOperator):
    """``print()``: one line per record, prefixed ``N> `` (subtask index + 1) when the
    sink runs in parallel, as Flink's ``PrintSinkFunction`` does."""

    def __init__(self, sink_identifier: str | None = None) -> None:
        self.sink_identifier = sink_identifier

    def open(self, ctx: OperatorContext) -> None:
        prefix = self.sink_identifier or ""
        if ctx.parallelism > 1:
            prefix = f"{prefix}:{ctx.subtask_index + 1}> " if prefix else f"{ctx.subtask_index + 1}> "
        elif prefix:
            prefix = f"{prefix}> "
        self._prefix = prefix

    def process_batch(self, batch: list, input_index: int = 0) -> None:
        prefix = self._prefix
        sys.stdout.write("".join([f"{prefix}{value}\n" for value in batch]))
        return None


class CollectSinkOperator(StreamOperator):
    """``execute_and_collect``: ships each batch to the client over a credit-bounded
    channel, so a client that reads slowly slows the job down instead of filling memory."""

    def open(self, ctx: OperatorContext) -> None:
        self._channel = ctx.open_client_channel()

    def process_batch(self, batch: list, input_index: int = 0) -> None:
        self._channel.send_batch(pickle.dumps(batch, protocol=5))
        return None
