"""User function classes with PyFlink's names; public at ``minicluster.datastream.functions``.

They live outside the DataStream API so that the runtime operators can use them without
importing it. One module per family:

    - ``runtime_context``: ``RuntimeContext``, what a function learns about its subtask.
    - ``base``: ``Function``, and ``resolve_function``/``open_function``/
      ``close_function``, through which operators treat a plain callable and a
      ``Function`` alike.
    - ``simple``: the one-method functions of ``map``, ``flat_map``, ``filter``,
      ``reduce``, ``key_by``, ``partition_custom`` and sinks.
    - ``process``: ``ProcessFunction``, ``KeyedProcessFunction``, ``TimerService``,
      ``TimeDomain``.
    - ``two_input``: co-functions of ``connect`` and the broadcast process functions.
    - ``joins``: interval join and window join/co-group functions.
    - ``window``: ``AggregateFunction`` and the window functions.

This package lists the public names once (``__all__``, which
``minicluster.datastream.functions`` re-exports); code inside minicluster imports each
name from its own module.
"""

from minicluster._functions.base import (
    Function,
    close_function,
    open_function,
    resolve_function,
)
from minicluster._functions.joins import (
    CoGroupFunction,
    FlatJoinFunction,
    JoinFunction,
    ProcessJoinFunction,
)
from minicluster._functions.process import (
    KeyedProcessFunction,
    ProcessFunction,
    TimeDomain,
    TimerService,
)
from minicluster._functions.runtime_context import RuntimeContext
from minicluster._functions.simple import (
    FilterFunction,
    FlatMapFunction,
    KeySelector,
    MapFunction,
    NullByteKeySelector,
    Partitioner,
    ReduceFunction,
    SinkFunction,
)
from minicluster._functions.two_input import (
    BaseBroadcastProcessFunction,
    BroadcastProcessFunction,
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
)
from minicluster._functions.window import (
    AggregateFunction,
    AllWindowFunction,
    KeyedStateStore,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    WindowFunction,
)

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
