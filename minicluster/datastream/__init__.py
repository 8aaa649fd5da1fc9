"""The DataStream API, with PyFlink's names (``pyflink.datastream``).

Key classes:
    - ``StreamExecutionEnvironment``: builds and executes a job.
    - ``DataStream``, ``KeyedStream``, ``DataStreamSink``: the streams of a job.
    - Function classes: ``MapFunction``, ``FlatMapFunction``, ``FilterFunction``,
      ``ReduceFunction``, ``KeySelector``, ``ProcessFunction``, ``SinkFunction``,
      ``Partitioner``, ``RuntimeContext``.
    - ``OutputTag``: names a side output.
"""

from minicluster.datastream.data_stream import (
    CloseableIterator,
    DataStream,
    DataStreamSink,
    KeyedStream,
)
from minicluster.datastream.functions import (
    FilterFunction,
    FlatMapFunction,
    Function,
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
    "CloseableIterator",
    "DataStream",
    "DataStreamSink",
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "KeySelector",
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
