"""Keyed running aggregates: ``KeyedStream.reduce`` and the field aggregations.

In STREAMING mode every input record yields the key's updated aggregate, as in
Flink. In BATCH mode (``execution.runtime-mode: BATCH`` in the job's configuration,
resolved by the client) nothing is emitted per record: at the end of input each key's
final aggregate is emitted once, with the timestamp of the key's last record, as
Flink's batch execution does. Records reach the subtask that owns their key group, so
every key lives in exactly one subtask. In BATCH mode the producers pre-combine per key
before the blocking exchange (``combiner()``, used by
``network/blocking.CombiningRecordWriter``), and the task feeds the reduce its input
grouped by key (``batch_key_selectors()``, ``process_runs()``;
``network/grouped_input.py``): only the current key's accumulator is held, and a key's
result leaves when its group ends, so the memory does not grow with the number of
distinct keys. With ``minicluster.batch.sort-inputs: false`` the accumulators of all
keys are kept in a dict until the end of input (``process_batch``).
"""

from __future__ import annotations

from minicluster._functions.base import close_function, open_function, resolve_function
from minicluster._functions.simple import KeySelector, ReduceFunction
from minicluster.network.blocking import KeyedPartial
from minicluster.operators.aggregations import FieldAggregation
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.window.preaggregation import _has_lifecycle

_MISSING = object()


def _nones(count: int) -> list:
    return [None] * count


class KeyedReduceOperator(StreamOperator):
    def __init__(self, key_selector: object, reduce_function: object) -> None:
        resolve_function(key_selector, KeySelector, "get_key")
        resolve_function(reduce_function, ReduceFunction, "reduce")
        self.key_selector = key_selector
        self.reduce_function = reduce_function

    def combiner(self) -> tuple | None:
        """``(key_of, reduce)`` for a BATCH combiner in the producers, or None when a
        function has ``open``/``close`` (it may depend on the subtask it runs in)."""
        if _has_lifecycle(self.key_selector) or _has_lifecycle(self.reduce_function):
            return None
        return (
            resolve_function(self.key_selector, KeySelector, "get_key"),
            resolve_function(self.reduce_function, ReduceFunction, "reduce"),
        )

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = resolve_function(self.key_selector, KeySelector, "get_key")
        self._reduce = resolve_function(self.reduce_function, ReduceFunction, "reduce")
        self._accumulators: dict = {}
        self._timestamps: dict = {}
        self._batch = ctx.config.is_batch
        self._batch_size = ctx.batch_size
        # BATCH + a field aggregation: fold plain field values per key (FieldFolder)
        reduce = self.reduce_function
        self._folder = (
            reduce.folder() if self._batch and isinstance(reduce, FieldAggregation) else None
        )
        # BATCH, grouped input (process_runs): the current key and its accumulator
        self._current_key = _MISSING
        self._current = _MISSING
        self._current_stamp = None
        self._timed = False
        self.max_open_keys = 0  # most keys whose accumulators were held at once
        open_function(self.key_selector, ctx.runtime_context)
        open_function(self.reduce_function, ctx.runtime_context)

    def batch_key_selectors(self) -> list | None:
        """BATCH: the task groups the input by the reduce's own key: the key carried by
        a combiner's ``KeyedPartial``, else the key selector's (None in STREAMING)."""
        if not getattr(self, "_batch", False):
            return None
        key_of = self._key_of

        def reduce_key(value, _partial=KeyedPartial, _key_of=key_of):
            return value.key if type(value) is _partial else _key_of(value)

        return [reduce_key]

    def process_runs(self, runs: list[tuple[list, list | None, int]]) -> None:
        """BATCH, key-grouped input: fold the current key; when the key changes its
        group is over (a key never returns), so its final value is emitted. The keys
        completed in this step leave as one batch."""
        key_of, reduce = self._key_of, self._reduce
        key, accumulator, stamp = self._current_key, self._current, self._current_stamp
        out, stamps = [], []
        append, append_stamp = out.append, stamps.append
        for values, timestamps, _ in runs:
            if timestamps is None:
                timestamps = _nones(len(values))
            else:
                self._timed = True
            for value, timestamp in zip(values, timestamps):
                if type(value) is KeyedPartial:  # a producer's combiner folded these
                    value_key, value = value.key, value.value
                else:
                    value_key = key_of(value)
                if value_key is key or value_key == key:
                    accumulator = reduce(accumulator, value)
                else:  # the previous key's group is over
                    if accumulator is not _MISSING:
                        append(accumulator)
                        append_stamp(stamp)
                    key, accumulator = value_key, value
                stamp = timestamp
            if isinstance(reduce, FieldAggregation) and reduce.specialized is not None:
                reduce = self._reduce = reduce.specialized
        if accumulator is not _MISSING and self.max_open_keys == 0:
            self.max_open_keys = 1  # never more: one key's accumulator at a time
        self._current_key, self._current, self._current_stamp = key, accumulator, stamp
        if out:
            self.output.collect(out, stamps if self._timed else None)

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        if self._batch:
            self._accumulate(values, timestamps)
            return
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

    def _accumulate(self, values: list, timestamps: list | None) -> None:
        """BATCH: fold into the accumulators, emit nothing until the end of input."""
        key_of, reduce, accumulators = self._key_of, self._reduce, self._accumulators
        folder = self._folder
        if folder is not None:
            if any(type(value) is KeyedPartial for value in values):
                keys = [v.key if type(v) is KeyedPartial else key_of(v) for v in values]
                values = [v.value if type(v) is KeyedPartial else v for v in values]
            else:
                keys = list(map(key_of, values))
            folder.fold(keys, values)
            if len(folder) > self.max_open_keys:
                self.max_open_keys = len(folder)
            if timestamps is not None:
                self._timestamps.update(zip(keys, timestamps))
            return
        keys = []
        for value in values:
            if type(value) is KeyedPartial:  # a producer's combiner already folded these
                key, value = value.key, value.value
            else:
                key = key_of(value)
            keys.append(key)
            accumulator = accumulators.get(key, _MISSING)
            accumulators[key] = value if accumulator is _MISSING else reduce(accumulator, value)
        if timestamps is not None:
            stamps = self._timestamps
            for key, timestamp in zip(keys, timestamps):
                stamps[key] = timestamp
        if len(accumulators) > self.max_open_keys:
            self.max_open_keys = len(accumulators)
        if isinstance(reduce, FieldAggregation) and reduce.specialized is not None:
            self._reduce = reduce.specialized

    def end_input(self) -> None:
        if not self._batch:
            return
        if self._current is not _MISSING:  # grouped input: the last key's result
            last, stamp = self._current, self._current_stamp
            self._current_key = self._current = _MISSING
            self._current_stamp = None
            self.output.collect([last], [stamp] if self._timed else None)
        if self._folder is not None and len(self._folder):  # ungrouped input only
            self._accumulators = dict(self._folder.items())
            self._folder.clear()
        keys = list(self._accumulators)
        accumulators, stamps, size = self._accumulators, self._timestamps, self._batch_size
        for start in range(0, len(keys), size):
            chunk = keys[start:start + size]
            timestamps = [stamps.get(k) for k in chunk] if stamps else None
            self.output.collect([accumulators[k] for k in chunk], timestamps)
        self._accumulators, self._timestamps = {}, {}

    def close(self) -> None:
        close_function(self.reduce_function)
        close_function(self.key_selector)
