"""Keyed running aggregates: ``KeyedStream.reduce`` and the field aggregations.

In STREAMING mode (the only mode so far) every input record yields the key's updated
aggregate, as in Flink. The per-key accumulators live in a dict local to the subtask;
records reach the subtask that owns their key group, so every key lives in exactly
one subtask.
"""

from __future__ import annotations

from minicluster._functions import (
    KeySelector,
    ReduceFunction,
    close_function,
    open_function,
    resolve_function,
)
from minicluster.operators.aggregations import FieldAggregation
from minicluster.operators.base import OperatorContext, StreamOperator

_MISSING = object()


class KeyedReduceOperator(StreamOperator):
    def __init__(self, key_selector: object, reduce_function: object) -> None:
        resolve_function(key_selector, KeySelector, "get_key")
        resolve_function(reduce_function, ReduceFunction, "reduce")
        self.key_selector = key_selector
        self.reduce_function = reduce_function

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = resolve_function(self.key_selector, KeySelector, "get_key")
        self._reduce = resolve_function(self.reduce_function, ReduceFunction, "reduce")
        self._accumulators: dict = {}
        open_function(self.key_selector, ctx.runtime_context)
        open_function(self.reduce_function, ctx.runtime_context)

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        key_of, reduce, accumulators = self._key_of, self._reduce, self._accumulators
        out = []
        append = out.append
        for value in values:
            key = key_of(value)
            accumulator = accumulators.get(key, _MISSING)
            if accumulator is not _MISSING:
                value = reduce(accumulator, value)
            accumulators[key] = value
            append(value)
        if isinstance(reduce, FieldAggregation) and reduce.specialized is not None:
            self._reduce = reduce.specialized  # skip one call level from now on
        self.output.collect(out, timestamps)

    def close(self) -> None:
        close_function(self.reduce_function)
        close_function(self.key_selector)
