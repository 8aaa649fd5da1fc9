"""``WindowedStream`` (``KeyedStream.window``) and ``AllWindowedStream``
(``DataStream.window_all``), with PyFlink's methods.

Both are API constructs only: the settings (trigger, evictor, allowed lateness,
late-data side output) collect here until a window function is applied (``reduce``,
``aggregate``, ``apply``, ``process``), which adds one ``WindowOperator`` node after
the keyed stream. ``window_all`` keys every record by the same constant
(``NullByteKeySelector``) and runs at parallelism 1, as Flink does.

``reduce`` and ``aggregate`` also pre-aggregate before the keyed exchange when that
cannot change the results (``operators/window/preaggregation.py``): each input of the
``key_by`` then feeds a ``Window Pre-Aggregate`` node at its own parallelism (chained
to it), and those feed the window operator through the HASH exchange. The
configuration ``minicluster.window.pre-aggregation: false`` turns this off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minicluster._functions.base import resolve_function
from minicluster._functions.simple import NullByteKeySelector, ReduceFunction
from minicluster._functions.window import (
    AllWindowFunction,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    WindowFunction,
)
from minicluster.common.execution_config import read_option
from minicluster._output_tag import OutputTag
from minicluster.network.partitioners import ForwardPartitioner, KeyGroupStreamPartitioner
from minicluster.operators.window.assigners import (
    MergingWindowAssigner,
    WindowAssigner,
    to_millis,
)
from minicluster.operators.window.evictors import Evictor
from minicluster.operators.window.functions import (
    InternalWindowFunction,
    WindowContents,
    internal_window_function,
)
from minicluster.operators.window.operator import WindowOperator
from minicluster.operators.window.preaggregation import (
    PartialAwareKeySelector,
    WindowPreAggregateOperator,
    pre_aggregation_blocker,
)
from minicluster.operators.window.triggers import Trigger

if TYPE_CHECKING:
    from minicluster.datastream.data_stream import DataStream, KeyedStream


class _Windowed:
    """What ``WindowedStream`` and ``AllWindowedStream`` share."""

    _all_windows = False
    _keyed_stream: KeyedStream

    def __init__(self, keyed_stream: KeyedStream, window_assigner: WindowAssigner) -> None:
        if not isinstance(window_assigner, WindowAssigner):
            raise TypeError(
                f"window() takes a WindowAssigner (e.g. TumblingEventTimeWindows.of(...)), "
                f"got {window_assigner!r}"
            )
        self._keyed_stream = keyed_stream
        self._window_assigner = window_assigner
        self._window_trigger: Trigger | None = None
        self._evictor: Evictor | None = None
        self._allowed_lateness = 0
        self._late_data_output_tag: OutputTag | None = None

    def get_execution_environment(self) -> Any:
        return self._keyed_stream.get_execution_environment()

    # -- settings ----------------------------------------------------------------------

    def trigger(self, trigger: Trigger):
        """Set the trigger that decides when a window fires (instead of the assigner's
        default)."""
        if not isinstance(trigger, Trigger):
            raise TypeError(f"trigger() takes a Trigger, got {trigger!r}")
        if isinstance(self._window_assigner, MergingWindowAssigner) and not trigger.can_merge():
            raise TypeError(
                "a merging window assigner cannot be used with a trigger that does not "
                f"support merging: {trigger!r}.can_merge() is False"
            )
        self._window_trigger = trigger
        return self

    def evictor(self, evictor: Evictor):
        """Set an evictor; panes then keep every element (no pre-aggregation)."""
        if not isinstance(evictor, Evictor):
            raise TypeError(f"evictor() takes an Evictor, got {evictor!r}")
        self._evictor = evictor
        return self

    def allowed_lateness(self, time_ms: Any):
        """Keep windows for this long (ms, ``Time`` or ``Duration``) after the
        watermark passed their end; each late element then fires the window again.
        Only event-time windows are late."""
        lateness = to_millis(time_ms, "allowed_lateness()")
        if lateness < 0:
            raise ValueError(f"the allowed lateness cannot be negative, got {lateness} ms")
        self._allowed_lateness = lateness
        return self

    def side_output_late_data(self, output_tag: OutputTag):
        """Send elements that arrive after their windows' cleanup to ``output_tag``
        (read it with ``get_side_output`` on the result); without it they are dropped."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"side_output_late_data() takes an OutputTag, got {output_tag!r}")
        self._late_data_output_tag = output_tag
        return self

    # -- window functions ------------------------------------------------------------------

    def reduce(self, reduce_function: Any, window_function: Any = None,
               output_type: Any = None) -> DataStream:
        """Fold each window with ``reduce_function`` as elements arrive; emit the result,
        or pass it to ``window_function`` (a one-element input)."""
        resolve_function(reduce_function, ReduceFunction, "reduce")
        return self._build(
            WindowContents("reducing", reduce_function),
            internal_window_function(window_function, self._all_windows, "reduce"),
        )

    def aggregate(self, aggregate_function: Any, window_function: Any = None,
                  accumulator_type: Any = None, output_type: Any = None) -> DataStream:
        """Aggregate each window incrementally with an ``AggregateFunction``; emit
        ``get_result``, or pass it to ``window_function`` (a one-element input)."""
        return self._build(
            WindowContents("aggregating", aggregate_function),
            internal_window_function(window_function, self._all_windows, "aggregate"),
        )

    def _build(self, contents: WindowContents, function: InternalWindowFunction) -> DataStream:
        from minicluster.datastream.data_stream import DataStream

        keyed = self._keyed_stream
        assigner = self._window_assigner
        trigger = self._window_trigger or assigner.get_default_trigger(keyed._env)
        inputs, key_selector = keyed._inputs, keyed._key_selector
        pre_aggregated = self._pre_aggregated_inputs(trigger, contents)
        if pre_aggregated is not None:
            inputs, key_selector = pre_aggregated
        operator = WindowOperator(
            key_selector,
            assigner,
            trigger,
            self._evictor,
            self._allowed_lateness,
            self._late_data_output_tag,
            contents,
            function,
            pre_aggregated=pre_aggregated is not None,
        )
        prefix = "AllWindow" if self._all_windows else "Window"
        node = keyed._env._add_node(f"{prefix}({operator.describe()})", operator, inputs)
        if self._all_windows:
            node.parallelism = 1
            node.max_allowed_parallelism = 1
        return DataStream(keyed._env, node)

    def _pre_aggregated_inputs(
        self, trigger: Trigger, contents: WindowContents
    ) -> tuple[tuple, PartialAwareKeySelector] | None:
        """Insert a pre-aggregator behind each input of the ``key_by`` and return the
        window operator's inputs and key selector; None (nothing added) when disabled
        or when it could change the results."""
        keyed = self._keyed_stream
        env = keyed._env
        if not read_option(env.get_configuration(), "minicluster.window.pre-aggregation"):
            return None
        blocker = pre_aggregation_blocker(
            self._window_assigner, trigger, self._evictor, contents, keyed._key_selector
        )
        if blocker is not None or not keyed._inputs or not all(
            isinstance(partitioner, KeyGroupStreamPartitioner)
            for _, partitioner, *_ in keyed._inputs
        ):
            return None
        key_selector = PartialAwareKeySelector(keyed._key_selector)
        hash_partitioner = KeyGroupStreamPartitioner(key_selector.get_key)
        inputs = []
        for node_id, _, *side in keyed._inputs:
            operator = WindowPreAggregateOperator(
                keyed._key_selector, self._window_assigner, contents
            )
            node = env._add_node(
                f"Window Pre-Aggregate({operator.describe()})",
                operator,
                ((node_id, ForwardPartitioner(), *side),),
            )
            node.same_parallelism_as_input = True
            inputs.append((node.id, hash_partitioner))
        return tuple(inputs), key_selector


class WindowedStream(_Windowed):
    """A keyed stream split into windows per key (PyFlink's ``WindowedStream``)."""

    def apply(self, window_function: WindowFunction, output_type: Any = None) -> DataStream:
        """``window_function.apply(key, window, inputs)`` over all of each window's
        elements (buffered until the window fires)."""
        if not isinstance(window_function, WindowFunction):
            raise TypeError(f"apply() takes a WindowFunction, got {window_function!r}")
        function = internal_window_function(window_function, False, "apply")
        return self._build(WindowContents("list"), function)

    def process(self, process_window_function: ProcessWindowFunction,
                output_type: Any = None) -> DataStream:
        """``process_window_function.process(key, context, elements)`` over all of
        each window's elements (buffered until the window fires)."""
        if not isinstance(process_window_function, ProcessWindowFunction):
            raise TypeError(
                f"process() takes a ProcessWindowFunction, got {process_window_function!r}"
            )
        function = internal_window_function(process_window_function, False, "process")
        return self._build(WindowContents("list"), function)


class AllWindowedStream(_Windowed):
    """A whole stream split into windows, evaluated at parallelism 1 (PyFlink's
    ``AllWindowedStream``)."""

    _all_windows = True

    def __init__(self, data_stream: DataStream, window_assigner: WindowAssigner) -> None:
        super().__init__(data_stream.key_by(NullByteKeySelector()), window_assigner)

    def apply(self, window_function: AllWindowFunction, output_type: Any = None) -> DataStream:
        """``window_function.apply(window, inputs)`` over all of each window's elements."""
        if not isinstance(window_function, AllWindowFunction):
            raise TypeError(f"apply() takes an AllWindowFunction, got {window_function!r}")
        function = internal_window_function(window_function, True, "apply")
        return self._build(WindowContents("list"), function)

    def process(self, process_window_function: ProcessAllWindowFunction,
                output_type: Any = None) -> DataStream:
        """``process_window_function.process(context, elements)`` over all of each
        window's elements."""
        if not isinstance(process_window_function, ProcessAllWindowFunction):
            raise TypeError(
                f"process() takes a ProcessAllWindowFunction, got {process_window_function!r}"
            )
        function = internal_window_function(process_window_function, True, "process")
        return self._build(WindowContents("list"), function)
