"""User function classes with PyFlink's names; public at ``minicluster.datastream.functions``.

Every operator accepts either a plain callable or an instance of the matching class
below; ``resolve_function`` turns both into the one callable the runtime calls per
record, and the runtime calls ``open(runtime_context)``/``close()`` on class instances
once per parallel subtask, as Flink does.
"""

from __future__ import annotations

import abc
import copy
import enum
from typing import Any, Callable, Iterable


class RuntimeContext:
    """What a function can learn about the parallel subtask running it."""

    def __init__(
        self,
        task_name: str,
        subtask_index: int,
        parallelism: int,
        max_parallelism: int,
        attempt_number: int = 0,
        job_parameters: dict[str, str] | None = None,
    ) -> None:
        self._task_name = task_name
        self._subtask_index = subtask_index
        self._parallelism = parallelism
        self._max_parallelism = max_parallelism
        self._attempt_number = attempt_number
        self._job_parameters = dict(job_parameters or {})

    def get_task_name(self) -> str:
        return self._task_name

    def get_number_of_parallel_subtasks(self) -> int:
        return self._parallelism

    def get_max_number_of_parallel_subtasks(self) -> int:
        return self._max_parallelism

    def get_index_of_this_subtask(self) -> int:
        return self._subtask_index

    def get_attempt_number(self) -> int:
        return self._attempt_number

    def get_task_name_with_subtasks(self) -> str:
        return f"{self._task_name} ({self._subtask_index + 1}/{self._parallelism})"

    def get_job_parameter(self, key: str, default_value: str) -> str:
        return self._job_parameters.get(key, default_value)

    # -- keyed state (only on a KeyedStream) ------------------------------------------

    _keyed_state: Any = None

    def with_keyed_state(self, backend: Any) -> "RuntimeContext":
        """A copy of this context whose state getters use ``backend`` (one per keyed
        operator, so two keyed operators in a chain keep their state apart)."""
        bound = copy.copy(self)
        bound._keyed_state = backend
        return bound

    def _state(self, descriptor: Any, kind: str) -> Any:
        if self._keyed_state is None:
            raise RuntimeError(
                f"keyed state ({getattr(descriptor, 'name', descriptor)!r}) can only be used "
                "on a keyed stream, i.e. in a function applied after key_by()"
            )
        if getattr(descriptor, "kind", None) != kind:
            raise TypeError(
                f"get_{kind}_state() needs a {kind.capitalize()}StateDescriptor, got {descriptor!r}"
                if kind != "value"
                else f"get_state() needs a ValueStateDescriptor, got {descriptor!r}"
            )
        return self._keyed_state.get_state(descriptor)

    def get_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "value")

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "list")

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "map")

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "reducing")

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "aggregating")


class Function(abc.ABC):  # noqa: B024 - PyFlink's base has no abstract method either
    """Base of all user function classes: ``open`` and ``close`` bracket a subtask's life."""

    def open(self, runtime_context: RuntimeContext) -> None:
        pass

    def close(self) -> None:
        pass


class MapFunction(Function):
    @abc.abstractmethod
    def map(self, value: Any) -> Any: ...


class FlatMapFunction(Function):
    @abc.abstractmethod
    def flat_map(self, value: Any) -> Iterable[Any]: ...


class FilterFunction(Function):
    @abc.abstractmethod
    def filter(self, value: Any) -> bool: ...


class ReduceFunction(Function):
    @abc.abstractmethod
    def reduce(self, value1: Any, value2: Any) -> Any: ...


class KeySelector(Function):
    @abc.abstractmethod
    def get_key(self, value: Any) -> Any: ...


class NullByteKeySelector(KeySelector):
    """Every record gets the same key (used by operators that need a single key)."""

    def get_key(self, value: Any) -> Any:
        return 0


class Partitioner(Function):
    """``partition_custom``: choose a partition in ``[0, num_partitions)`` for a key."""

    @abc.abstractmethod
    def partition(self, key: Any, num_partitions: int) -> int: ...


class SinkFunction(Function):
    """A sink written in Python: ``invoke`` is called once per record."""

    @abc.abstractmethod
    def invoke(self, value: Any, context: Any) -> None: ...


class ProcessFunction(Function):
    """Low-level per-record processing; ``process_element`` yields (or returns an
    iterable of) outputs."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None:
            """The record's event timestamp, or None when it has none."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "ProcessFunction.Context") -> Iterable[Any] | None: ...


class TimeDomain(enum.Enum):
    """Which clock fired a timer."""

    EVENT_TIME = 0
    PROCESSING_TIME = 1


class TimerService(abc.ABC):
    """Time and timers of the current key (``ctx.timer_service()``)."""

    @abc.abstractmethod
    def current_processing_time(self) -> int: ...

    @abc.abstractmethod
    def current_watermark(self) -> int: ...

    @abc.abstractmethod
    def register_processing_time_timer(self, timestamp: int) -> None: ...

    @abc.abstractmethod
    def register_event_time_timer(self, timestamp: int) -> None: ...

    @abc.abstractmethod
    def delete_processing_time_timer(self, timestamp: int) -> None: ...

    @abc.abstractmethod
    def delete_event_time_timer(self, timestamp: int) -> None: ...


class KeyedProcessFunction(Function):
    """Per-record processing on a KeyedStream, with keyed state and timers."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None: ...

        @abc.abstractmethod
        def timer_service(self) -> TimerService: ...

        @abc.abstractmethod
        def get_current_key(self) -> Any: ...

        @abc.abstractmethod
        def output(self, output_tag: Any, value: Any) -> None: ...

    class OnTimerContext(Context):
        @abc.abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "KeyedProcessFunction.Context") -> Iterable[Any] | None: ...

    def on_timer(self, timestamp: int, ctx: "KeyedProcessFunction.OnTimerContext") -> Iterable[Any] | None:
        pass


class ProcessJoinFunction(Function):
    """The function of an interval join: called once per matching (left, right) pair;
    ``ctx.get_left_timestamp()``, ``get_right_timestamp()``, ``get_timestamp()``."""

    @abc.abstractmethod
    def process_element(self, left: Any, right: Any, ctx: Any) -> Iterable[Any] | None: ...


class JoinFunction(Function):
    """A window join's function: ``join(value1, value2)`` for every pair of one key and
    one window."""

    @abc.abstractmethod
    def join(self, value1: Any, value2: Any) -> Any: ...


class FlatJoinFunction(Function):
    """Like ``JoinFunction`` but returns or yields any number of outputs per pair."""

    @abc.abstractmethod
    def join(self, value1: Any, value2: Any) -> Iterable[Any] | None: ...


class CoGroupFunction(Function):
    """``co_group(first, second)``: both sides' elements of one key and one window
    (either may be empty); returns or yields the outputs."""

    @abc.abstractmethod
    def co_group(self, first: list, second: list) -> Iterable[Any] | None: ...


def resolve_function(function: object, kind: type[Function], method: str) -> Callable:
    """The per-record callable for ``function``: its ``method`` if it is a ``kind``,
    else the callable itself.

    Raises:
        TypeError: ``function`` is neither callable nor an instance of ``kind``.
    """
    if isinstance(function, kind):
        return getattr(function, method)
    if isinstance(function, Function) and hasattr(function, method):
        return getattr(function, method)
    if callable(function):
        return function
    raise TypeError(
        f"expected a callable or a {kind.__name__} (with {method}()), got "
        f"{type(function).__name__}: {function!r}"
    )


def open_function(function: object, runtime_context: RuntimeContext) -> None:
    if isinstance(function, Function):
        function.open(runtime_context)


def close_function(function: object) -> None:
    if isinstance(function, Function):
        function.close()


# -- two-input functions (``connect``) -----------------------------------------------


class CoMapFunction(Function):
    """A map over two connected streams: ``map1`` for the first input's records,
    ``map2`` for the second's. One instance serves both inputs, so the two can share
    state. As in PyFlink, a result of None is dropped."""

    @abc.abstractmethod
    def map1(self, value: Any) -> Any: ...

    @abc.abstractmethod
    def map2(self, value: Any) -> Any: ...


class CoFlatMapFunction(Function):
    """A flat-map over two connected streams: ``flat_map1``/``flat_map2`` return or
    yield zero or more records each (None counts as none, as in PyFlink)."""

    @abc.abstractmethod
    def flat_map1(self, value: Any) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def flat_map2(self, value: Any) -> Iterable[Any] | None: ...


class CoProcessFunction(Function):
    """Low-level processing of two connected streams; ``process_element1``/``2`` yield
    outputs (``yield tag, value`` for a side output). Timers need keyed streams."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timer_service(self) -> TimerService:
            """Current processing time and watermark (timers need keyed streams)."""

        @abc.abstractmethod
        def timestamp(self) -> int | None:
            """The record's event timestamp, or None when it has none."""

    @abc.abstractmethod
    def process_element1(
        self, value: Any, ctx: "CoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_element2(
        self, value: Any, ctx: "CoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...


class KeyedCoProcessFunction(Function):
    """``CoProcessFunction`` on two keyed streams (``connect(...).key_by(k1, k2)``),
    with keyed state and timers for the current key."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def get_current_key(self) -> Any: ...

        @abc.abstractmethod
        def timer_service(self) -> TimerService: ...

        @abc.abstractmethod
        def timestamp(self) -> int | None: ...

    class OnTimerContext(Context):
        @abc.abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abc.abstractmethod
    def process_element1(
        self, value: Any, ctx: "KeyedCoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_element2(
        self, value: Any, ctx: "KeyedCoProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    def on_timer(
        self, timestamp: int, ctx: "KeyedCoProcessFunction.OnTimerContext"
    ) -> Iterable[Any] | None:
        pass


class BaseBroadcastProcessFunction(Function):
    """What both broadcast process functions share: their contexts.

    The broadcast side (``process_broadcast_element``) gets a ``Context`` whose
    ``get_broadcast_state(descriptor)`` is writable; the other side
    (``process_element``) gets a ``ReadOnlyContext`` whose state only reads. Every
    parallel instance receives every broadcast record, so instances that update their
    state only from broadcast records keep the same state.
    """

    class BaseContext(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None: ...

        @abc.abstractmethod
        def current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def current_watermark(self) -> int: ...

    class Context(BaseContext):
        @abc.abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any:
            """The writable ``BroadcastState`` named by a ``MapStateDescriptor``."""

    class ReadOnlyContext(BaseContext):
        @abc.abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any:
            """A ``ReadOnlyBroadcastState`` view of the state the descriptor names."""


class BroadcastProcessFunction(BaseBroadcastProcessFunction):
    """Connects a non-keyed stream with a ``BroadcastStream``
    (``ds.connect(rules.broadcast(descriptor)).process(f)``)."""

    class Context(BaseBroadcastProcessFunction.Context, abc.ABC):
        pass

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext, abc.ABC):
        pass

    @abc.abstractmethod
    def process_element(
        self, value: Any, ctx: "BroadcastProcessFunction.ReadOnlyContext"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_broadcast_element(
        self, value: Any, ctx: "BroadcastProcessFunction.Context"
    ) -> Iterable[Any] | None: ...


class KeyedBroadcastProcessFunction(BaseBroadcastProcessFunction):
    """Connects a ``KeyedStream`` with a ``BroadcastStream``; ``process_element`` sees
    the record's key (``ctx.get_current_key()``)."""

    class Context(BaseBroadcastProcessFunction.Context, abc.ABC):
        pass

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext, abc.ABC):
        @abc.abstractmethod
        def timer_service(self) -> TimerService: ...

        @abc.abstractmethod
        def get_current_key(self) -> Any: ...

    class OnTimerContext(ReadOnlyContext, abc.ABC):
        @abc.abstractmethod
        def time_domain(self) -> TimeDomain: ...

    @abc.abstractmethod
    def process_element(
        self, value: Any, ctx: "KeyedBroadcastProcessFunction.ReadOnlyContext"
    ) -> Iterable[Any] | None: ...

    @abc.abstractmethod
    def process_broadcast_element(
        self, value: Any, ctx: "KeyedBroadcastProcessFunction.Context"
    ) -> Iterable[Any] | None: ...

    def on_timer(
        self, timestamp: int, ctx: "KeyedBroadcastProcessFunction.OnTimerContext"
    ) -> Iterable[Any] | None:
        pass


# -- window functions (``WindowedStream`` / ``AllWindowedStream``) ----------------------


class AggregateFunction(Function):
    """Incremental aggregation with an accumulator: ``create_accumulator()``, then
    ``add(value, accumulator) -> accumulator`` per element, ``get_result(accumulator)``
    when the window fires, and ``merge(a, b)`` when session windows merge."""

    @abc.abstractmethod
    def create_accumulator(self) -> Any: ...

    @abc.abstractmethod
    def add(self, value: Any, accumulator: Any) -> Any: ...

    @abc.abstractmethod
    def get_result(self, accumulator: Any) -> Any: ...

    def merge(self, acc_a: Any, acc_b: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.merge() is needed to merge session windows"
        )


class KeyedStateStore(abc.ABC):
    """Keyed state getters (``ProcessWindowFunction.Context.window_state()`` and
    ``global_state()``)."""

    @abc.abstractmethod
    def get_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_list_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_map_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_reducing_state(self, state_descriptor: Any) -> Any: ...

    @abc.abstractmethod
    def get_aggregating_state(self, state_descriptor: Any) -> Any: ...


class WindowFunction(Function):
    """Evaluates a keyed window: ``apply(key, window, inputs)`` returns or yields the
    outputs."""

    @abc.abstractmethod
    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any] | None: ...


class AllWindowFunction(Function):
    """Evaluates a window of ``window_all``: ``apply(window, inputs)``."""

    @abc.abstractmethod
    def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any] | None: ...


class ProcessWindowFunction(Function):
    """Evaluates a keyed window with a context: ``process(key, context, elements)``
    returns or yields the outputs (``yield tag, value`` or ``context.output(tag,
    value)`` for a side output); ``clear(context)`` runs when the window is dropped."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def window(self) -> Any:
            """The window being evaluated."""

        @abc.abstractmethod
        def current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def current_watermark(self) -> int: ...

        @abc.abstractmethod
        def window_state(self) -> KeyedStateStore:
            """State of this key and window (clean it up in ``clear``)."""

        @abc.abstractmethod
        def global_state(self) -> KeyedStateStore:
            """State of this key, shared by all its windows."""

        @abc.abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            """Emit ``value`` to the side output ``output_tag``."""

    @abc.abstractmethod
    def process(self, key: Any, context: "ProcessWindowFunction.Context",
                elements: Iterable[Any]) -> Iterable[Any] | None: ...

    def clear(self, context: "ProcessWindowFunction.Context") -> None:
        """The window is dropped (its cleanup time passed): delete per-window state."""


class ProcessAllWindowFunction(Function):
    """``ProcessWindowFunction`` for ``window_all``: ``process(context, elements)``."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def window(self) -> Any: ...

        @abc.abstractmethod
        def current_processing_time(self) -> int: ...

        @abc.abstractmethod
        def current_watermark(self) -> int: ...

        @abc.abstractmethod
        def window_state(self) -> KeyedStateStore: ...

        @abc.abstractmethod
        def global_state(self) -> KeyedStateStore: ...

        @abc.abstractmethod
        def output(self, output_tag: Any, value: Any) -> None: ...

    @abc.abstractmethod
    def process(self, context: "ProcessAllWindowFunction.Context",
                elements: Iterable[Any]) -> Iterable[Any] | None: ...

    def clear(self, context: "ProcessAllWindowFunction.Context") -> None:
        """The window is dropped: delete per-window state."""


__all__ = [
    "AggregateFunction",
    "AllWindowFunction",
    "BaseBroadcastProcessFunction",
    "BroadcastProcessFunction",
    "CoFlatMapFunction",
    "CoMapFunction",
    "CoProcessFunction",
    "CoGroupFunction",
    "FilterFunction",
    "FlatJoinFunction",
    "FlatMapFunction",
    "Function",
    "JoinFunction",
    "KeySelector",
    "KeyedBroadcastProcessFunction",
    "KeyedCoProcessFunction",
    "KeyedProcessFunction",
    "KeyedStateStore",
    "MapFunction",
    "NullByteKeySelector",
    "Partitioner",
    "ProcessAllWindowFunction",
    "ProcessFunction",
    "ProcessJoinFunction",
    "ProcessWindowFunction",
    "ReduceFunction",
    "RuntimeContext",
    "SinkFunction",
    "TimeDomain",
    "TimerService",
    "WindowFunction",
]
