"""Stateless one-input operators: map, flat_map, filter, process, and the sinks.

Outputs keep the timestamp of the record they came from, as Flink's collectors do.
"""

from __future__ import annotations

import pickle
import sys

from minicluster._functions.base import close_function, open_function, resolve_function
from minicluster._functions.process import ProcessFunction
from minicluster._functions.simple import (
    FilterFunction,
    FlatMapFunction,
    MapFunction,
    SinkFunction,
)
from minicluster._output_tag import OutputTag
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.provenance import kept_index, mark_failed_record


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


def _position(values: list, it) -> int:
    """The record ``it`` (an ``iter(values)``) yielded last: the one that raised."""
    return len(values) - it.__length_hint__() - 1


class MapOperator(UserFunctionOperator):
    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        f = self._call
        it = iter(values)  # after an exception, tells which record raised: no cost per record
        try:
            out = [f(value) for value in it]
        except BaseException as error:
            mark_failed_record(error, values, _position(values, it))
            raise
        self.output.collect(out, timestamps)

    def input_index(self, values: list, output: list, index: int) -> int | None:
        """Output ``index`` came from input ``index`` (one record out per record in)."""
        return index if len(output) == len(values) else None


class FlatMapOperator(UserFunctionOperator):
    """``flat_map``: its output leaves in batches of about ``minicluster.batch-size``
    records, however many each input batch makes. A batch of 4096 lines of eight words
    would otherwise leave as 32k records (megabytes of fresh objects), and the next
    operator (W1's combiner hashing each word) would find them out of the CPU cache:
    measured, W1's word counting took twice as long."""

    kind = FlatMapFunction
    method = "flat_map"

    def open(self, ctx: OperatorContext) -> None:
        super().open(ctx)
        self._batch_size = ctx.batch_size

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        f, size, collect = self._call, self._batch_size, self.output.collect
        out: list = []
        extend = out.extend
        out_ts: list | None = None if timestamps is None else []
        for i, value in enumerate(values):
            produced = f(value)
            if produced is None:
                raise TypeError(
                    f"flat_map function returned None for {value!r}; it must return or "
                    "yield an iterable"
                )
            if out_ts is None:
                extend(produced)
            else:
                before = len(out)
                extend(produced)
                out_ts.extend([timestamps[i]] * (len(out) - before))
            if len(out) >= size:
                collect(out, out_ts)
                out = []
                extend = out.extend
                out_ts = None if timestamps is None else []
        collect(out, out_ts)


class FilterOperator(UserFunctionOperator):
    kind = FilterFunction
    method = "filter"

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        f = self._call
        it = iter(values)
        try:
            if timestamps is None:
                kept = [value for value in it if f(value)]
            else:
                keep = [f(value) for value in it]
        except BaseException as error:
            mark_failed_record(error, values, _position(values, it))
            raise
        if timestamps is None:
            self.output.collect(kept, None)
            return
        self.output.collect(
            [v for v, k in zip(values, keep) if k], [t for t, k in zip(timestamps, keep) if k]
        )

    def input_index(self, values: list, output: list, index: int) -> int | None:
        """Which input record the ``index``-th kept one was (None if ambiguous)."""
        return kept_index(values, output, index)


class SideOutputBuffer:
    """Collects what a function sends to side outputs during one batch."""

    __slots__ = ("values", "timestamps")

    def __init__(self) -> None:
        self.values: dict[str, list] = {}
        self.timestamps: dict[str, list] = {}

    def add(self, tag: OutputTag, value: object, timestamp: int | None) -> None:
        if not isinstance(tag, OutputTag):
            raise TypeError(f"side outputs need an OutputTag, got {tag!r}")
        tag_id = tag.tag_id
        values = self.values.get(tag_id)
        if values is None:
            values = self.values[tag_id] = []
            self.timestamps[tag_id] = []
        values.append(value)
        self.timestamps[tag_id].append(timestamp)

    def flush(self, output, has_time: bool) -> None:
        for tag_id, values in self.values.items():
            output.collect_side(tag_id, values, self.timestamps[tag_id] if has_time else None)
        self.values.clear()
        self.timestamps.clear()


class Emitter:
    """Sorts a function's results into the main output and side outputs: PyFlink lets
    a function ``yield tag, value`` for a side output as well as call
    ``ctx.output(tag, value)``."""

    __slots__ = ("values", "timestamps", "side")

    def __init__(self) -> None:
        self.values: list = []
        self.timestamps: list = []
        self.side = SideOutputBuffer()

    def emit_all(self, produced, timestamp: int | None) -> None:
        for out in produced:
            if type(out) is tuple and len(out) == 2 and isinstance(out[0], OutputTag):
                self.side.add(out[0], out[1], timestamp)
            else:
                self.values.append(out)
                self.timestamps.append(timestamp)

    def run_per_record(
        self, output, values: list, timestamps: list | None, call, ctx,
        key_of=None, set_key=None,
    ) -> None:
        """The loop of every process-style operator: per record, set the context's
        timestamp (and first the current key, for keyed operators), call
        ``call(value, ctx)``, sort what it returns or yields; then flush once."""
        emit_all = self.emit_all
        i = 0
        try:
            if key_of is None:
                for i, value in enumerate(values):
                    timestamp = ctx._timestamp = None if timestamps is None else timestamps[i]
                    produced = call(value, ctx)
                    if produced is not None:
                        emit_all(produced, timestamp)
            else:
                for i, value in enumerate(values):
                    set_key(key_of(value))
                    timestamp = ctx._timestamp = None if timestamps is None else timestamps[i]
                    produced = call(value, ctx)
                    if produced is not None:
                        emit_all(produced, timestamp)
        except BaseException as error:
            mark_failed_record(error, values, i)  # for the error message
            raise
        self.flush(output, timestamps is not None)

    def flush(self, output, has_time: bool) -> None:
        values, timestamps = self.values, self.timestamps
        self.values, self.timestamps = [], []
        output.collect(values, timestamps if has_time else None)
        self.side.flush(output, has_time)


class _ProcessContext(ProcessFunction.Context):
    __slots__ = ("_timestamp", "_side")

    def __init__(self, side: SideOutputBuffer) -> None:
        self._timestamp: int | None = None
        self._side = side

    def timestamp(self) -> int | None:
        return self._timestamp

    def output(self, output_tag: OutputTag, value: object) -> None:
        self._side.add(output_tag, value, self._timestamp)


class ProcessOperator(UserFunctionOperator):
    kind = ProcessFunction
    method = "process_element"

    def __init__(self, function: object) -> None:
        if not isinstance(function, ProcessFunction):
            raise TypeError(
                f"process() takes a ProcessFunction, got {type(function).__name__}"
            )
        super().__init__(function)

    def open(self, ctx: OperatorContext) -> None:
        super().open(ctx)
        self._emitter = Emitter()
        self._ctx = _ProcessContext(self._emitter.side)

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self._emitter.run_per_record(self.output, values, timestamps, self._call, self._ctx)


class SinkOperator(UserFunctionOperator):
    """``add_sink``/``sink_to`` with a ``SinkFunction`` (``invoke(value, context)``) or a
    plain callable taking the value."""

    kind = SinkFunction
    method = "invoke"

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        f = self._call
        it = iter(values)
        try:
            if isinstance(self.function, SinkFunction):
                for value in it:
                    f(value, None)
            else:
                for value in it:
                    f(value)
        except BaseException as error:
            mark_failed_record(error, values, _position(values, it))
            raise


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

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        prefix = self._prefix
        sys.stdout.write("".join([f"{prefix}{value}\n" for value in values]))


class CollectSinkOperator(StreamOperator):
    """``execute_and_collect``: ships each batch to the client over a credit-bounded
    channel, so a client that reads slowly slows the job down instead of filling memory."""

    def open(self, ctx: OperatorContext) -> None:
        self._channel = ctx.open_client_channel()

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self._channel.send_batch(pickle.dumps(values, protocol=5))
