"""Window pre-aggregation: folding records before the keyed exchange (combiner lifting).

    upstream --FORWARD, chained--> Window Pre-Aggregate --HASH--> Window
    records                        open[start][key] = acc         partials + raw records

As Flink's local-global aggregation and Beam's combiner lifting do, each producer
subtask folds its records per (key, window) before they cross the network, so the
exchange and the window operator see a few *partials* instead of every record.
``WindowedStream.aggregate``/``reduce`` insert it on their own when it provably leaves
the results unchanged (``pre_aggregation_blocker`` says why not otherwise): tumbling or
sliding event-time windows, the default ``EventTimeTrigger``, no evictor, an
``AggregateFunction`` with ``merge`` (a reduce function combines its own results), user
functions without ``open``/``close`` (they would also run in the producer's subtasks),
and an input that is a ``key_by`` of a stream.

The protocol. A partial is the record ``(PARTIAL, key, accumulator)`` (the reduced
value for ``reduce``) whose timestamp is its window's max timestamp; the pre-aggregator
sends it

- before it forwards a watermark W, for every window that ends at or before W (the
  window operator downstream fires those at W);
- for every window: when more than ``minicluster.window.pre-aggregation.max-entries``
  accumulators are open (bounded memory), before it forwards IDLE (consumers then
  leave its channel out of their watermark), and at the end of input.

A record is folded only if every window it belongs to ends after the last watermark
the pre-aggregator forwarded. The window operator's watermark is the minimum over its
inputs, so it is never above that one: without pre-aggregation such a record would
only have been added to its panes (no firing, not late), and merging the partial into
the pane gives the same pane. Every other record (no timestamp, or in a window that
may already have fired) goes on *raw*, unchanged, so the window operator treats it
exactly as without pre-aggregation: late firings within the allowed lateness, dropped
or side-output late data. After it was idle once, the pre-aggregator passes every
record on raw: while it was idle the consumer's watermark may have passed its own.
"""

from __future__ import annotations

from typing import Any

from minicluster._functions.base import Function, close_function, open_function, resolve_function
from minicluster._functions.simple import KeySelector, ReduceFunction
from minicluster._functions.window import AggregateFunction
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.window.assigners import (
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
    WindowAssigner,
)
from minicluster.operators.window.evictors import Evictor
from minicluster.operators.window.functions import WindowContents
from minicluster.operators.window.triggers import EventTimeTrigger, Trigger
from minicluster.operators.window.windows import MIN_TIMESTAMP
from minicluster.state.key_groups import stable_hash

_MISSING = object()


class _PartialMarker:
    """The first element of a partial record; one object per process (pickled by
    name), so ``value[0] is PARTIAL`` tells a partial from any user record."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "PARTIAL"

    def __repr__(self) -> str:
        return "PARTIAL"


PARTIAL = _PartialMarker()


def is_partial(value: Any) -> bool:
    return value.__class__ is tuple and len(value) == 3 and value[0] is PARTIAL


# -- eligibility ------------------------------------------------------------------------


def _has_lifecycle(function: Any) -> bool:
    """True if ``function`` overrides ``open`` or ``close``: what it does there may
    depend on the subtask (its index, its runtime context), so it runs downstream only."""
    if not isinstance(function, Function):
        return False
    kind = type(function)
    return kind.open is not Function.open or kind.close is not Function.close


def _can_merge(function: Any) -> bool:
    merge = getattr(function, "merge", None)
    if not callable(merge):
        return False
    return getattr(type(function), "merge", None) is not AggregateFunction.merge


def pre_aggregation_blocker(
    assigner: WindowAssigner,
    trigger: Trigger,
    evictor: Evictor | None,
    contents: WindowContents,
    key_selector: Any,
) -> str | None:
    """Why these windows cannot be pre-aggregated, or None if they can."""
    if type(assigner) not in (TumblingEventTimeWindows, SlidingEventTimeWindows):
        return f"{assigner!r} is not a tumbling or sliding event-time assigner"
    if type(trigger) is not EventTimeTrigger:
        return f"the trigger {type(trigger).__name__} is not the default EventTimeTrigger"
    if evictor is not None:
        return f"an evictor ({type(evictor).__name__}) needs every element"
    if contents.kind == "list":
        return "process()/apply() need every element"
    if contents.kind == "aggregating" and not _can_merge(contents.function):
        return f"{contents.describe()} has no merge()"
    for function in (key_selector, contents.function):
        if _has_lifecycle(function):
            return f"{type(function).__name__} overrides open() or close()"
    return None


class PartialAwareKeySelector(KeySelector):
    """The user's key selector, except that a partial carries its key: used by the
    keyed exchange behind the pre-aggregator and by the window operator."""

    def __init__(self, key_selector: Any) -> None:
        self._key_of = resolve_function(key_selector, KeySelector, "get_key")
        self.key_selector = key_selector

    def open(self, runtime_context: Any) -> None:
        open_function(self.key_selector, runtime_context)

    def close(self) -> None:
        close_function(self.key_selector)

    def get_key(self, value: Any) -> Any:
        if value.__class__ is tuple and len(value) == 3 and value[0] is PARTIAL:
            return value[1]
        return self._key_of(value)


# -- the operator ---------------------------------------------------------------------


class WindowPreAggregateOperator(StreamOperator):
    """Folds a producer subtask's records per (key, window); see the module docstring."""

    def __init__(self, key_selector: Any, assigner: WindowAssigner,
                 contents: WindowContents) -> None:
        blocker = pre_aggregation_blocker(assigner, EventTimeTrigger(), None, contents,
                                          key_selector)
        if blocker is not None:
            raise TypeError(f"these windows cannot be pre-aggregated: {blocker}")
        self.key_selector = key_selector
        self.assigner = assigner
        self.contents = contents

    def describe(self) -> str:
        return f"{self.assigner!r}, {self.contents.describe()}"

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = resolve_function(self.key_selector, KeySelector, "get_key")
        function = self.contents.function
        for user_function in (self.key_selector, function):
            open_function(user_function, ctx.runtime_context)
        if self.contents.kind == "aggregating":
            self._create, self._add = function.create_accumulator, function.add
            self._fold = self._aggregate
        else:
            self._reduce = resolve_function(function, ReduceFunction, "reduce")
            self._fold = self._reduce_into
        assigner = self.assigner
        self._size = assigner._size
        self._slide = getattr(assigner, "_slide", assigner._size)
        self._offset = assigner._offset
        self._max_entries = ctx.config.window_pre_aggregation_max_entries
        self._batch_size = ctx.batch_size
        self._watermark = MIN_TIMESTAMP
        self._open: dict[int, dict] = {}  # window start -> {key: accumulator}
        self._entries = 0
        self._pass_through = False

    def close(self) -> None:
        for function in (self.contents.function, self.key_selector):
            close_function(function)

    # -- records ---------------------------------------------------------------------

    def _earliest_end(self, timestamp: int) -> int:
        """The max timestamp of the first window ``timestamp`` belongs to; the minimum
        timestamp if it is in none (sliding windows shorter than their slide), so that
        it goes on raw and the window operator decides whether it is late."""
        size, slide = self._size, self._slide
        last_start = timestamp - (timestamp - self._offset) % slide
        if last_start <= timestamp - size:
            return MIN_TIMESTAMP
        return last_start - (last_start - timestamp + size - 1) // slide * slide + size - 1

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        if not values:
            return
        if timestamps is None or self._pass_through:
            self.output.collect(values, timestamps)
            return
        watermark, key_of = self._watermark, self._key_of
        try:
            lowest = min(timestamps)
        except TypeError:  # a record without a timestamp
            lowest = None
        if (
            lowest is not None
            and lowest > MIN_TIMESTAMP
            and self._size >= self._slide  # then the first window's end grows with time
            and self._earliest_end(lowest) > watermark
        ):
            # the usual batch: every window of every record ends after the watermark
            self._fold_checked([key_of(value) for value in values], values, timestamps, lowest)
        else:
            keys, folded, folded_timestamps, raw, raw_timestamps = [], [], [], [], []
            earliest_end = self._earliest_end
            for value, timestamp in zip(values, timestamps):
                if (
                    timestamp is None
                    or timestamp <= MIN_TIMESTAMP
                    or earliest_end(timestamp) <= watermark
                ):
                    raw.append(value)
                    raw_timestamps.append(timestamp)
                else:
                    keys.append(key_of(value))
                    folded.append(value)
                    folded_timestamps.append(timestamp)
            if folded:
                self._fold_checked(keys, folded, folded_timestamps, min(folded_timestamps))
            self.output.collect(raw, raw_timestamps)
        if self._entries > self._max_entries:
            self._flush(None)

    def _fold_checked(self, keys: list, values: list, timestamps: list, lowest: int) -> None:
        try:
            self._fold(keys, values, timestamps, lowest)
        except TypeError:
            for key in keys:  # an unhashable key: the error key_by gives without us
                stable_hash(key)
            raise

    def _layout(self, keys: list, values: list, timestamps: list, lowest: int,
                two_windows: bool = True):
        """``(keys, values, starts, first, boundary)``: the whole batch in the window at
        ``first`` (``starts`` and ``boundary`` None); tumbling windows at ``first`` and
        ``boundary``, picked by timestamp (``starts`` None); else one start per (record,
        window) pair, for ``keys`` and ``values`` repeated as needed."""
        size, slide, offset = self._size, self._slide, self._offset
        if slide == size:
            first = lowest - (lowest - offset) % size
            highest = max(timestamps)
            if highest < first + size:
                return keys, values, None, first, None
            if two_windows and highest < first + 2 * size:  # a batch across one window end
                return keys, values, None, first, first + size
            return keys, values, [t - (t - offset) % size for t in timestamps], None, None
        spread_keys, spread_values, starts = [], [], []
        for key, value, timestamp in zip(keys, values, timestamps):
            for start in range(timestamp - (timestamp - offset) % slide, timestamp - size, -slide):
                spread_keys.append(key)
                spread_values.append(value)
                starts.append(start)
        return spread_keys, spread_values, starts, None, None

    def _panes(self, start: int) -> dict:
        panes = self._open.get(start)
        if panes is None:
            panes = self._open[start] = {}
        return panes

    def _aggregate(self, keys: list, values: list, timestamps: list, lowest: int) -> None:
        keys, values, starts, first, boundary = self._layout(keys, values, timestamps, lowest)
        add, create = self._add, self._create
        created = 0
        if starts is None and boundary is None:
            panes = self._panes(first)
            get = panes.get
            for key, value in zip(keys, values):
                accumulator = get(key, _MISSING)
                if accumulator is _MISSING:
                    accumulator = panes[key] = create()
                    created += 1
                updated = add(value, accumulator)
                if updated is not accumulator:
                    panes[key] = updated
        elif starts is None:
            low, high = self._panes(first), self._panes(boundary)
            for key, value, timestamp in zip(keys, values, timestamps):
                panes = high if timestamp >= boundary else low
                accumulator = panes.get(key, _MISSING)
                if accumulator is _MISSING:
                    accumulator = panes[key] = create()
                    created += 1
                updated = add(value, accumulator)
                if updated is not accumulator:
                    panes[key] = updated
        else:
            current = None
            for key, value, start in zip(keys, values, starts):
                if start != current:
                    current = start
                    panes = self._panes(start)
                    get = panes.get
                accumulator = get(key, _MISSING)
                if accumulator is _MISSING:
                    accumulator = panes[key] = create()
                    created += 1
                updated = add(value, accumulator)
                if updated is not accumulator:
                    panes[key] = updated
        self._entries += created

    def _reduce_into(self, keys: list, values: list, timestamps: list, lowest: int) -> None:
        # as ReducingState.add: a pane holding None counts as empty
        keys, values, starts, first, _ = self._layout(keys, values, timestamps, lowest, False)
        reduce = self._reduce
        created = 0
        if starts is None:
            starts = (first,) * len(keys)
        current_start = None
        for key, value, start in zip(keys, values, starts):
            if start != current_start:
                current_start = start
                panes = self._panes(start)
                get = panes.get
            current = get(key, _MISSING)
            if current is _MISSING:
                created += 1
                panes[key] = value
            else:
                panes[key] = value if current is None else reduce(current, value)
        self._entries += created

    # -- flushing --------------------------------------------------------------------

    def _flush(self, watermark: int | None) -> None:
        """Send the partials of the windows that end at or before ``watermark`` (all
        of them for None)."""
        last = self._size - 1
        due = sorted(
            start for start in self._open if watermark is None or start + last <= watermark
        )
        if not due:
            return
        values: list = []
        timestamps: list = []
        for start in due:
            panes = self._open.pop(start)
            self._entries -= len(panes)
            values.extend([(PARTIAL, key, accumulator) for key, accumulator in panes.items()])
            timestamps.extend([start + last] * len(panes))
        step = self._batch_size
        for i in range(0, len(values), step):
            self.output.collect(values[i : i + step], timestamps[i : i + step])

    def process_watermark(self, watermark: int) -> None:
        self._flush(watermark)
        self._watermark = watermark
        self.output.emit_watermark(watermark)

    def process_watermark_status(self, idle: bool) -> None:
        if idle and not self._pass_through:
            self._flush(None)
            self._pass_through = True
        self.output.emit_watermark_status(idle)

    def end_input(self) -> None:
        self._flush(None)  # the final watermark has flushed everything already
