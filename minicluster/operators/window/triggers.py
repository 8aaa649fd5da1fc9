"""Triggers: when a pane (the contents of one window for one key) is evaluated.

The window operator calls a trigger for every element added to a pane
(``on_element``), for the timers the trigger registered (``on_event_time``,
``on_processing_time``), when panes merge (``on_merge``) and when a pane is dropped
(``clear``). Each call returns a ``TriggerResult``: FIRE evaluates the window function,
PURGE drops the pane's contents, FIRE_AND_PURGE does both, CONTINUE nothing.

A trigger keeps no state in its own attributes (one instance serves every key and
window): what it must remember goes into ``ctx.get_partitioned_state(descriptor)``,
which is scoped to the current key and window.
"""

from __future__ import annotations

import abc
import enum
from typing import Any

from minicluster.state.descriptors import ReducingStateDescriptor, StateDescriptor


class TriggerResult(enum.Enum):
    """What to do with a pane: ``(fire, purge)``."""

    CONTINUE = (False, False)
    FIRE_AND_PURGE = (True, True)
    FIRE = (True, False)
    PURGE = (False, True)

    def is_fire(self) -> bool:
        return self.value[0]

    def is_purge(self) -> bool:
        return self.value[1]


class Trigger(abc.ABC):
    """Decides when a window's pane fires (PyFlink's ``Trigger``)."""

    class TriggerContext(abc.ABC):
        """Timers and state of the current key and window."""

        @abc.abstractmethod
        def get_current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def get_current_watermark(self) -> int: ...

        @abc.abstractmethod
        def register_processing_time_timer(self, time: int) -> None: ...

        @abc.abstractmethod
        def register_event_time_timer(self, time: int) -> None: ...

        @abc.abstractmethod
        def delete_processing_time_timer(self, time: int) -> None: ...

        @abc.abstractmethod
        def delete_event_time_timer(self, time: int) -> None: ...

        @abc.abstractmethod
        def get_partitioned_state(self, state_descriptor: StateDescriptor) -> Any:
            """State scoped to the current key and window."""

        def get_metric_group(self) -> None:
            return None

    class OnMergeContext(TriggerContext):
        @abc.abstractmethod
        def merge_partitioned_state(self, state_descriptor: StateDescriptor) -> None:
            """Merge the merged windows' state of ``state_descriptor`` into the new
            window's (list, reducing and aggregating state)."""

    @abc.abstractmethod
    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: "Trigger.TriggerContext") -> TriggerResult: ...

    @abc.abstractmethod
    def on_processing_time(self, time: int, window: Any,
                           ctx: "Trigger.TriggerContext") -> TriggerResult: ...

    @abc.abstractmethod
    def on_event_time(self, time: int, window: Any,
                      ctx: "Trigger.TriggerContext") -> TriggerResult: ...

    def can_merge(self) -> bool:
        """True if ``on_merge`` is implemented (required with session windows)."""
        return False

    def on_merge(self, window: Any, ctx: "Trigger.OnMergeContext") -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support merging windows")

    def clear(self, window: Any, ctx: "Trigger.TriggerContext") -> None:
        """Drop the timers and state this trigger holds for ``window``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class EventTimeTrigger(Trigger):
    """Fires once the watermark passes the window's end; again for every element that
    arrives within the allowed lateness."""

    @staticmethod
    def create() -> "EventTimeTrigger":
        return EventTimeTrigger()

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        if window.max_timestamp() <= ctx.get_current_watermark():
            return TriggerResult.FIRE  # late but within the allowed lateness
        ctx.register_event_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Any) -> None:
        # only if the watermark has not passed the merged window's end; otherwise the
        # cleanup timer (or the next element) takes care of it
        if window.max_timestamp() > ctx.get_current_watermark():
            ctx.register_event_time_timer(window.max_timestamp())

    def clear(self, window: Any, ctx: Any) -> None:
        ctx.delete_event_time_timer(window.max_timestamp())


class ProcessingTimeTrigger(Trigger):
    """Fires once the subtask's clock passes the window's end."""

    @staticmethod
    def create() -> "ProcessingTimeTrigger":
        return ProcessingTimeTrigger()

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        ctx.register_processing_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.FIRE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Any) -> None:
        if window.max_timestamp() > ctx.get_current_processing_time():
            ctx.register_processing_time_timer(window.max_timestamp())

    def clear(self, window: Any, ctx: Any) -> None:
        ctx.delete_processing_time_timer(window.max_timestamp())


def _min(a: int, b: int) -> int:
    return a if a <= b else b


def _sum(a: int, b: int) -> int:
    return a + b


class _ContinuousTrigger(Trigger):
    """Fires every ``interval`` while the window is open, on one clock. Subclasses
    name the clock (``_event_time``) and react to elements and to their own timers;
    merging, clearing and scheduling the next firing are the same for both clocks."""

    _event_time = True

    def __init__(self, interval: int) -> None:
        if interval <= 0:
            raise ValueError(
                f"{type(self).__name__} needs an interval > 0, got {interval} ms"
            )
        self.interval = interval
        self.state_desc = ReducingStateDescriptor("fire-time", _min)

    @classmethod
    def of(cls, interval: Any):
        from minicluster.common.time import to_millis

        return cls(to_millis(interval, "the trigger interval"))

    def _register(self, ctx: Any, timestamp: int) -> None:
        if self._event_time:
            ctx.register_event_time_timer(timestamp)
        else:
            ctx.register_processing_time_timer(timestamp)

    def _delete(self, ctx: Any, timestamp: int) -> None:
        if self._event_time:
            ctx.delete_event_time_timer(timestamp)
        else:
            ctx.delete_processing_time_timer(timestamp)

    def _fire_if_due(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        fire_time = ctx.get_partitioned_state(self.state_desc)
        if fire_time.get() == time:
            fire_time.clear()
            self._register_next(time, window, ctx, fire_time)
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Any) -> None:
        ctx.merge_partitioned_state(self.state_desc)
        next_fire = ctx.get_partitioned_state(self.state_desc).get()
        if next_fire is not None:
            self._register(ctx, next_fire)

    def clear(self, window: Any, ctx: Any) -> None:
        fire_time = ctx.get_partitioned_state(self.state_desc)
        timestamp = fire_time.get()
        if timestamp is not None:
            self._delete(ctx, timestamp)
            fire_time.clear()

    def _register_next(self, time: int, window: Any, ctx: Any, fire_time: Any) -> None:
        next_fire = min(time + self.interval, window.max_timestamp())
        fire_time.add(next_fire)
        self._register(ctx, next_fire)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.interval})"


class ContinuousEventTimeTrigger(_ContinuousTrigger):
    """Fires every ``interval`` of event time inside the window, and at its end."""

    _event_time = True

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        if window.max_timestamp() <= ctx.get_current_watermark():
            return TriggerResult.FIRE
        ctx.register_event_time_timer(window.max_timestamp())
        fire_time = ctx.get_partitioned_state(self.state_desc)
        if fire_time.get() is None:
            self._register_next(timestamp - timestamp % self.interval, window, ctx, fire_time)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        if time == window.max_timestamp():
            return TriggerResult.FIRE
        return self._fire_if_due(time, window, ctx)


class ContinuousProcessingTimeTrigger(_ContinuousTrigger):
    """Fires every ``interval`` of processing time while the window is open."""

    _event_time = False

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        fire_time = ctx.get_partitioned_state(self.state_desc)
        if fire_time.get() is None:
            now = ctx.get_current_processing_time()
            self._register_next(now - now % self.interval, window, ctx, fire_time)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return self._fire_if_due(time, window, ctx)

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE


class CountTrigger(Trigger):
    """Fires when the pane holds ``count`` elements (counted since it last fired)."""

    def __init__(self, count: int) -> None:
        if not isinstance(count, int) or count <= 0:
            raise ValueError(f"CountTrigger needs a count > 0, got {count!r}")
        self._count = count
        self._count_state_descriptor = ReducingStateDescriptor("count", _sum)

    @staticmethod
    def of(count: int) -> "CountTrigger":
        return CountTrigger(count)

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        count = ctx.get_partitioned_state(self._count_state_descriptor)
        count.add(1)
        if count.get() >= self._count:
            count.clear()
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Any) -> None:
        ctx.merge_partitioned_state(self._count_state_descriptor)

    def clear(self, window: Any, ctx: Any) -> None:
        ctx.get_partitioned_state(self._count_state_descriptor).clear()

    def __repr__(self) -> str:
        return f"CountTrigger({self._count})"


class PurgingTrigger(Trigger):
    """Turns the nested trigger's FIRE into FIRE_AND_PURGE."""

    def __init__(self, nested_trigger: Trigger) -> None:
        if not isinstance(nested_trigger, Trigger):
            raise TypeError(f"PurgingTrigger.of() takes a Trigger, got {nested_trigger!r}")
        self.nested_trigger = nested_trigger

    @staticmethod
    def of(nested_trigger: Trigger) -> "PurgingTrigger":
        return PurgingTrigger(nested_trigger)

    @staticmethod
    def _purging(result: TriggerResult) -> TriggerResult:
        return TriggerResult.FIRE_AND_PURGE if result.is_fire() else result

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        return self._purging(self.nested_trigger.on_element(element, timestamp, window, ctx))

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return self._purging(self.nested_trigger.on_processing_time(time, window, ctx))

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return self._purging(self.nested_trigger.on_event_time(time, window, ctx))

    def can_merge(self) -> bool:
        return self.nested_trigger.can_merge()

    def on_merge(self, window: Any, ctx: Any) -> None:
        self.nested_trigger.on_merge(window, ctx)

    def clear(self, window: Any, ctx: Any) -> None:
        self.nested_trigger.clear(window, ctx)

    def __repr__(self) -> str:
        return f"PurgingTrigger({self.nested_trigger!r})"


class NeverTrigger(Trigger):
    """Never fires: the default of ``GlobalWindows``."""

    def on_element(self, element: Any, timestamp: int | None, window: Any,
                   ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Any) -> None:
        pass
