"""The public surface: every exported name exists, the PyFlink names a job imports are
where PyFlink has them, and PyFlink-only knobs are accepted and ignored.

After trio's ``test_exports``: a name listed in ``__all__`` that does not exist breaks
``from module import *`` and documentation tools, so it is checked for every public
module, not only for the names a test happens to import.
"""

import importlib
import json

import pytest

PUBLIC_MODULES = [
    "minicluster.datastream",
    "minicluster.datastream.functions",
    "minicluster.datastream.connectors",
    "minicluster.datastream.connectors.number_seq",
    "minicluster.datastream.connectors.file_system",
    "minicluster.datastream.state",
    "minicluster.datastream.window",
    "minicluster.datastream.output_tag",
    "minicluster.common",
    "minicluster.common.serialization",
    "minicluster.network",
    "minicluster.state",
    "minicluster.testing",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_name_in_all_exists(module_name):
    module = importlib.import_module(module_name)

    assert isinstance(module.__all__, list)
    assert module.__all__, f"{module_name}.__all__ is empty"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__), "duplicate names in __all__"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_star_import_works(module_name):
    namespace = {}
    exec(f"from {module_name} import *", namespace)  # noqa: S102 - fixed module names

    module = importlib.import_module(module_name)
    assert set(module.__all__) <= set(namespace)


# Where a PyFlink DataStream job imports each name from, with ``pyflink`` renamed.
PYFLINK_IMPORTS = [
    ("minicluster.datastream", "StreamExecutionEnvironment"),
    ("minicluster.datastream", "DataStream"),
    ("minicluster.datastream", "KeyedStream"),
    ("minicluster.datastream", "MapFunction"),
    ("minicluster.datastream", "FlatMapFunction"),
    ("minicluster.datastream", "FilterFunction"),
    ("minicluster.datastream", "ReduceFunction"),
    ("minicluster.datastream", "KeySelector"),
    ("minicluster.datastream", "ProcessFunction"),
    ("minicluster.datastream", "SinkFunction"),
    ("minicluster.datastream", "RuntimeContext"),
    ("minicluster.datastream.functions", "MapFunction"),
    ("minicluster.datastream.functions", "FlatMapFunction"),
    ("minicluster.datastream.functions", "FilterFunction"),
    ("minicluster.datastream.functions", "ReduceFunction"),
    ("minicluster.datastream.functions", "KeySelector"),
    ("minicluster.datastream.functions", "ProcessFunction"),
    ("minicluster.datastream.functions", "SinkFunction"),
    ("minicluster.datastream.functions", "RuntimeContext"),
    ("minicluster.datastream.connectors", "NumberSequenceSource"),
    ("minicluster.datastream.connectors.number_seq", "NumberSequenceSource"),
    ("minicluster.common", "Types"),
    ("minicluster.common", "Row"),
    ("minicluster.common", "Configuration"),
    ("minicluster.common", "WatermarkStrategy"),
    ("minicluster.common", "Duration"),
    ("minicluster.common", "Time"),
    ("minicluster.common.typeinfo", "Types"),
    ("minicluster.common.types", "Row"),
    ("minicluster.common.configuration", "Configuration"),
    ("minicluster.common.watermark_strategy", "WatermarkStrategy"),
    ("minicluster.common.time", "Duration"),
    ("minicluster.common.time", "Time"),
    # stateful, timely stream processing (pyflink.datastream.*)
    ("minicluster.datastream", "KeyedProcessFunction"),
    ("minicluster.datastream", "OutputTag"),
    ("minicluster.datastream", "TimerService"),
    ("minicluster.datastream", "TimeDomain"),
    ("minicluster.datastream", "WindowedStream"),
    ("minicluster.datastream", "ConnectedStreams"),
    ("minicluster.datastream.functions", "KeyedProcessFunction"),
    ("minicluster.datastream.functions", "CoMapFunction"),
    ("minicluster.datastream.functions", "CoFlatMapFunction"),
    ("minicluster.datastream.functions", "CoProcessFunction"),
    ("minicluster.datastream.functions", "KeyedCoProcessFunction"),
    ("minicluster.datastream.functions", "BroadcastProcessFunction"),
    ("minicluster.datastream.functions", "KeyedBroadcastProcessFunction"),
    ("minicluster.datastream.functions", "AggregateFunction"),
    ("minicluster.datastream.functions", "ProcessWindowFunction"),
    ("minicluster.datastream.functions", "WindowFunction"),
    ("minicluster.datastream.functions", "ProcessJoinFunction"),
    ("minicluster.datastream.functions", "JoinFunction"),
    ("minicluster.datastream.functions", "CoGroupFunction"),
    ("minicluster.datastream.state", "ValueStateDescriptor"),
    ("minicluster.datastream.state", "ListStateDescriptor"),
    ("minicluster.datastream.state", "MapStateDescriptor"),
    ("minicluster.datastream.state", "ReducingStateDescriptor"),
    ("minicluster.datastream.state", "AggregatingStateDescriptor"),
    ("minicluster.datastream.state", "StateTtlConfig"),
    ("minicluster.datastream.window", "TumblingEventTimeWindows"),
    ("minicluster.datastream.window", "SlidingEventTimeWindows"),
    ("minicluster.datastream.window", "EventTimeSessionWindows"),
    ("minicluster.datastream.window", "TumblingProcessingTimeWindows"),
    ("minicluster.datastream.window", "GlobalWindows"),
    ("minicluster.datastream.window", "CountTrigger"),
    ("minicluster.datastream.window", "PurgingTrigger"),
    ("minicluster.datastream.window", "Trigger"),
    ("minicluster.datastream.window", "TriggerResult"),
    ("minicluster.datastream.window", "CountEvictor"),
    ("minicluster.datastream.window", "TimeEvictor"),
    ("minicluster.datastream.window", "TimeWindow"),
    ("minicluster.common.watermark_strategy", "TimestampAssigner"),
    ("minicluster.common", "WatermarkStrategy"),
    # files (pyflink.datastream.connectors[.file_system], pyflink.common[.serialization])
    *[
        (module, name)
        for module in (
            "minicluster.datastream.connectors", "minicluster.datastream.connectors.file_system",
        )
        for name in (
            "FileSource", "StreamFormat", "FileSink", "OutputFileConfig", "RollingPolicy",
            "BucketAssigner",
        )
    ],
    ("minicluster.common", "Encoder"),
    ("minicluster.common.serialization", "Encoder"),
]


@pytest.mark.parametrize(
    ("module_name", "name"), PYFLINK_IMPORTS, ids=[f"{m}.{n}" for m, n in PYFLINK_IMPORTS]
)
def test_pyflink_name_is_importable_from_the_pyflink_path(module_name, name):
    module = importlib.import_module(module_name)

    assert hasattr(module, name)
    if module_name in PUBLIC_MODULES:
        assert name in module.__all__


def test_the_same_class_under_every_path():
    from minicluster import common, datastream
    from minicluster.common import types as common_types
    from minicluster.datastream import functions
    from minicluster.datastream.connectors import NumberSequenceSource
    from minicluster.datastream.connectors.number_seq import NumberSequenceSource as Seq

    assert datastream.MapFunction is functions.MapFunction
    assert datastream.RuntimeContext is functions.RuntimeContext
    assert common.Row is common_types.Row
    assert NumberSequenceSource is Seq


def test_the_function_package_still_exports_every_name_from_its_module():
    """``minicluster._functions`` was one module; imports written against it still work."""
    from minicluster import _functions

    for name in [*_functions.__all__, "resolve_function", "open_function", "close_function"]:
        home = getattr(_functions, name).__module__
        assert home.startswith("minicluster._functions."), (name, home)
        assert getattr(importlib.import_module(home), name) is getattr(_functions, name)


# -- PyFlink-only knobs ---------------------------------------------------------------


def test_environment_dependency_knobs_are_accepted_and_ignored():
    from minicluster.datastream import StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    before = env.get_configuration()

    assert env.set_python_executable("/usr/bin/python3") is None
    assert env.add_jars("file:///opt/flink-connector.jar", "file:///opt/other.jar") is None
    assert env.add_python_file("/tmp/udfs.py") is None
    assert env.add_classpaths("file:///opt/lib.jar") is None
    assert env.add_python_archive("/tmp/venv.zip", "venv") is None
    assert env.set_python_requirements("/tmp/requirements.txt") is None

    assert env.get_configuration() == before
    assert env.get_stream_graph().nodes == {}


def _plan(with_type_hints):
    from minicluster.common import Row, Types
    from minicluster.datastream import ProcessFunction, StreamExecutionEnvironment

    class Emit(ProcessFunction):
        def process_element(self, value, ctx):
            yield value

    hints = (lambda **kw: kw) if with_type_hints else (lambda **kw: {})
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    (
        env.from_collection([("a", 1), ("b", 2)], **hints(type_info=Types.TUPLE([Types.STRING(), Types.INT()])))
        .map(lambda t: Row(t[0], t[1]), **hints(output_type=Types.ROW([Types.STRING(), Types.INT()])))
        .flat_map(lambda r: [r, r], **hints(output_type=Types.ROW([Types.STRING(), Types.INT()])))
        .key_by(lambda r: r[0], **hints(key_type=Types.STRING()))
        .process(Emit(), **hints(output_type=Types.PICKLED_BYTE_ARRAY()))
        .print()
    )
    return env.get_execution_plan()


def test_type_hints_are_accepted_and_do_not_change_the_job():
    with_hints = _plan(with_type_hints=True)

    assert with_hints == _plan(with_type_hints=False)
    types = [n["type"] for n in json.loads(with_hints)["nodes"]]
    assert types == [
        "Source: Collection Source", "Map", "Flat Map", "Process", "Print to Std. Out",
    ]
