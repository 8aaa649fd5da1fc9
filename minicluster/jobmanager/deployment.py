"""What the supervisor ships to every TaskManager for one job.

The deployment is cloudpickled once and sent to each TaskManager, which calls
``create_tasks`` for its share. Each operator travels as its own cloudpickled bytes
and is unpickled once per subtask, so parallel subtasks in one TaskManager never
share a user function object (or the state a user keeps on it).
"""

from __future__ import annotations

from dataclasses import dataclass

import cloudpickle

from minicluster.errors import InvalidProgramError
from minicluster.graph.execution_graph import ExecutionGraph, build_execution_graph
from minicluster.graph.job_graph import JobGraph
from minicluster.graph.stream_graph import StreamGraph
from minicluster.jobmanager.scheduler import Assignment, assign_slots
from minicluster.slots.task_api import Invokable, TaskEnvironment


@dataclass(frozen=True, slots=True)
class Deployment:
    execution_graph: ExecutionGraph
    assignment: Assignment
    operator_payloads: dict[int, bytes]
    batch_size: int
    config: dict[str, str]

    def create_tasks(self, env: TaskEnvironment) -> list[Invokable]:
        from minicluster.operators.task import StreamTask  # TaskManager side only

        vertices = self.execution_graph.job_graph.vertices
        return [
            StreamTask(self, vertices[vertex_id], subtask, env)
            for (vertex_id, subtask), tm in sorted(self.assignment.items())
            if tm == env.tm_index
        ]

    def tasks_on(self, tm_index: int) -> int:
        return sum(1 for tm in self.assignment.values() if tm == tm_index)


def build_deployment(
    stream_graph: StreamGraph,
    job_graph: JobGraph,
    tm_count: int,
    slots_per_tm: int,
    batch_size: int,
    config: dict[str, str],
) -> tuple[Deployment, bytes]:
    """Assign slots and serialize; returns the deployment and its shipped bytes."""
    execution_graph = build_execution_graph(job_graph)
    assignment = assign_slots(job_graph, tm_count, slots_per_tm)
    payloads = {}
    for node in stream_graph.nodes.values():
        payloads[node.id] = _dumps(node.operator, f"operator {node.name!r}")
    deployment = Deployment(execution_graph, assignment, payloads, batch_size, dict(config))
    return deployment, _dumps(deployment, "the job graph (partitioners, key selectors)")


def _dumps(obj: object, what: str) -> bytes:
    try:
        return cloudpickle.dumps(obj, protocol=5)
    except Exception as error:
        raise InvalidProgramError(
            f"{what} cannot be shipped to the TaskManagers: {type(error).__name__}: "
            f"{error}; functions must not hold locks, sockets, open files or other "
            "unpicklable objects (create those in open())"
        ) from error
