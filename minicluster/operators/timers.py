"""Timers of one keyed operator: per (timestamp, key, namespace), deduplicated.

    event time:      SortedDict timestamp -> {(key, namespace)}; ``advance_watermark``
                     fires every timer at or before the watermark, in timestamp order
    processing time: the same structure; the earliest timestamp is registered with the
                     task's ProcessingTimeService, which the TaskManager loop fires

A timer fires with its key set as the backend's current key, so ``on_timer`` sees that
key's state. A timer registered while firing (even at the same timestamp) fires in the
same pass if it is already due.

BATCH (key-grouped input, after ``use_batch_mode()``), as Flink's
``BatchExecutionInternalTimeService``: processing-time timers are only queued (the
wall clock never fires them); ``fire_all_timers`` at every key change fires the
finished key's timers of both domains, event time at +inf for that key and -inf again
for the next one. While they fire the service is quiesced: a timer registered then
(``on_timer`` re-arming itself) is ignored, with one warning per operator, since it
would otherwise fire again at once, forever.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from sortedcontainers import SortedDict

from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK
from minicluster.operators.base import ProcessingTimeService
from minicluster.state.heap_backend import KeyedStateBackend

TimerCallback = Callable[[int, Any, Any], None]


class InternalTimerService:
    def __init__(
        self,
        backend: KeyedStateBackend,
        processing_time: ProcessingTimeService,
        on_event_time: TimerCallback,
        on_processing_time: TimerCallback,
        after_processing_pass: Callable[[], None] | None = None,
    ) -> None:
        """``after_processing_pass`` runs once after every due processing-time timer
        fired, so that an operator can emit their outputs as one batch."""
        self._backend = backend
        self._after_processing_pass = after_processing_pass
        self._processing_time = processing_time
        self._on_event_time = on_event_time
        self._on_processing_time = on_processing_time
        self._event: SortedDict = SortedDict()
        self._processing: SortedDict = SortedDict()
        self._scheduled: set[int] = set()
        self.current_watermark = MIN_WATERMARK
        self.batch = False  # BATCH, key-grouped input (use_batch_mode)
        self._quiesced = False  # BATCH: a key's timers are firing
        self._warned = False

    def use_batch_mode(self) -> None:
        """BATCH, key-grouped input: timers fire per key (``fire_all_timers``), never
        on the wall clock."""
        self.batch = True

    # -- registration (for the current key) -----------------------------------------------

    def register_event_time_timer(self, timestamp: int, namespace: Any = None) -> None:
        if self._quiesced:
            self._ignore("event", timestamp)
            return
        _add(self._event, int(timestamp), (self._backend.get_current_key(), namespace))

    def _ignore(self, domain: str, timestamp: int) -> None:
        if not self._warned:
            self._warned = True
            # stderr, not warnings.warn: a forked TaskManager may inherit a warnings
            # filter or recorder (pytest's) that would swallow it
            print(
                f"minicluster: warning: BATCH: a {domain}-time timer for {timestamp} was "
                f"registered while the timers of key {self._backend.get_current_key()!r} "
                "fired at the end of its records; timers registered then are ignored (as in "
                "Flink's BATCH mode). This warning is shown once per operator.",
                file=sys.stderr,
            )

    def event_time_timers_at(self, timestamp: int) -> dict:
        """The ``{(key, namespace): None}`` dict of the event-time timers at
        ``timestamp`` (created if missing): inserting into it registers a timer for any
        key, which is how the window operator's batch path registers a batch's panes.
        Valid until timers fire."""
        timestamp = int(timestamp)
        entries = self._event.get(timestamp)
        if entries is None:
            entries = self._event[timestamp] = {}
        return entries

    def delete_event_time_timer(self, timestamp: int, namespace: Any = None) -> None:
        _remove(self._event, int(timestamp), (self._backend.get_current_key(), namespace))

    def register_processing_time_timer(self, timestamp: int, namespace: Any = None) -> None:
        if self._quiesced:
            self._ignore("processing", timestamp)
            return
        timestamp = int(timestamp)
        _add(self._processing, timestamp, (self._backend.get_current_key(), namespace))
        if not self.batch and timestamp not in self._scheduled:
            self._scheduled.add(timestamp)
            self._processing_time.register(timestamp, self._fire_processing_time)

    def delete_processing_time_timer(self, timestamp: int, namespace: Any = None) -> None:
        _remove(self._processing, int(timestamp), (self._backend.get_current_key(), namespace))

    def current_processing_time(self) -> int:
        return self._processing_time.current_processing_time()

    def has_timers(self) -> bool:
        return bool(self._event) or bool(self._processing)

    # -- firing ------------------------------------------------------------------------

    def advance_watermark(self, watermark: int) -> None:
        self.current_watermark = watermark
        _fire_until(self._event, watermark, self._backend, self._on_event_time)

    def pop_due_event_time_timers(self, watermark: int) -> list[tuple[int, Any, Any]]:
        """Advance to ``watermark`` and take out the event-time timers it passes, without
        calling back: ``(timestamp, key, namespace)`` in firing order. For an operator
        that handles a whole watermark's timers itself and registers none while doing
        so (the window operator's batch path); it sets each key as current itself."""
        self.current_watermark = watermark
        timers, due = self._event, []
        while timers:
            timestamp = timers.peekitem(0)[0]
            if timestamp > watermark:
                break
            for key, namespace in timers.popitem(0)[1]:
                due.append((timestamp, key, namespace))
        return due

    def fire_all_timers(self) -> None:
        """BATCH, at the end of a key's records: fire every event-time timer (the
        watermark is +inf while they fire), then every processing-time timer (processing
        time does not wait in BATCH). Quiesced meanwhile: registrations are ignored. The
        watermark is -inf again afterwards, for the next key."""
        self.current_watermark = MAX_WATERMARK
        self._quiesced = True
        try:
            _fire_until(self._event, MAX_WATERMARK, self._backend, self._on_event_time)
            _fire_until(self._processing, MAX_WATERMARK, self._backend, self._on_processing_time)
        finally:
            self._quiesced = False
        self.current_watermark = MIN_WATERMARK

    def _fire_processing_time(self, timestamp: int) -> None:
        self._scheduled.discard(timestamp)
        now = self._processing_time.current_processing_time()
        _fire_until(self._processing, now, self._backend, self._on_processing_time)
        if self._after_processing_pass is not None:
            self._after_processing_pass()


def _add(timers: SortedDict, timestamp: int, entry: tuple) -> None:
    entries = timers.get(timestamp)
    if entries is None:
        timers[timestamp] = {entry: None}
    else:
        entries[entry] = None


def _remove(timers: SortedDict, timestamp: int, entry: tuple) -> None:
    entries = timers.get(timestamp)
    if entries is not None:
        entries.pop(entry, None)
        if not entries:
            del timers[timestamp]


def _fire_until(
    timers: SortedDict, limit: int, backend: KeyedStateBackend, callback: TimerCallback
) -> None:
    while timers:
        timestamp = timers.keys()[0]
        if timestamp > limit:
            return
        entries = timers[timestamp]
        key, namespace = next(iter(entries))  # registration order within a timestamp
        del entries[(key, namespace)]
        if not entries:
            del timers[timestamp]
        backend.set_current_key(key)
        callback(timestamp, key, namespace)
