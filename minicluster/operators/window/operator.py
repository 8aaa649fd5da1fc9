"""The window operator: ``KeyedStream.window(...)`` and ``DataStream.window_all(...)``.

Per record (the general path, Flink's ``WindowOperator.processElement``):

    key -> assigner.assign_windows -> for each window:
        late (event time, window.max_timestamp + allowed lateness <= watermark)? skip it
        merging assigner? add it to the key's MergingWindowSet (merging panes)
        add the record to the pane (state namespace = the window)
        trigger.on_element -> FIRE: run the window function, PURGE: drop the pane
        register the cleanup timer (max_timestamp + allowed lateness)
    in no window because all were late -> side output (or counted as dropped)

Timers carry their window as namespace. A firing timer asks the trigger
(``on_event_time``/``on_processing_time``) and, at the window's cleanup time, drops
the pane, the trigger's state and the window function's per-window state. Results
carry ``window.max_timestamp()`` as their timestamp.

The batch path (``aligned.py``) takes the common case, tumbling or sliding event-time
windows with the default trigger and no evictor: it keeps the panes a batch touches
open (out of keyed state) until the next watermark, so it reads and writes state once
per pane and watermark, not per record; ``flush_open_panes`` puts them back.
With an evictor the pane keeps every element with its timestamp
(``EvictingWindowOperator``): reduce/aggregate run when the pane fires, between
``evict_before`` and ``evict_after``.

Behind a pre-aggregator (``pre_aggregated``, see ``preaggregation.py``) a batch mixes
partials, each merged into its pane as the trigger sees one element, and raw records,
which take the paths above.
"""

from __future__ import annotations

from typing import Any

from minicluster._functions.base import resolve_function
from minicluster._functions.simple import KeySelector, ReduceFunction
from minicluster._output_tag import OutputTag
from minicluster.operators.base import OperatorContext
from minicluster.operators.keyed_process import KeyedOperatorBase
from minicluster.operators.window.aligned import AlignedWindowBatches, aligned_batches_for
from minicluster.operators.window.assigners import MergingWindowAssigner, WindowAssigner
from minicluster.operators.window.contexts import (
    AssignerContext,
    EvictorContext,
    TriggerContext,
    WindowFunctionContext,
)
from minicluster.operators.window.evictors import Evictor, TimestampedValue
from minicluster.operators.window.functions import InternalWindowFunction, WindowContents
from minicluster.operators.window.merging import MergingWindowSet
from minicluster.operators.window.preaggregation import is_partial
from minicluster.operators.window.triggers import Trigger
from minicluster.operators.window.windows import MAX_TIMESTAMP, TimeWindow
from minicluster.state.descriptors import ValueStateDescriptor

_MERGING_WINDOW_SET = ValueStateDescriptor("merging-window-set")


class WindowOperator(KeyedOperatorBase):
    """Windows of a keyed stream; ``window_all`` runs it at parallelism 1 over one key."""

    def __init__(
        self,
        key_selector: Any,
        assigner: WindowAssigner,
        trigger: Trigger,
        evictor: Evictor | None,
        allowed_lateness: int,
        late_data_output_tag: OutputTag | None,
        contents: WindowContents,
        window_function: InternalWindowFunction,
        pre_aggregated: bool = False,
    ) -> None:
        resolve_function(key_selector, KeySelector, "get_key")
        if not isinstance(assigner, WindowAssigner):
            raise TypeError(f"window() takes a WindowAssigner, got {assigner!r}")
        if not isinstance(trigger, Trigger):
            raise TypeError(f"trigger() takes a Trigger, got {trigger!r}")
        if evictor is not None and not isinstance(evictor, Evictor):
            raise TypeError(f"evictor() takes an Evictor, got {evictor!r}")
        if isinstance(assigner, MergingWindowAssigner) and not trigger.can_merge():
            raise TypeError(
                f"the merging window assigner {assigner!r} needs a trigger that can merge; "
                f"{trigger!r}.can_merge() is False"
            )
        if allowed_lateness < 0:
            raise ValueError(f"the allowed lateness cannot be negative, got {allowed_lateness} ms")
        self.key_selector = key_selector
        self.assigner = assigner
        self.trigger = trigger
        self.evictor = evictor
        # Flink: lateness only applies to event time
        self.allowed_lateness = allowed_lateness if assigner.is_event_time() else 0
        self.late_data_output_tag = late_data_output_tag
        self.contents = contents
        self.window_function = window_function
        # fed by WindowPreAggregateOperators: batches hold partials too
        self.pre_aggregated = pre_aggregated

    def describe(self) -> str:
        parts = [repr(self.assigner), type(self.trigger).__name__]
        if self.evictor is not None:
            parts.append(type(self.evictor).__name__)
        if self.contents.function is not None:
            parts.append(self.contents.describe())
        parts.append(self.window_function.describe())
        return ", ".join(parts)

    # -- lifecycle -----------------------------------------------------------------------

    def open(self, ctx: OperatorContext) -> None:
        self._key_of = resolve_function(self.key_selector, KeySelector, "get_key")
        functions = [self.key_selector, self.contents.function, self.window_function.function]
        self._open_keyed(ctx, [f for f in functions if f is not None])
        backend, timers = self.backend, self.timers
        self._event_time = self.assigner.is_event_time()
        self._merging = isinstance(self.assigner, MergingWindowAssigner)
        self._pane = backend.get_state(self.contents.descriptor(self.evictor is not None))
        self._trigger_ctx = TriggerContext(backend, timers)
        self._function_ctx = WindowFunctionContext(backend, timers, self.emitter, self._merging)
        self._assigner_ctx = AssignerContext(ctx.processing_time, self.runtime_context)
        self._evictor_ctx = EvictorContext(timers)
        self._late_tag = self.late_data_output_tag
        self.num_late_records_dropped = 0
        self._batches: AlignedWindowBatches | None = aligned_batches_for(self)
        # with the batch path's windows and no lateness, every timer is a window's end:
        # fire a watermark's timers at once, without asking the trigger (same result)
        self._direct_fire = self._batches is not None and self.allowed_lateness == 0
        if self.pre_aggregated:
            function = self.contents.function
            self._combine = (
                resolve_function(function, ReduceFunction, "reduce")
                if self.contents.kind == "reducing" else function.merge
            )

    # -- records ---------------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        batches = self._batches
        if self.pre_aggregated and timestamps is not None:
            if batches is not None:
                values, timestamps = batches.merge_partials(values, timestamps)
            else:
                values, timestamps = self._merge_partials(values, timestamps)
        if values and (
            batches is None or timestamps is None or not batches.process(values, timestamps)
        ):
            self.flush_open_panes()
            self._process_records(values, timestamps)
        self.emitter.flush(self.output, True)

    def flush_open_panes(self) -> None:
        """Put the panes the batch path holds open back into keyed state; due before
        anything else reads or writes window state (timers, the per-record path, a
        checkpoint's snapshot)."""
        if self._batches is not None:
            self._batches.flush()

    def process_watermark(self, watermark: int) -> None:
        self.flush_open_panes()
        if self._direct_fire:
            self._batches.fire_all(self.timers.pop_due_event_time_timers(watermark))
            self.emitter.flush(self.output, True)
            self.output.emit_watermark(watermark)
        else:
            super().process_watermark(watermark)

    def end_input(self) -> None:
        self.flush_open_panes()

    def _process_records(self, values: list, timestamps: list | None) -> None:
        key_of, set_key = self._key_of, self.backend.set_current_key
        assign, assigner_ctx = self.assigner.assign_windows, self._assigner_ctx
        add = self._add_merging if self._merging else self._add
        for i, value in enumerate(values):
            timestamp = None if timestamps is None else timestamps[i]
            key = key_of(value)
            set_key(key)
            windows = assign(value, timestamp, assigner_ctx)
            if add(key, value, timestamp, windows) and self._is_element_late(timestamp):
                self._late(value, timestamp)

    def _merge_partials(self, values: list, timestamps: list) -> tuple[list, list]:
        """The per-record path's ``merge_partials``: merge each partial into its pane,
        as ``_add`` adds a record to one window; return the other records."""
        raw: list = []
        raw_timestamps: list = []
        size = self.assigner._size
        set_key, pane, trigger, ctx = (
            self.backend.set_current_key, self._pane, self.trigger, self._trigger_ctx
        )
        for value, timestamp in zip(values, timestamps):
            if not is_partial(value):
                raw.append(value)
                raw_timestamps.append(timestamp)
                continue
            _, key, accumulator = value
            window = TimeWindow(timestamp + 1 - size, timestamp + 1)
            if self._is_window_late(window):
                raise RuntimeError(
                    f"a pre-aggregated partial of window {window!r} arrived after the "
                    f"watermark {self.timers.current_watermark} passed its end; disable "
                    "minicluster.window.pre-aggregation and report this"
                )
            set_key(key)
            pane.set_current_namespace(window)
            entries = pane.current_group_entries()
            stored = entries.get((key, window))
            entries[(key, window)] = (
                accumulator if stored is None else self._combine(stored, accumulator)
            )
            ctx.window = window
            result = trigger.on_element(value, timestamp, window, ctx)
            if result.is_fire() and not self._emit(key, window, window):
                continue
            if result.is_purge():
                pane.set_current_namespace(window)
                pane.clear()
            self._register_cleanup_timer(window)
        return raw, raw_timestamps

    def _add(self, key: Any, value: Any, timestamp: int | None, windows: Any) -> bool:
        """Add to each window's pane; True if every window was late (skipped)."""
        skipped = True
        for window in windows:
            if self._is_window_late(window):
                continue
            skipped = False
            self._add_and_trigger(key, value, timestamp, window, window)
        return skipped

    def _add_and_trigger(
        self, key: Any, value: Any, timestamp: int | None, window: Any, state_window: Any
    ) -> None:
        """Add to the pane of ``state_window`` (the window itself, or for merging windows
        the one whose state holds it), ask the trigger, fire/purge, schedule cleanup."""
        pane, ctx = self._pane, self._trigger_ctx
        pane.set_current_namespace(state_window)
        self._add_to_pane(value, timestamp)
        ctx.window = window
        result = self.trigger.on_element(value, timestamp, window, ctx)
        if result.is_fire() and not self._emit(key, window, state_window):
            return
        if result.is_purge():
            pane.set_current_namespace(state_window)
            pane.clear()
        self._register_cleanup_timer(window)

    def _add_merging(self, key: Any, value: Any, timestamp: int | None, windows: Any) -> bool:
        window_set = self._merging_window_set()
        skipped = True
        for window in windows:
            actual = window_set.add_window(window, self._merge)
            if self._is_window_late(actual):
                window_set.retire_window(actual)
                continue
            skipped = False
            state_window = window_set.get_state_window(actual)
            if state_window is None:
                raise RuntimeError(f"window {actual!r} is not in the in-flight window set")
            self._add_and_trigger(key, value, timestamp, actual, state_window)
        self._persist(window_set)
        return skipped

    def _add_to_pane(self, value: Any, timestamp: int | None) -> None:
        if self.evictor is None:
            self._pane.add(value)
        else:
            self._pane.add(TimestampedValue(value, timestamp))

    def _merge(self, result: Any, merged: list, state_window: Any,
               merged_state_windows: list) -> None:
        """Windows ``merged`` became ``result``: merge triggers, timers and panes."""
        timers, ctx = self.timers, self._trigger_ctx
        if self._event_time:
            if result.max_timestamp() + self.allowed_lateness <= timers.current_watermark:
                raise RuntimeError(
                    "the end timestamp of an event-time window cannot become earlier than "
                    f"the current watermark by merging; watermark {timers.current_watermark}, "
                    f"window {result!r}"
                )
        elif result.max_timestamp() <= timers.current_processing_time():
            raise RuntimeError(
                "the end timestamp of a processing-time window cannot become earlier than "
                f"the current processing time by merging; window {result!r}"
            )
        ctx.window, ctx.merged_windows = result, merged
        try:
            self.trigger.on_merge(result, ctx)
        finally:
            ctx.merged_windows = None
        for window in merged:
            ctx.window = window
            self.trigger.clear(window, ctx)
            self._delete_cleanup_timer(window)
        self._pane.merge_namespaces(state_window, merged_state_windows)

    def _merging_window_set(self) -> MergingWindowSet:
        state = self.backend.get_state(_MERGING_WINDOW_SET)
        state.set_current_namespace(None)
        return MergingWindowSet(self.assigner, state.value() or {})

    def _persist(self, window_set: MergingWindowSet) -> None:
        state = self.backend.get_state(_MERGING_WINDOW_SET)
        state.set_current_namespace(None)
        state.update(window_set.mapping if window_set.mapping else None)

    # -- lateness and cleanup ------------------------------------------------------------------

    def _cleanup_time(self, window: Any) -> int:
        end = window.max_timestamp()
        if not self._event_time:
            return end
        return min(end + self.allowed_lateness, MAX_TIMESTAMP)  # Java would overflow here

    def _is_window_late(self, window: Any) -> bool:
        return self._event_time and self._cleanup_time(window) <= self.timers.current_watermark

    def _is_element_late(self, timestamp: int | None) -> bool:
        return (
            self._event_time
            and timestamp is not None
            and timestamp + self.allowed_lateness <= self.timers.current_watermark
        )

    def _late(self, value: Any, timestamp: int | None) -> None:
        if self._late_tag is not None:
            self.emitter.side.add(self._late_tag, value, timestamp)
        else:
            self.num_late_records_dropped += 1

    def _register_cleanup_timer(self, window: Any) -> None:
        cleanup = self._cleanup_time(window)
        if cleanup == MAX_TIMESTAMP:
            return  # a window that never ends (global, count) is never cleaned up by time
        if self._event_time:
            self.timers.register_event_time_timer(cleanup, window)
        else:
            self.timers.register_processing_time_timer(cleanup, window)

    def _delete_cleanup_timer(self, window: Any) -> None:
        cleanup = self._cleanup_time(window)
        if cleanup == MAX_TIMESTAMP:
            return
        if self._event_time:
            self.timers.delete_event_time_timer(cleanup, window)
        else:
            self.timers.delete_processing_time_timer(cleanup, window)

    # -- firing -------------------------------------------------------------------------------

    def _emit(self, key: Any, window: Any, state_window: Any) -> bool:
        """Run the window function over the pane; False if the pane is empty."""
        pane = self._pane
        pane.set_current_namespace(state_window)
        if self.evictor is not None:
            return self._emit_evicting(key, window)
        contents = pane.get()
        if contents is None or (self.contents.kind == "list" and not contents):
            return False
        self._run(key, window, contents if self.contents.kind == "list" else [contents])
        return True

    def _emit_evicting(self, key: Any, window: Any) -> bool:
        pane, evictor, ctx = self._pane, self.evictor, self._evictor_ctx
        elements = pane.get()
        if not elements:
            return False
        evictor.evict_before(elements, len(elements), window, ctx)
        inputs = self.contents.fold([element.value for element in elements])
        if inputs or self.contents.kind == "list":
            self._run(key, window, inputs)
        evictor.evict_after(elements, len(elements), window, ctx)
        pane.update(elements)
        return True

    def _run(self, key: Any, window: Any, inputs: list) -> None:
        ctx = self._function_ctx
        ctx.set_window(window)
        produced = self.window_function.process(key, window, ctx, inputs)
        if produced is not None:
            self.emitter.emit_all(produced, window.max_timestamp())

    def _fire_event_timer(self, timestamp: int, key: Any, namespace: Any) -> None:
        self._on_timer(timestamp, key, namespace, event_time=True)

    def _fire_processing_timer(self, timestamp: int, key: Any, namespace: Any) -> None:
        self.flush_open_panes()
        self._on_timer(timestamp, key, namespace, event_time=False)
        self.emitter.flush(self.output, True)

    def _on_timer(self, time: int, key: Any, window: Any, event_time: bool) -> None:
        ctx, pane = self._trigger_ctx, self._pane
        window_set = None
        if self._merging:
            window_set = self._merging_window_set()
            state_window = window_set.get_state_window(window)
            if state_window is None:
                return  # the window was merged into another; its timer is stale
        else:
            state_window = window
        ctx.window = window
        if event_time:
            result = self.trigger.on_event_time(time, window, ctx)
        else:
            result = self.trigger.on_processing_time(time, window, ctx)
        if result.is_fire():
            self._emit(key, window, state_window)
        if result.is_purge():
            pane.set_current_namespace(state_window)
            pane.clear()
        if event_time == self._event_time and time == self._cleanup_time(window):
            self._clear_all_state(window, state_window, window_set)
        if window_set is not None:
            self._persist(window_set)

    def _clear_all_state(self, window: Any, state_window: Any,
                         window_set: MergingWindowSet | None) -> None:
        pane, ctx = self._pane, self._trigger_ctx
        pane.set_current_namespace(state_window)
        pane.clear()
        ctx.window = window
        self.trigger.clear(window, ctx)
        self._function_ctx.set_window(window)
        self.window_function.clear(window, self._function_ctx)
        if window_set is not None:
            window_set.retire_window(window)
