"""StreamTask: one parallel subtask of a JobVertex, as the TaskManager loop drives it.

    input channels --(one batch per step, round robin)--> chain head --> ... --> writers
    source reader  --(one batch per step)---------------/

Channels are created when the task is deployed, so data that arrives before the
supervisor's Start has somewhere to wait; user functions open on Start. A task is
runnable only while none of its output channels waits for credit (backpressure), and
finishes once every input has delivered EndOfPartition (or its source is exhausted):
then it ends the chain's input and sends EndOfPartition downstream, behind any data
still waiting for credit.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

from minicluster._functions import RuntimeContext
from minicluster.network.channels import InputChannel, OutputChannel
from minicluster.network.codec import DATA
from minicluster.network.events import END_OF_PARTITION, EndOfPartition
from minicluster.network.record_writer import RecordWriter
from minicluster.operators.base import OperatorContext, tag_operator
from minicluster.operators.chain import ChainNode
from minicluster.operators.sources import SourceOperator
from minicluster.slots.task_api import TaskEnvironment

if TYPE_CHECKING:
    from minicluster.graph.job_graph import JobVertex
    from minicluster.jobmanager.deployment import Deployment


class StreamTask:
    def __init__(
        self,
        deployment: Deployment,
        vertex: JobVertex,
        subtask_index: int,
        env: TaskEnvironment,
    ) -> None:
        self.vertex_id = vertex.id
        self.subtask_index = subtask_index
        self.parallelism = vertex.parallelism
        self.name = vertex.name
        self.current_operator = vertex.head.name
        self.finished = False
        self._opened = False
        self._deployment = deployment
        self._vertex = vertex
        self._env = env
        self._inputs: list[InputChannel] = []
        self._outputs: list[OutputChannel] = []
        self._writers_by_node: dict[int, list[RecordWriter]] = {}
        self._opened_nodes: list[ChainNode] = []
        self._next_input = 0
        self._create_channels()

    def _create_channels(self) -> None:
        deployment, vertex, env = self._deployment, self._vertex, self._env
        plane = env.data_plane
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
            if job_edge.source_vertex == vertex.id:
                outputs = []
                for channel in edge.producer_channels(self.subtask_index):
                    consumer_tm = deployment.assignment[(job_edge.target_vertex, channel.consumer)]
                    outputs.append(
                        plane.output_channel(channel.channel_id, consumer_tm, env.initial_credit)
                    )
                self._outputs.extend(outputs)
                target = deployment.execution_graph.job_graph.vertices[job_edge.target_vertex]
                partitioner = job_edge.partitioner.copy_for_subtask(
                    len(outputs), self.subtask_index
                )
                writer = RecordWriter(
                    partitioner,
                    outputs,
                    f"{partitioner} partitioning to {target.head.name!r}",
                )
                self._writers_by_node.setdefault(job_edge.source_node, []).append(writer)
        self._unfinished_inputs = len(self._inputs)

    def open(self) -> None:
        vertex, env = self._vertex, self._env
        runtime_context = RuntimeContext(
            vertex.name, self.subtask_index, vertex.parallelism, vertex.max_parallelism
        )
        ctx = OperatorContext(
            runtime_context=runtime_context,
            subtask_index=self.subtask_index,
            parallelism=vertex.parallelism,
            max_parallelism=vertex.max_parallelism,
            batch_size=self._deployment.batch_size,
            open_client_channel=self._open_client_channel,
        )
        nodes: dict[int, ChainNode] = {}
        for chained in vertex.chain:
            operator = pickle.loads(self._deployment.operator_payloads[chained.node_id])
            operator.name = chained.name
            node = nodes[chained.node_id] = ChainNode(operator, chained.name)
            node.writers = self._writers_by_node.get(chained.node_id, [])
        for chained in vertex.chain:
            nodes[chained.node_id].children = [nodes[c] for c in chained.chained_children]
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
        channel = self._env.open_client_channel()
        self._outputs.append(channel)  # so that a slow client reader blocks this task
        return channel

    def is_runnable(self) -> bool:
        if not self._opened or self.finished:
            return False
        for channel in self._outputs:
            if channel.pending:
                return False
        if self._source is not None:
            return True
        for channel in self._inputs:
            if channel.queue:
                return True
        return False

    def step(self) -> None:
        source = self._source
        if source is not None:
            batch = source.next_batch()
            if batch is None:
                self._finish()
            else:
                self._head.push(batch)
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
            self._head.push(payload, channel.input_index)
        elif isinstance(payload, EndOfPartition):
            channel.finished = True
            self._unfinished_inputs -= 1
            if self._unfinished_inputs == 0:
                self._finish()

    def _finish(self) -> None:
        self._head.end_input()
        for writers in self._writers_by_node.values():
            for writer in writers:
                writer.broadcast_event(END_OF_PARTITION)
        self.finished = True

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
        if error is not None:
            raise error
