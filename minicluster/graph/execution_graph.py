"""JobGraph -> ExecutionGraph: parallel subtasks and the channels between them.

Every JobEdge becomes a set of channels, one per connected (producer subtask,
consumer subtask) pair: all pairs for ALL_TO_ALL partitioners, Flink's POINTWISE
pairs for FORWARD and RESCALE. Channel ids are unique within the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from minicluster.graph.job_graph import JobEdge, JobGraph
from minicluster.network.partitioners import pointwise_targets


@dataclass(frozen=True, slots=True)
class Channel:
    channel_id: int
    producer: int
    consumer: int


@dataclass(frozen=True, slots=True)
class ExecutionEdge:
    job_edge: JobEdge
    channels: tuple[Channel, ...]

    def producer_channels(self, subtask: int) -> list[Channel]:
        """The channels a producer subtask writes, ordered by consumer subtask."""
        return sorted(
            (c for c in self.channels if c.producer == subtask), key=lambda c: c.consumer
        )

    def consumer_channels(self, subtask: int) -> list[Channel]:
        return [c for c in self.channels if c.consumer == subtask]


@dataclass(frozen=True, slots=True)
class ExecutionGraph:
    job_graph: JobGraph
    edges: tuple[ExecutionEdge, ...]

    def subtasks(self) -> list[tuple[int, int]]:
        return [
            (v.id, i) for v in self.job_graph.vertices.values() for i in range(v.parallelism)
        ]


def build_execution_graph(job_graph: JobGraph) -> ExecutionGraph:
    next_id = 0
    edges = []
    for job_edge in job_graph.edges:
        producers = job_graph.vertices[job_edge.source_vertex].parallelism
        consumers = job_graph.vertices[job_edge.target_vertex].parallelism
        channels = []
        for producer in range(producers):
            if job_edge.partitioner.is_pointwise:
                targets = pointwise_targets(producer, producers, consumers)
            else:
                targets = range(consumers)
            for consumer in targets:
                channels.append(Channel(next_id, producer, consumer))
                next_id += 1
        edges.append(ExecutionEdge(job_edge, tuple(channels)))
    return ExecutionGraph(job_graph, tuple(edges))
