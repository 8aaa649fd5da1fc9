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
from minicluster.datastream.functions import (
    BaseBroadcastProcessFunction,
    BroadcastProcessFunction,
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    FilterFunction,
    FlatMapFunction,
    Function,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
    KeyedProcessFunction,
    KeySelector,
    MapFunction,
    NullByteKeySelector,
    Partitioner,
    ProcessFunction,
    ReduceFunction,
    RuntimeContext,
    SinkFunction,
    TimeDomain,
    TimerService,
)
from minicluster.datastream.output_tag import OutputTag
from minicluster.datastream.stream_execution_environment import StreamExecutionEnvironment

__all__ = [
    "BaseBroadcastProcessFunction",
    "BroadcastConnectedStream",
    "BroadcastProcessFunction",
    "BroadcastStream",
    "CloseableIterator",
    "CoFlatMapFunction",
    "CoMapFunction",
    "CoProcessFunction",
    "ConnectedStreams",
    "DataStream",
    "DataStreamSink",
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "KeySelector",
    "KeyedBroadcastProcessFunction",
    "KeyedCoProcessFunction",
    "KeyedProcessFunction",
    "KeyedStream",
    "MapFunction",
    "NullByteKeySelector",
    "OutputTag",
    "Partitioner",
    "ProcessFunction",
    "ReduceFunction",
    "RuntimeContext",
    "SinkFunction",
    "StreamExecutionEnvironment",
    "TimeDomain",
    "TimerService",
]
