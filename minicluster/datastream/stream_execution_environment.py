"""``StreamExecutionEnvironment``: where a job's graph is built and from where it runs.

Configuration comes, later entries winning, from: the defaults of the process (set by
``minicluster run -p N -D key=value``), the ``Configuration`` given to
``get_execution_environment``, and the environment's setters. It stays a dict of
strings (``get_configuration()``); when a job is submitted it is parsed once into an
``ExecutionConfig`` (``common/execution_config.py``: every engine key, its type and
default), so a bad value fails there, naming the key, before any process starts.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable

from minicluster.common.execution_config import ExecutionConfig, read_option
from minicluster.common.boundedness import Boundedness, boundedness_of
from minicluster.datastream.execution_mode import RuntimeExecutionMode
from minicluster.datastream._builtin_sources import CollectionSource, TextFileSource
from minicluster.graph.job_graph import compile_job_graph
from minicluster.graph.stream_graph import StreamEdge, StreamGraph, StreamNode
from minicluster.common.job_execution_result import JobExecutionResult
from minicluster.common.watermark_strategy import WatermarkStrategy
from minicluster.errors import InvalidProgramError
from minicluster.jobmanager.client import submit
from minicluster.operators.sources import SourceOperator
from minicluster.operators.split_source import SplitSourceOperator, is_split_source

if TYPE_CHECKING:
    from minicluster.datastream.data_stream import DataStream

_PROCESS_DEFAULTS: dict[str, str] = {}
PARALLELISM_KEY = "parallelism.default"
MAX_PARALLELISM_KEY = "pipeline.max-parallelism"
RUNTIME_MODE_KEY = "execution.runtime-mode"


def set_process_defaults(config: dict[str, str]) -> None:
    """Defaults for every environment created in this process (used by the CLI)."""
    _PROCESS_DEFAULTS.clear()
    _PROCESS_DEFAULTS.update({str(k): str(v) for k, v in config.items()})


def _as_dict(configuration: Any) -> dict[str, str]:
    if configuration is None:
        return {}
    if isinstance(configuration, dict):
        return {str(k): str(v) for k, v in configuration.items()}
    to_dict = getattr(configuration, "to_dict", None)
    if to_dict is None:
        raise TypeError(
            f"expected a Configuration or a dict, got {type(configuration).__name__}"
        )
    return {str(k): str(v) for k, v in to_dict().items()}


class StreamExecutionEnvironment:
    """Builds a StreamGraph through the DataStream API and executes it."""

    def __init__(self, configuration: Any = None) -> None:
        self._config = dict(_PROCESS_DEFAULTS)
        self._config.update(_as_dict(configuration))
        self._next_id = 1
        self._graph = self._new_graph()

    @staticmethod
    def get_execution_environment(configuration: Any = None) -> "StreamExecutionEnvironment":
        """A new environment (PyFlink's entry point)."""
        return StreamExecutionEnvironment(configuration)

    # -- configuration ------------------------------------------------------------

    def _new_graph(self) -> StreamGraph:
        return StreamGraph(
            job_name="",
            default_parallelism=(
                read_option(self._config, PARALLELISM_KEY) or os.cpu_count() or 1
            ),
            max_parallelism=read_option(self._config, MAX_PARALLELISM_KEY),
        )

    def configure(self, configuration: Any) -> "StreamExecutionEnvironment":
        self._config.update(_as_dict(configuration))
        if PARALLELISM_KEY in self._config:
            self._graph.default_parallelism = read_option(self._config, PARALLELISM_KEY)
        if MAX_PARALLELISM_KEY in self._config:
            self._graph.max_parallelism = read_option(self._config, MAX_PARALLELISM_KEY)
        return self

    def set_parallelism(self, parallelism: int) -> "StreamExecutionEnvironment":
        if not isinstance(parallelism, int) or parallelism < 1:
            raise ValueError(f"parallelism must be an int >= 1, got {parallelism!r}")
        self._config[PARALLELISM_KEY] = str(parallelism)
        self._graph.default_parallelism = parallelism
        return self

    def get_parallelism(self) -> int:
        return self._graph.default_parallelism

    def set_max_parallelism(self, max_parallelism: int) -> "StreamExecutionEnvironment":
        if not isinstance(max_parallelism, int) or not 0 < max_parallelism <= 32768:
            raise ValueError(f"max parallelism must be in [1, 32768], got {max_parallelism!r}")
        self._config[MAX_PARALLELISM_KEY] = str(max_parallelism)
        self._graph.max_parallelism = max_parallelism
        return self

    def get_max_parallelism(self) -> int:
        return self._graph.max_parallelism

    def set_runtime_mode(self, execution_mode: RuntimeExecutionMode) -> "StreamExecutionEnvironment":
        """STREAMING (default), BATCH or AUTOMATIC (BATCH when every source is bounded)."""
        if not isinstance(execution_mode, RuntimeExecutionMode):
            raise TypeError(
                f"set_runtime_mode() takes a RuntimeExecutionMode, got {execution_mode!r}"
            )
        self._config[RUNTIME_MODE_KEY] = execution_mode.name
        return self

    def get_runtime_mode(self) -> RuntimeExecutionMode:
        return read_option(self._config, RUNTIME_MODE_KEY)

    def get_configuration(self) -> dict[str, str]:
        """The effective configuration, as a dict of Flink keys to string values."""
        return dict(self._config)

    # PyFlink-only knobs: Python dependencies and jars mean nothing here.
    def set_python_executable(self, python_executable: str) -> None:
        pass

    def add_jars(self, *jars_path: str) -> None:
        pass

    def add_classpaths(self, *classpaths: str) -> None:
        pass

    def add_python_file(self, file_path: str) -> None:
        pass

    def add_python_archive(self, archive_path: str, target_dir: str | None = None) -> None:
        pass

    def set_python_requirements(self, requirements_file_path: str, requirements_cache_dir: str | None = None) -> None:
        pass

    # -- sources ------------------------------------------------------------------

    def from_collection(self, collection: Iterable[Any], type_info: Any = None) -> "DataStream":
        """A non-parallel source of the collection's elements, in order."""
        elements = list(collection)
        return self._add_source(CollectionSource(elements), "Collection Source", max_parallelism=1)

    def from_source(
        self,
        source: Any,
        watermark_strategy: Any,
        source_name: str,
        type_info: Any = None,
    ) -> "DataStream":
        """A stream from a ``Source`` (``NumberSequenceSource``, ``FileSource``, ...);
        the strategy's timestamps and watermarks are applied right behind the source
        (chained)."""
        stream = self._add_source(source, source_name)
        if watermark_strategy is None:
            return stream
        if not isinstance(watermark_strategy, WatermarkStrategy):
            raise TypeError(
                f"from_source() takes a WatermarkStrategy, got {type(watermark_strategy).__name__}"
            )
        if (
            not watermark_strategy.generates_watermarks
            and watermark_strategy.create_timestamp_assigner() is None
        ):
            return stream
        return stream.assign_timestamps_and_watermarks(watermark_strategy)

    def read_text_file(self, file_path: str, charset_name: str = "UTF-8") -> "DataStream":
        """The lines of a text file, read in parallel by byte ranges."""
        return self._add_source(TextFileSource(file_path, charset_name), f"Text File Source: {file_path}")

    def _add_source(self, source: Any, name: str, max_parallelism: int | None = None) -> "DataStream":
        from minicluster.datastream.data_stream import DataStream

        if max_parallelism is None:  # a source may be non-parallel (e.g. TestStream)
            max_parallelism = getattr(source, "max_parallelism", None)
        # A split source (FileSource) gets its splits on demand from an enumerator.
        operator = (
            SplitSourceOperator(source) if is_split_source(source) else SourceOperator(source)
        )
        node = self._add_node(
            f"Source: {name}", operator, inputs=(), is_source=True,
            max_allowed_parallelism=max_parallelism,
        )
        return DataStream(self, node)

    # -- graph --------------------------------------------------------------------

    def _add_node(
        self,
        name: str,
        operator: object,
        inputs: Iterable[tuple],
        is_source: bool = False,
        max_allowed_parallelism: int | None = None,
        input_index: int = 0,
    ) -> StreamNode:
        node = StreamNode(
            id=self._next_id,
            name=name,
            operator=operator,
            is_source=is_source,
            max_allowed_parallelism=max_allowed_parallelism,
        )
        self._next_id += 1
        self._graph.add_node(node)
        self._add_edges(node, inputs, input_index)
        return node

    def _add_edges(self, node: StreamNode, inputs: Iterable[tuple], input_index: int) -> None:
        # (node_id, partitioner) or (node_id, partitioner, side_tag) for a side output
        for source_id, partitioner, *side in inputs:
            side_tag = side[0] if side else None
            self._graph.add_edge(
                StreamEdge(source_id, node.id, partitioner, input_index, side_tag)
            )

    def _add_two_input_node(
        self,
        name: str,
        operator: object,
        inputs1: Iterable[tuple],
        inputs2: Iterable[tuple],
    ) -> StreamNode:
        """A two-input operator (``connect``): edges from ``inputs1`` arrive with
        ``input_index`` 0, edges from ``inputs2`` with 1."""
        node = self._add_node(name, operator, inputs1, input_index=0)
        self._add_edges(node, inputs2, input_index=1)
        return node

    def get_stream_graph(self, job_name: str | None = None) -> StreamGraph:
        self._graph.job_name = job_name or "Flink Streaming Job"
        return self._graph

    def get_execution_plan(self) -> str:
        """The plan as JSON, in Flink's shape (nodes with parallelism, predecessors and
        ship strategies), plus the JobVertex (``chain``) each node was fused into."""
        graph = self.get_stream_graph()
        job_graph = compile_job_graph(graph)
        by_pair = {(e.source_node, e.target_node): e for e in job_graph.edges}
        nodes = []
        for node in graph.topological_order():
            vertex = job_graph.vertices[job_graph.vertex_of_node[node.id]]
            predecessors = []
            for edge in graph.in_edges(node.id):
                network_edge = by_pair.get((edge.source_id, node.id))
                strategy = str(network_edge.partitioner) if network_edge else "FORWARD"
                predecessors.append(
                    {"id": edge.source_id, "ship_strategy": strategy,
                     "side": "second" if edge.input_index else "first",
                     "chained": network_edge is None}
                )
            pact = "Data Source" if node.is_source else (
                "Data Sink" if node.is_sink else "Operator"
            )
            entry = {
                "id": node.id,
                "type": node.name,
                "pact": pact,
                "contents": node.name,
                "parallelism": vertex.parallelism,
                "chain": vertex.id,
                "chain_name": vertex.name,
            }
            if predecessors:
                entry["predecessors"] = predecessors
            nodes.append(entry)
        return json.dumps({"nodes": nodes}, indent=2)

    # -- execution ----------------------------------------------------------------

    def execute(self, job_name: str | None = None) -> JobExecutionResult:
        """Run the job to completion on the active cluster, or on a cluster started
        for this job alone, and return its result."""
        graph = self.get_stream_graph(job_name)
        run = submit(graph, self._execution_config(graph))
        self._graph = self._new_graph()  # as Flink clears transformations
        for record in run.run():
            pass
        return JobExecutionResult(
            run.job_seq, graph.job_name, run.net_runtime_ms, run.region_stats()
        )

    def _collect(self, job_name: str | None):
        graph = self.get_stream_graph(job_name)
        run = submit(graph, self._execution_config(graph))
        self._graph = self._new_graph()
        return run

    def _execution_config(self, graph: StreamGraph) -> ExecutionConfig:
        """The job's configuration, parsed, with the runtime mode resolved: AUTOMATIC
        becomes BATCH when every source is bounded, else STREAMING (as in Flink).

        Raises:
            ConfigurationError: a value cannot be used (the message names every one).
            InvalidProgramError: BATCH mode with an unbounded source (before any
                process starts).
        """
        config = ExecutionConfig.from_dict(self._config)
        requested = config.runtime_mode
        unbounded = [
            node.name for node in graph.nodes.values()
            if node.is_source
            and boundedness_of(node.operator.source) is Boundedness.CONTINUOUS_UNBOUNDED
        ]
        if requested is RuntimeExecutionMode.BATCH and unbounded:
            raise InvalidProgramError(
                f"job {graph.job_name!r} runs in BATCH mode, but its source "
                f"{unbounded[0]!r} is unbounded (CONTINUOUS_UNBOUNDED): BATCH needs sources "
                "that end. Run it in STREAMING or AUTOMATIC mode, or make the source bounded "
                "(FileSource: process_static_file_set())"
            )
        # operators read the resolved mode
        return replace(config, runtime_mode=requested.resolve(all_sources_bounded=not unbounded))
