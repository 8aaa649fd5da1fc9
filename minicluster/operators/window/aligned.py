"""The window operator's batch path: aligned event-time windows, without per-record
state access.

For tumbling and sliding event-time windows with the default ``EventTimeTrigger`` and
no evictor, what the trigger does per record is known in advance: it registers a timer
at the window's end and returns CONTINUE (unless the window's end has passed, which
cannot happen to a record newer than the watermark). So the panes that records go to
are *opened*: taken out of keyed state into a dict, ``open[start][key]``, and records
are folded into that dict directly:

    batch --key_of, window start--> open[start][key]        (one lookup per record)
        a pane opened the first time: set the key, take its stored value out of state;
        a new pane registers its end-of-window timer (and the cleanup timer with
        allowed lateness), as EventTimeTrigger.on_element and the operator would
        then: list append / reduce / AggregateFunction.add, into the open pane
    flush(): put every open pane back into keyed state

Most batches of a stream that is ordered by time up to a bound fall into one window,
so the loop then needs neither a window computation nor a tuple per record.

Panes stay open across batches until something else needs the state: a watermark
(before its timers fire), a batch that takes the per-record path, a processing-time
timer, the end of input; and, later, a checkpoint (``flush`` before the snapshot).
Between two watermarks a pane is read and written once, however many batches touch
it. Only a batch whose timestamps are all above the current watermark is taken; one
with late records (or late firings) goes to the per-record path, after a flush, which
keeps the arrival order exact.

When the watermark passes window ends (with no allowed lateness) ``fire_all`` pops
those panes and runs the window function without asking the trigger: for these windows
the answer is always FIRE and clean up.

Behind a pre-aggregator (``preaggregation.py``) batches also hold partials, ``(PARTIAL,
key, accumulator)`` stamped with their window's max timestamp: ``merge_partials`` merges
them into the open panes (``AggregateFunction.merge`` or the reduce function) and
returns the raw records for the usual path. A partial's window never ended before the
watermark, so this is all the trigger would have done with it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minicluster._functions.base import resolve_function
from minicluster._functions.simple import ReduceFunction
from minicluster._output_tag import OutputTag
from minicluster.operators.window.assigners import SlidingEventTimeWindows, TumblingEventTimeWindows
from minicluster.operators.window.preaggregation import PARTIAL
from minicluster.operators.window.triggers import EventTimeTrigger
from minicluster.operators.window.windows import MAX_TIMESTAMP, TimeWindow

if TYPE_CHECKING:
    from minicluster.operators.window.operator import WindowOperator

_WINDOW_CACHE_LIMIT = 1 << 12
_OPEN_PANES_LIMIT = 1 << 17  # flush before more panes than this are open
_MISSING = object()


def aligned_batches_for(operator: WindowOperator) -> AlignedWindowBatches | None:
    """The batch path for ``operator``, or None when its windows need the general one."""
    assigner = operator.assigner
    if operator.evictor is not None or type(operator.trigger) is not EventTimeTrigger:
        return None
    if type(assigner) is TumblingEventTimeWindows:
        return AlignedWindowBatches(operator, assigner._size, assigner._size, assigner._offset)
    if type(assigner) is SlidingEventTimeWindows:
        return AlignedWindowBatches(operator, assigner._size, assigner._slide, assigner._offset)
    return None


class AlignedWindowBatches:
    def __init__(self, operator: WindowOperator, size: int, slide: int, offset: int) -> None:
        self._operator = operator
        self._size = size
        self._slide = slide
        self._offset = offset
        self._windows: dict[int, TimeWindow] = {}
        self._open: dict[int, dict] = {}  # window start -> {key: the pane's value}
        self._homes: dict[int, dict] = {}  # window start -> {key: (entries, entry)}
        self._open_count = 0
        kind, function = operator.contents.kind, operator.contents.function
        self._kind = kind
        self._fold = {"aggregating": self._aggregate, "reducing": self._reduce_into,
                      "list": self._append}[kind]
        if kind == "reducing":
            self._reduce = resolve_function(function, ReduceFunction, "reduce")
        elif kind == "aggregating":
            self._create, self._add = function.create_accumulator, function.add
        self._result = function.get_result if kind == "aggregating" else None
        self._combine = self._reduce if kind == "reducing" else getattr(function, "merge", None)
        self._clears = operator.window_function.has_clear()
        self._lateness = operator.allowed_lateness
        self._entries_of_key = operator._pane.entries_of_key
        self._timers_at = operator.timers.event_time_timers_at
        # timestamp -> the timer service's dict of timers at it; valid until timers
        # fire, and every firing comes after a flush(), which forgets them
        self._timer_sets: dict[int, dict] = {}

    # -- records -----------------------------------------------------------------------

    def process(self, values: list, timestamps: list) -> bool:
        """Fold a batch into the open panes; False (nothing done, everything flushed)
        if a record is not above the watermark."""
        if not values:
            return True
        lowest = min(timestamps)
        if lowest <= self._operator.timers.current_watermark:
            self.flush()
            return False
        if self._open_count > _OPEN_PANES_LIMIT:
            self.flush()
        key_of, size, slide, offset = self._operator._key_of, self._size, self._slide, self._offset
        keys = [key_of(value) for value in values]
        if slide == size:
            first = lowest - (lowest - offset) % size
            if max(timestamps) < first + size:  # the whole batch is in one window
                self._fold(keys, values, None, first)
            else:
                self._fold(keys, values, [t - (t - offset) % size for t in timestamps], None)
            return True
        spread_keys, spread_values, starts = [], [], []
        for key, value, timestamp in zip(keys, values, timestamps):
            for start in range(timestamp - (timestamp - offset) % slide, timestamp - size, -slide):
                spread_keys.append(key)
                spread_values.append(value)
                starts.append(start)
        self._fold(spread_keys, spread_values, starts, None)
        return True

    # Each fold takes either one window start for the whole batch or a start per record
    # (then the batch is mostly runs of one start: the open dict changes on a new one).

    def _aggregate(self, keys: list, values: list, starts: list | None, start: int | None) -> None:
        add, create, checkout = self._add, self._create, self._checkout
        # an accumulator updated in place comes back as the same object: no store then
        if starts is None:
            panes = self._panes(start)
            get = panes.get
            for key, value in zip(keys, values):
                accumulator = get(key, _MISSING)
                if accumulator is _MISSING:
                    accumulator = checkout(key, start)
                    if accumulator is None:
                        accumulator = create()
                    panes[key] = accumulator
                updated = add(value, accumulator)
                if updated is not accumulator:
                    panes[key] = updated
            return
        current = None
        for key, value, start in zip(keys, values, starts):
            if start != current:
                current = start
                panes = self._panes(start)
                get = panes.get
            accumulator = get(key, _MISSING)
            if accumulator is _MISSING:
                accumulator = checkout(key, start)
                if accumulator is None:
                    accumulator = create()
                panes[key] = accumulator
            updated = add(value, accumulator)
            if updated is not accumulator:
                panes[key] = updated

    def _reduce_into(self, keys: list, values: list, starts: list | None,
                     start: int | None) -> None:
        reduce, checkout = self._reduce, self._checkout
        if starts is None:
            panes = self._panes(start)
            get = panes.get
            for key, value in zip(keys, values):
                current = get(key, _MISSING)
                if current is _MISSING:
                    current = checkout(key, start)
                panes[key] = value if current is None else reduce(current, value)
            return
        current_start = None
        for key, value, start in zip(keys, values, starts):
            if start != current_start:
                current_start = start
                panes = self._panes(start)
                get = panes.get
            current = get(key, _MISSING)
            if current is _MISSING:
                current = checkout(key, start)
            panes[key] = value if current is None else reduce(current, value)

    def _append(self, keys: list, values: list, starts: list | None, start: int | None) -> None:
        checkout = self._checkout
        if starts is None:
            starts = [start] * len(keys)
        current_start = None
        for key, value, start in zip(keys, values, starts):
            if start != current_start:
                current_start = start
                panes = self._panes(start)
                get = panes.get
            elements = get(key)
            if elements is None:
                elements = checkout(key, start)
                if elements is None:
                    elements = []
                panes[key] = elements
            elements.append(value)

    def merge_partials(self, values: list, timestamps: list) -> tuple[list, list]:
        """Merge the batch's partials into their panes; return the other records.

        A partial usually is its pane's only input before the pane fires, so it goes
        straight into keyed state (into the open pane if raw records opened it)."""
        size, combine, lateness = self._size, self._combine, self._lateness
        entries_of_key, register = self._entries_of_key, self._register
        watermark = self._operator.timers.current_watermark
        raw: list = []
        raw_timestamps: list = []
        current = None
        for value, timestamp in zip(values, timestamps):
            # is_partial(value), inlined
            if value.__class__ is not tuple or len(value) != 3 or value[0] is not PARTIAL:
                raw.append(value)
                raw_timestamps.append(timestamp)
                continue
            start = timestamp + 1 - size
            if start != current:
                if timestamp <= watermark:
                    raise RuntimeError(
                        f"a pre-aggregated partial of window [{start}, {start + size}) arrived "
                        f"after the watermark {watermark} passed its end; disable "
                        "minicluster.window.pre-aggregation and report this"
                    )
                current = start
                window = self._window(start)
                open_panes = self._open.get(start)
            _, key, partial = value
            if open_panes is not None and key in open_panes:
                stored = open_panes[key]
                open_panes[key] = partial if stored is None else combine(stored, partial)
                continue
            entries = entries_of_key(key)
            entry = (key, window)
            stored = entries.get(entry)
            if stored is None:
                entries[entry] = partial
                register(timestamp, entry)
                if lateness:
                    cleanup = min(timestamp + lateness, MAX_TIMESTAMP)
                    if cleanup != MAX_TIMESTAMP:
                        register(cleanup, entry)
            else:
                entries[entry] = combine(stored, partial)
        return raw, raw_timestamps

    def _panes(self, start: int) -> dict:
        panes = self._open.get(start)
        if panes is None:
            panes = self._open[start] = {}
            self._homes[start] = {}
        return panes

    def _checkout(self, key: Any, start: int) -> Any:
        """Open the pane of ``key`` in the window at ``start``: its stored value (None
        for a new pane, whose timers are registered now)."""
        window = self._window(start)
        entries = self._entries_of_key(key)
        entry = (key, window)
        self._homes[start][key] = (entries, entry)
        self._open_count += 1
        stored = entries.get(entry)
        if stored is None:
            end = start + self._size - 1
            self._register(end, entry)
            if self._lateness:
                cleanup = min(end + self._lateness, MAX_TIMESTAMP)
                if cleanup != MAX_TIMESTAMP:
                    self._register(cleanup, entry)
        return stored

    def _window(self, start: int) -> TimeWindow:
        window = self._windows.get(start)
        if window is None:
            if len(self._windows) > _WINDOW_CACHE_LIMIT:
                self._windows.clear()
            window = self._windows[start] = TimeWindow(start, start + self._size)
        return window

    def _register(self, timestamp: int, entry: tuple) -> None:
        """An event-time timer for (key, window) ``entry``, as
        ``timers.register_event_time_timer`` with that key current."""
        timers = self._timer_sets.get(timestamp)
        if timers is None:
            timers = self._timer_sets[timestamp] = self._timers_at(timestamp)
        timers[entry] = None

    def flush(self) -> None:
        """Put the open panes back into keyed state."""
        self._timer_sets.clear()
        if not self._open_count:
            return
        homes = self._homes
        for start, panes in self._open.items():
            start_homes = homes[start]
            for key, value in panes.items():
                entries, entry = start_homes[key]
                entries[entry] = value
        self._open.clear()
        homes.clear()
        self._open_count = 0

    # -- firing ------------------------------------------------------------------------

    def fire_all(self, due: list[tuple[int, Any, TimeWindow]]) -> None:
        """Emit the panes whose end-of-window timers are ``due``; the open panes were
        flushed before."""
        operator = self._operator
        entries_of_key = self._entries_of_key
        process = operator.window_function.process
        emitter = operator.emitter
        values, timestamps, side = emitter.values, emitter.timestamps, emitter.side
        ctx = operator._function_ctx
        kind, result, clears = self._kind, self._result, self._clears
        for _, key, window in due:
            stored = entries_of_key(key).pop((key, window), None)
            ctx._window = window
            if stored is not None:
                if kind == "list":
                    inputs = stored
                elif result is not None:
                    inputs = [result(stored)]
                else:
                    inputs = [stored]
                produced = process(key, window, ctx, inputs)
                if produced is not None:
                    timestamp = window[1] - 1
                    for out in produced:  # Emitter.emit_all, inlined
                        if type(out) is tuple and len(out) == 2 and isinstance(out[0], OutputTag):
                            side.add(out[0], out[1], timestamp)
                        else:
                            values.append(out)
                            timestamps.append(timestamp)
            if clears:
                operator.window_function.clear(window, ctx)
