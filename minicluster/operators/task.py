"""StreamTask: one parallel subtask of a JobVertex, as the TaskManager loop drives it.

    input channels --(one batch per step, round robin)--> chain head --> ... --> writers
    source reader  --(one batch per step)---------------/
    split reader   --(no split left: RequestSplit, not runnable until AssignSplit)

Channels are created when the task is deployed, so data that arrives before the
supervisor's Start has somewhere to wait; user functions open on Start. A task is
runnable only while none of its output channels waits for credit (backpressure).

Event time: every input channel remembers the last watermark it delivered. The task's
watermark is the minimum over the channels that are neither idle nor finished; when
that minimum advances, the chain's head processes it (windows and timers fire) and
passes it on. When every remaining channel is idle, the task tells its consumers it
is idle too (through its chain, so an operator holding records back flushes them
first). A source ends by emitting the maximum watermark, so all event-time
timers downstream fire before EndOfPartition closes each channel.

BATCH mode (a ``Stage`` is given): every edge between JobVertices is blocking. The
task writes each outgoing edge into a spill-file partition (``BlockingRecordWriter``)
whose descriptor it hands to the TaskManager when it finishes
(``result_partitions``), and reads each incoming edge from its producers' finished
partitions (``BlockingInput``, one batch per step, no credit). No watermarks travel:
when every blocking input is exhausted the head processes the maximum watermark (so
event-time timers and windows fire at the end of input), then the input ends. The
subtask's attempt (``Stage.attempts``: its deployments in the job before this one)
names its partition and sort-run files, so a re-run never writes over a failed
attempt's, and is the user's ``RuntimeContext.get_attempt_number()``.
"""

from __future__ import annotations

import pickle
import time
from typing import TYPE_CHECKING

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.network.blocking import (
    BlockingInput,
    BlockingRecordWriter,
    CombiningRecordWriter,
)
from minicluster.network.channels import InputChannel, OutputChannel
from minicluster.network.codec import DATA
from minicluster.network.events import (
    END_OF_PARTITION,
    MAX_WATERMARK,
    MIN_WATERMARK,
    EndOfPartition,
    Watermark,
    WatermarkStatus,
)
from minicluster.network.grouped_input import READING, GroupedBlockingInputs, sort_run_prefix
from minicluster.network.partitioners import KeyGroupStreamPartitioner
from minicluster.network.record_writer import RecordWriter
from minicluster.network.spill_partition import attempt_partition_id
from minicluster.network.spill_writer import ResultPartitionWriter
from minicluster.operators.base import OperatorContext, ProcessingTimeService, tag_operator
from minicluster.operators.chain import ChainNode
from minicluster.operators.sources import REQUEST_SPLIT
from minicluster.slots.task_api import TaskEnvironment

if TYPE_CHECKING:
    from minicluster.graph.job_graph import JobVertex
    from minicluster.jobmanager.deployment import Deployment, Stage


class _InputState:
    """Event-time bookkeeping of one input channel."""

    __slots__ = ("watermark", "idle")

    def __init__(self) -> None:
        self.watermark = MIN_WATERMARK
        self.idle = False


class StreamTask:
    def __init__(
        self,
        deployment: Deployment,
        vertex: JobVertex,
        subtask_index: int,
        env: TaskEnvironment,
        stage: Stage | None = None,
    ) -> None:
        self.vertex_id = vertex.id
        self.subtask_index = subtask_index
        #: the execution attempt (BATCH: this subtask's deployments before this one)
        self.attempt = 0 if stage is None else stage.attempt_of(vertex.id, subtask_index)
        self.parallelism = vertex.parallelism
        self.name = vertex.name
        self.current_operator = vertex.head.name
        self.finished = False
        self._opened = False
        self._deployment = deployment
        self._vertex = vertex
        self._env = env
        self._inputs: list[InputChannel] = []
        self._input_states: dict[int, _InputState] = {}
        self._outputs: list[OutputChannel] = []
        self._writers: dict[tuple[int, str | None], list[RecordWriter]] = {}
        self._blocking_inputs: list[BlockingInput] = []
        self._blocking_writers: list[BlockingRecordWriter] = []
        self._stage = stage
        #: BATCH with a keyed head: the blocking inputs, grouped by key (set on the
        #: first step, once the head is open); False when the head is not keyed
        self._grouped: GroupedBlockingInputs | None | bool = None
        #: BATCH: ``(job edge id, subtask index, PartitionDescriptor)`` per outgoing
        #: edge, set when the task finishes.
        self.result_partitions: tuple = ()
        #: records pushed into the chain's head (the region's ``records_in``).
        self.records_in = 0
        self._opened_nodes: list[ChainNode] = []
        self._next_input = 0
        self._watermark = MIN_WATERMARK
        self._idle = False
        self.processing_time = ProcessingTimeService(time.time)
        if stage is None:
            self._create_channels()
        else:
            self._create_blocking_ends(stage)

    def _create_blocking_ends(self, stage: Stage) -> None:
        """BATCH: spill-file partitions instead of network channels on every edge."""
        vertices = self._deployment.execution_graph.job_graph.vertices
        for edge in self._deployment.execution_graph.edges:
            job_edge = edge.job_edge
            if job_edge.target_vertex == self.vertex_id:
                descriptors = [
                    stage.inputs[(job_edge.id, channel.producer)]
                    for channel in edge.consumer_channels(self.subtask_index)
                ]
                self._blocking_inputs.append(
                    BlockingInput(job_edge.input_index, descriptors, self.subtask_index)
                )
            if job_edge.source_vertex == self.vertex_id:
                target = vertices[job_edge.target_vertex]
                consumers = [c.consumer for c in edge.producer_channels(self.subtask_index)]
                partitioner = job_edge.partitioner.copy_for_subtask(
                    len(consumers), self.subtask_index
                )
                partition = ResultPartitionWriter(
                    stage.spill_dir,
                    attempt_partition_id(job_edge.id, self.subtask_index, self.attempt),
                    target.parallelism,
                    sync=False,  # the job's own scratch files: a crash loses the job anyway
                )
                name = f"{partitioner} partitioning to {target.head.name!r} (blocking)"
                combiner = self._combiner_for(job_edge)
                if combiner is None:
                    writer = BlockingRecordWriter(
                        partitioner, partition, consumers, name, job_edge.id
                    )
                else:
                    key_of, reduce = combiner
                    writer = CombiningRecordWriter(
                        partitioner, partition, consumers, name + " with combiner",
                        job_edge.id, key_of, reduce,
                        self._deployment.config.batch_combiner_max_entries,
                        self._deployment.config.batch_size,
                    )
                self._blocking_writers.append(writer)
                key = (job_edge.source_node, job_edge.side_tag)
                self._writers.setdefault(key, []).append(writer)
        self._unfinished_inputs = len(self._blocking_inputs)

    def _combiner_for(self, job_edge) -> tuple | None:
        """``(key_of, reduce)`` when ``job_edge`` is a keyed exchange into a keyed
        reduce (``reduce``, ``sum``, ``min``, ...) that allows a combiner."""
        if not isinstance(job_edge.partitioner, KeyGroupStreamPartitioner):
            return None
        if not self._deployment.config.batch_combiner:
            return None
        operator = pickle.loads(self._deployment.operator_payloads[job_edge.target_node])
        combiner = getattr(operator, "combiner", None)
        return combiner() if callable(combiner) else None

    def _create_channels(self) -> None:
        deployment, vertex, env = self._deployment, self._vertex, self._env
        plane = env.data_plane
        vertices = deployment.execution_graph.job_graph.vertices
        for edge in deployment.execution_graph.edges:
            job_edge = edge.job_edge
            if job_edge.target_vertex == vertex.id:
                for channel in edge.consumer_channels(self.subtask_index):
                    producer_tm = deployment.assignment[(job_edge.source_vertex, channel.producer)]
                    self._inputs.append(
                        plane.input_channel(
                            channel.channel_id, job_edge.input_index, producer_tm,
                            env.initial_credit,
                        )
                    )
                    self._input_states[channel.channel_id] = _InputState()
            if job_edge.source_vertex == vertex.id:
                outputs = []
                for channel in edge.producer_channels(self.subtask_index):
                    consumer_tm = deployment.assignment[(job_edge.target_vertex, channel.consumer)]
                    outputs.append(
                        plane.output_channel(channel.channel_id, consumer_tm, env.initial_credit)
                    )
                self._outputs.extend(outputs)
                target = vertices[job_edge.target_vertex]
                partitioner = job_edge.partitioner.copy_for_subtask(
                    len(outputs), self.subtask_index
                )
                writer = RecordWriter(
                    partitioner, outputs, f"{partitioner} partitioning to {target.head.name!r}"
                )
                key = (job_edge.source_node, job_edge.side_tag)
                self._writers.setdefault(key, []).append(writer)
        self._unfinished_inputs = len(self._inputs)

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        vertex = self._vertex
        runtime_context = RuntimeContext(
            vertex.name, self.subtask_index, vertex.parallelism, vertex.max_parallelism,
            self.attempt,
        )
        ctx = OperatorContext(
            runtime_context=runtime_context,
            subtask_index=self.subtask_index,
            parallelism=vertex.parallelism,
            max_parallelism=vertex.max_parallelism,
            batch_size=self._deployment.config.batch_size,
            config=self._deployment.config,
            processing_time=self.processing_time,
            open_client_channel=self._open_client_channel,
        )
        nodes: dict[int, ChainNode] = {}
        for chained in vertex.chain:
            operator = pickle.loads(self._deployment.operator_payloads[chained.node_id])
            operator.name = chained.name
            node = nodes[chained.node_id] = ChainNode(operator, chained.name)
            node.writers = self._writers.get((chained.node_id, None), [])
            for (node_id, tag), writers in self._writers.items():
                if node_id == chained.node_id and tag is not None:
                    node.side_writers[tag] = writers
        for chained in vertex.chain:
            parent = nodes[chained.node_id]
            for child_id, tag in chained.chained_children:
                if tag is None:
                    parent.children.append(nodes[child_id])
                else:
                    parent.side_children.setdefault(tag, []).append(nodes[child_id])
        self._head = nodes[vertex.head.node_id]
        self._source = self._head.operator if vertex.is_source else None
        for node in self._head.walk():
            self.current_operator = node.name
            try:
                node.operator.open(ctx)
            except BaseException as error:  # SystemExit in user code too
                tag_operator(error, node.name)
                raise
            self._opened_nodes.append(node)
        self._opened = True

    def _open_client_channel(self) -> OutputChannel:
        channel = self._env.open_client_channel(self.vertex_id, self.subtask_index, self.attempt)
        self._outputs.append(channel)  # so that a slow client reader blocks this task
        return channel

    def close(self) -> None:
        """Close the operators that were opened, innermost error first."""
        error = None
        for node in reversed(self._opened_nodes):
            try:
                node.operator.close()
            except BaseException as exc:
                tag_operator(exc, node.name)
                error = error or exc
        self._opened_nodes.clear()
        for blocking_input in self._blocking_inputs:
            blocking_input.close()
        if self._grouped:
            self._grouped.close()
        for writer in self._blocking_writers:
            try:
                writer.abort()  # a finished partition is kept for its consumers
            except OSError as exc:
                error = error or exc
        if error is not None:
            raise error

    # -- scheduling ------------------------------------------------------------------

    def is_runnable(self) -> bool:
        if not self._opened or self.finished:
            return False
        for channel in self._outputs:
            if channel.pending:
                return False
        if self._source is not None:
            return self._source.is_available()
        if self._blocking_inputs:
            return True  # runnable until every blocking input is exhausted
        for channel in self._inputs:
            if channel.queue:
                return True
        return False

    def add_split(self, split: object) -> None:
        """The split enumerator's answer to this source subtask's request."""
        if self._source is None or self.finished:
            return
        self._source.add_split(split)

    def has_pending_output(self) -> bool:
        return any(channel.pending for channel in self._outputs)

    def next_timer_deadline(self) -> int | None:
        """When (epoch ms) a processing-time timer is due, if any."""
        if not self._opened or self.finished:
            return None
        return self.processing_time.next_deadline()

    def fire_processing_timers(self) -> bool:
        if not self._opened or self.finished:
            return False
        return self.processing_time.fire_due()

    def step(self) -> None:
        source = self._source
        if source is not None:
            batch = source.next_batch()
            if batch is None:
                self._head.process_watermark(MAX_WATERMARK)
                self._finish()
            elif batch is REQUEST_SPLIT:
                self._env.request_split(self.vertex_id, self.subtask_index, self.attempt)
            else:
                values = getattr(batch, "values", batch)  # a SourceBatch carries stamps
                if isinstance(values, list):  # not a SourceWatermark or idleness event
                    self.records_in += len(values)
                self._head.push(batch, None)
            return
        if self._blocking_inputs:
            self._step_blocking()
            return
        inputs = self._inputs
        count = len(inputs)
        for offset in range(count):
            channel = inputs[(self._next_input + offset) % count]
            if channel.queue:
                self._next_input = (self._next_input + offset + 1) % count
                break
        else:
            return
        kind, payload = channel.take()
        if kind == DATA:
            values, timestamps = payload
            self.records_in += len(values)
            self._head.push(values, timestamps, channel.input_index)
        elif isinstance(payload, Watermark):
            state = self._input_states[channel.channel_id]
            if payload.timestamp > state.watermark:
                state.watermark = payload.timestamp
                self._advance_watermark()
        elif isinstance(payload, WatermarkStatus):
            self._input_states[channel.channel_id].idle = payload.idle
            self._advance_watermark()
        elif isinstance(payload, EndOfPartition):
            channel.finished = True
            self._unfinished_inputs -= 1
            if self._unfinished_inputs == 0:
                self._finish()
            else:
                self._advance_watermark()

    def _grouping(self) -> GroupedBlockingInputs | bool:
        """BATCH: group the inputs by key when the head operator is keyed."""
        selectors = getattr(self._head.operator, "batch_key_selectors", None)
        selectors = selectors() if callable(selectors) else None
        config = self._deployment.config
        if not selectors or not config.batch_sort_inputs:
            return False
        stage = self._stage
        prefix = sort_run_prefix(self.vertex_id, self.subtask_index, self.attempt)
        return GroupedBlockingInputs(
            self._blocking_inputs, selectors, config.batch_sort_memory_records,
            stage.spill_dir, prefix, config.batch_size,
        )

    def _step_grouped(self) -> None:
        """BATCH, keyed head: read every input (a batch per step), then push key-grouped
        batches, about ``batch_size`` records per step."""
        runs = self._grouped.next_batch()
        if runs is READING:
            return
        if runs is not None:
            self.records_in += sum(len(run[0]) for run in runs)
            head = self._head
            try:
                head.operator.process_runs(runs)  # every KeyedOperatorBase has it
            except BaseException as error:  # SystemExit in user code too
                tag_operator(error, head.name)
                raise
            return
        self._grouped.close()
        self._blocking_inputs.clear()
        self._unfinished_inputs = 0
        self._watermark = MAX_WATERMARK
        self._head.process_watermark(MAX_WATERMARK)
        self._finish()

    def _step_blocking(self) -> None:
        """BATCH: one batch of the first blocking input that is not exhausted."""
        if self._grouped is None:
            self._grouped = self._grouping()
        if self._grouped:
            self._step_grouped()
            return
        blocking_input = self._blocking_inputs[0]
        batch = blocking_input.next_batch()
        if batch is not None:
            values, timestamps = batch
            self.records_in += len(values)
            self._head.push(values, timestamps, blocking_input.input_index)
            return
        blocking_input.close()
        self._blocking_inputs.pop(0)
        self._unfinished_inputs -= 1
        if self._unfinished_inputs == 0:
            self._watermark = MAX_WATERMARK
            self._head.process_watermark(MAX_WATERMARK)
            self._finish()

    def _advance_watermark(self) -> None:
        """Recompute the min over active channels; process it if it moved forward."""
        active = [
            self._input_states[c.channel_id]
            for c in self._inputs
            if not c.finished and not self._input_states[c.channel_id].idle
        ]
        if not active:
            if not self._idle and any(not c.finished for c in self._inputs):
                self._idle = True
                self._head.process_watermark_status(True)
            return
        if self._idle:
            self._idle = False
            self._head.process_watermark_status(False)
        watermark = min(state.watermark for state in active)
        if watermark > self._watermark:
            self._watermark = watermark
            self._head.process_watermark(watermark)

    def _broadcast(self, event: object) -> None:
        for writers in self._writers.values():
            for writer in writers:
                writer.broadcast_event(event)

    def _finish(self) -> None:
        self._head.end_input()
        self._broadcast(END_OF_PARTITION)
        if self._blocking_writers:
            self.result_partitions = tuple(
                (writer.edge_id, self.subtask_index, writer.finish())
                for writer in self._blocking_writers
            )
        self.finished = True
