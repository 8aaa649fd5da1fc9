"""Window assigners: which windows an element belongs to (PyFlink's names).

An assigner is configuration only: ``assign_windows(element, timestamp, context)`` is a
pure function of its arguments (the count assigners keep their counter in keyed state
through ``context.get_runtime_context()``, as PyFlink's do), so one instance serves
every key and every subtask. Each assigner names its default trigger and whether it
works in event time; merging assigners (sessions) also say how windows merge.

Sizes, slides, offsets and gaps take a ``Time``, a ``Duration`` or an int of
milliseconds.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Collection, Iterable

from minicluster.operators.window.triggers import (
    CountTrigger,
    EventTimeTrigger,
    NeverTrigger,
    ProcessingTimeTrigger,
    PurgingTrigger,
    Trigger,
)
from minicluster.operators.window.windows import (
    MIN_TIMESTAMP,
    CountWindow,
    GlobalWindow,
    TimeWindow,
)
from minicluster.common.time import to_millis  # noqa: F401 - used here and re-exported
from minicluster.state.descriptors import ValueStateDescriptor


class WindowAssigner(abc.ABC):
    """Assigns zero or more windows to each element."""

    class WindowAssignerContext(abc.ABC):
        @abc.abstractmethod
        def get_current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def get_runtime_context(self) -> Any: ...

    @abc.abstractmethod
    def assign_windows(self, element: Any, timestamp: int | None,
                       context: "WindowAssigner.WindowAssignerContext") -> Collection[Any]: ...

    @abc.abstractmethod
    def get_default_trigger(self, env: Any = None) -> Trigger: ...

    @abc.abstractmethod
    def is_event_time(self) -> bool: ...

    def get_window_serializer(self) -> None:
        """PyFlink-only (windows are pickled here); returns None."""
        return None


class MergingWindowAssigner(WindowAssigner):
    """An assigner whose windows can merge (sessions)."""

    class MergeCallback(abc.ABC):
        @abc.abstractmethod
        def merge(self, to_be_merged: Iterable[Any], merge_result: Any) -> None: ...

    @abc.abstractmethod
    def merge_windows(self, windows: Iterable[Any], callback: Any) -> None:
        """Call ``callback.merge(windows, result)`` for each set of windows to merge."""


def _require_timestamp(assigner: WindowAssigner, timestamp: int | None) -> int:
    if timestamp is None or timestamp <= MIN_TIMESTAMP:
        raise ValueError(
            f"{assigner!r} assigns windows by event time, but a record has no timestamp; "
            "give the stream timestamps with assign_timestamps_and_watermarks(...) or a "
            "WatermarkStrategy with a timestamp assigner in from_source(...)"
        )
    return timestamp


# -- time windows -----------------------------------------------------------------------


class TumblingEventTimeWindows(WindowAssigner):
    """Fixed-size, non-overlapping windows by element timestamp."""

    def __init__(self, size: int, offset: int = 0) -> None:
        if size <= 0 or abs(offset) >= size:
            raise ValueError(
                "TumblingEventTimeWindows parameters must satisfy abs(offset) < size and "
                f"size > 0, got size={size} ms, offset={offset} ms"
            )
        self._size = size
        self._offset = offset

    @staticmethod
    def of(size: Any, offset: Any = None) -> "TumblingEventTimeWindows":
        return TumblingEventTimeWindows(
            to_millis(size, "the window size"),
            0 if offset is None else to_millis(offset, "the window offset"),
        )

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        timestamp = _require_timestamp(self, timestamp)
        start = timestamp - (timestamp - self._offset) % self._size
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"TumblingEventTimeWindows({self._size}, {self._offset})"


class TumblingProcessingTimeWindows(WindowAssigner):
    """Fixed-size, non-overlapping windows by the subtask's clock on arrival."""

    def __init__(self, size: int, offset: int = 0) -> None:
        if size <= 0 or abs(offset) >= size:
            raise ValueError(
                "TumblingProcessingTimeWindows parameters must satisfy abs(offset) < size "
                f"and size > 0, got size={size} ms, offset={offset} ms"
            )
        self._size = size
        self._offset = offset

    @staticmethod
    def of(size: Any, offset: Any = None) -> "TumblingProcessingTimeWindows":
        return TumblingProcessingTimeWindows(
            to_millis(size, "the window size"),
            0 if offset is None else to_millis(offset, "the window offset"),
        )

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        start = now - (now - self._offset) % self._size
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"TumblingProcessingTimeWindows({self._size}, {self._offset})"


def _sliding_windows(timestamp: int, size: int, slide: int, offset: int) -> list[TimeWindow]:
    last_start = timestamp - (timestamp - offset) % slide
    starts = range(last_start, timestamp - size, -slide)
    return [TimeWindow(start, start + size) for start in starts]


def _check_sliding(name: str, size: int, slide: int, offset: int) -> None:
    if size <= 0 or slide <= 0 or abs(offset) >= slide:
        raise ValueError(
            f"{name} parameters must satisfy abs(offset) < slide, size > 0 and slide > 0, "
            f"got size={size} ms, slide={slide} ms, offset={offset} ms"
        )


class SlidingEventTimeWindows(WindowAssigner):
    """Windows of ``size`` starting every ``slide``, by element timestamp; an element
    belongs to ``size / slide`` windows."""

    def __init__(self, size: int, slide: int, offset: int = 0) -> None:
        _check_sliding("SlidingEventTimeWindows", size, slide, offset)
        self._size = size
        self._slide = slide
        self._offset = offset

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> "SlidingEventTimeWindows":
        return SlidingEventTimeWindows(
            to_millis(size, "the window size"),
            to_millis(slide, "the window slide"),
            0 if offset is None else to_millis(offset, "the window offset"),
        )

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        timestamp = _require_timestamp(self, timestamp)
        return _sliding_windows(timestamp, self._size, self._slide, self._offset)

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"SlidingEventTimeWindows({self._size}, {self._slide}, {self._offset})"


class SlidingProcessingTimeWindows(WindowAssigner):
    """Sliding windows by the subtask's clock on arrival."""

    def __init__(self, size: int, slide: int, offset: int = 0) -> None:
        _check_sliding("SlidingProcessingTimeWindows", size, slide, offset)
        self._size = size
        self._slide = slide
        self._offset = offset

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> "SlidingProcessingTimeWindows":
        return SlidingProcessingTimeWindows(
            to_millis(size, "the window size"),
            to_millis(slide, "the window slide"),
            0 if offset is None else to_millis(offset, "the window offset"),
        )

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        return _sliding_windows(now, self._size, self._slide, self._offset)

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"SlidingProcessingTimeWindows({self._size}, {self._slide}, {self._offset})"


# -- sessions -------------------------------------------------------------------------


class SessionWindowTimeGapExtractor(abc.ABC):
    """Gives the session gap (milliseconds) for an element (dynamic sessions)."""

    @abc.abstractmethod
    def extract(self, element: Any) -> int: ...


def _gap_function(extractor: Any) -> Callable[[Any], int]:
    if isinstance(extractor, SessionWindowTimeGapExtractor):
        return extractor.extract
    if callable(extractor):
        return extractor
    raise TypeError(
        "with_dynamic_gap() takes a SessionWindowTimeGapExtractor or a callable "
        f"element -> gap in ms, got {extractor!r}"
    )


def _session(timestamp: int, gap: Any, assigner: WindowAssigner) -> list[TimeWindow]:
    gap = to_millis(gap, "a session gap")
    if gap <= 0:
        raise ValueError(f"{assigner!r}: a session gap must be > 0 ms, got {gap}")
    return [TimeWindow(timestamp, timestamp + gap)]


class _SessionWindows(MergingWindowAssigner):
    def merge_windows(self, windows: Iterable[TimeWindow], callback: Any) -> None:
        TimeWindow.merge_windows(windows, callback)


class EventTimeSessionWindows(_SessionWindows):
    """Sessions by element timestamp: a window per element, ``[t, t + gap)``, merged
    with every window it overlaps or touches."""

    def __init__(self, session_gap: int) -> None:
        if session_gap <= 0:
            raise ValueError(f"EventTimeSessionWindows needs a gap > 0, got {session_gap} ms")
        self._session_gap = session_gap

    @staticmethod
    def with_gap(size: Any) -> "EventTimeSessionWindows":
        return EventTimeSessionWindows(to_millis(size, "the session gap"))

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicEventTimeSessionWindows":
        return DynamicEventTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        timestamp = _require_timestamp(self, timestamp)
        return [TimeWindow(timestamp, timestamp + self._session_gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"EventTimeSessionWindows({self._session_gap})"


class ProcessingTimeSessionWindows(_SessionWindows):
    """Sessions by the subtask's clock on arrival."""

    def __init__(self, session_gap: int) -> None:
        if session_gap <= 0:
            raise ValueError(
                f"ProcessingTimeSessionWindows needs a gap > 0, got {session_gap} ms"
            )
        self._session_gap = session_gap

    @staticmethod
    def with_gap(size: Any) -> "ProcessingTimeSessionWindows":
        return ProcessingTimeSessionWindows(to_millis(size, "the session gap"))

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicProcessingTimeSessionWindows":
        return DynamicProcessingTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        return [TimeWindow(now, now + self._session_gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ProcessingTimeSessionWindows({self._session_gap})"


class DynamicEventTimeSessionWindows(_SessionWindows):
    """Event-time sessions whose gap the extractor gives per element."""

    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        _gap_function(session_window_time_gap_extractor)
        self._extractor = session_window_time_gap_extractor

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicEventTimeSessionWindows":
        return DynamicEventTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        timestamp = _require_timestamp(self, timestamp)
        return _session(timestamp, _gap_function(self._extractor)(element), self)

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "DynamicEventTimeSessionWindows()"


class DynamicProcessingTimeSessionWindows(_SessionWindows):
    """Processing-time sessions whose gap the extractor gives per element."""

    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        _gap_function(session_window_time_gap_extractor)
        self._extractor = session_window_time_gap_extractor

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicProcessingTimeSessionWindows":
        return DynamicProcessingTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int | None, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        return _session(now, _gap_function(self._extractor)(element), self)

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "DynamicProcessingTimeSessionWindows()"


# -- global and count windows -----------------------------------------------------------


class GlobalWindows(WindowAssigner):
    """Every element in the one ``GlobalWindow``; its default trigger never fires, so
    give it a trigger (``CountTrigger`` ...)."""

    @staticmethod
    def create() -> "GlobalWindows":
        return GlobalWindows()

    def assign_windows(self, element: Any, timestamp: int | None,
                       context: Any) -> list[GlobalWindow]:
        return [GlobalWindow.get()]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return NeverTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "GlobalWindows()"


def _next_count(context: Any, descriptor: ValueStateDescriptor) -> int:
    """This key's element ordinal (0, 1, ...), counted in keyed state."""
    state = context.get_runtime_context().get_state(descriptor)
    count = state.value() or 0
    state.update(count + 1)
    return count


class CountTumblingWindowAssigner(WindowAssigner):
    """Per key, elements ``[n*size, (n+1)*size)`` form ``CountWindow(n)``
    (``KeyedStream.count_window(size)``)."""

    def __init__(self, window_size: int) -> None:
        if not isinstance(window_size, int) or window_size <= 0:
            raise ValueError(f"a count window size must be an int > 0, got {window_size!r}")
        self._window_size = window_size
        self._count_descriptor = ValueStateDescriptor("tumble-count-assigner")

    @staticmethod
    def of(window_size: int) -> "CountTumblingWindowAssigner":
        return CountTumblingWindowAssigner(window_size)

    def assign_windows(self, element: Any, timestamp: int | None,
                       context: Any) -> list[CountWindow]:
        return [CountWindow(_next_count(context, self._count_descriptor) // self._window_size)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        # PyFlink's default is CountTrigger; a count window never receives another
        # element after it fired, so purging it then is invisible and frees the pane.
        return PurgingTrigger.of(CountTrigger.of(self._window_size))

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CountTumblingWindowAssigner({self._window_size})"


class CountSlidingWindowAssigner(WindowAssigner):
    """Per key, ``CountWindow(n)`` holds elements ``[n*slide, n*slide + size)`` and
    fires once it is full (``KeyedStream.count_window(size, slide)``, as PyFlink)."""

    def __init__(self, window_size: int, window_slide: int) -> None:
        for name, value in (("size", window_size), ("slide", window_slide)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"a count window {name} must be an int > 0, got {value!r}")
        self._window_size = window_size
        self._window_slide = window_slide
        self._count_descriptor = ValueStateDescriptor("slide-count-assigner")

    @staticmethod
    def of(window_size: int, window_slide: int) -> "CountSlidingWindowAssigner":
        return CountSlidingWindowAssigner(window_size, window_slide)

    def assign_windows(self, element: Any, timestamp: int | None,
                       context: Any) -> list[CountWindow]:
        count = _next_count(context, self._count_descriptor)
        size, slide = self._window_size, self._window_slide
        windows = []
        window_id = count // slide
        while window_id >= 0 and window_id * slide <= count < window_id * slide + size:
            windows.append(CountWindow(window_id))
            window_id -= 1
        return windows

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return PurgingTrigger.of(CountTrigger.of(self._window_size))

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CountSlidingWindowAssigner({self._window_size}, {self._window_slide})"
