"""The DataStream API, with PyFlink's names (``pyflink.datastream``).

Key classes:
    - ``StreamExecutionEnvironment``: builds and executes a job.
    - ``DataStream``, ``KeyedStream``, ``DataStreamSink``: the streams of a job.
    - ``ConnectedStreams``, ``BroadcastStream``, ``BroadcastConnectedStream``: two
      streams processed together (``connect``), one of them possibly broadcast with
      broadcast state.
    - Function classes: ``MapFunction``, ``FlatMapFunction``, ``FilterFunction``,
      ``ReduceFunction``, ``KeySelector``, ``ProcessFunction``, ``SinkFunction``,
      ``Partitioner``, ``RuntimeContext``; for two inputs ``CoMapFunction``,
      ``CoFlatMapFunction``, ``CoProcessFunction``, ``KeyedCoProcessFunction``,
      ``BroadcastProcessFunction``, ``KeyedBroadcastProcessFunction``.
    - ``WindowedStream``, ``AllWindowedStream``: windows of a keyed stream
      (``window``, ``count_window``) and of a whole stream (``window_all``), with
      ``AggregateFunction``, ``WindowFunction``, ``ProcessWindowFunction``,
      ``AllWindowFunction``, ``ProcessAllWindowFunction``; windows, assigners,
      triggers and evictors are in ``minicluster.datastream.window``.
    - ``OutputTag``: names a side output.
"""

from minicluster.datastream.connected_streams import (
    BroadcastConnectedStream,
    BroadcastStream,
    ConnectedStreams,
)
from minicluster.datastream.data_stream import (
    CloseableIterator,
    DataStream,
    DataStreamSink,
    KeyedStream,
)
from minicluster.datastream import functions as _functions
from minicluster.datastream.functions import *  # noqa: F403 - every function class
from minicluster.datastream.execution_mode import RuntimeExecutionMode
from minicluster.datastream.output_tag import OutputTag
from minicluster.datastream.stream_execution_environment import StreamExecutionEnvironment
from minicluster.datastream.window import (
    CountWindow,
    GlobalWindow,
    MergingWindowAssigner,
    TimeWindow,
    Trigger,
    TriggerResult,
    Window,
    WindowAssigner,
)
from minicluster.datastream.windowed_stream import AllWindowedStream, WindowedStream

__all__ = sorted(
    [
        "AllWindowedStream",
        "BroadcastConnectedStream",
        "BroadcastStream",
        "CloseableIterator",
        "ConnectedStreams",
        "CountWindow",
        "DataStream",
        "DataStreamSink",
        "GlobalWindow",
        "KeyedStream",
        "MergingWindowAssigner",
        "OutputTag",
        "RuntimeExecutionMode",
        "StreamExecutionEnvironment",
        "TimeWindow",
        "Trigger",
        "TriggerResult",
        "Window",
        "WindowAssigner",
        "WindowedStream",
    ]
    + _functions.__all__
)
