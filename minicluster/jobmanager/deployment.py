"""What the supervisor ships to every TaskManager for one job.

The deployment is cloudpickled once and sent to each TaskManager, which calls
``create_tasks`` for its share. In BATCH mode the job runs stage by stage: each
``Deploy`` also carries a small ``Stage`` (the subtasks of this wave, or the failed
subtasks of a wave deployed again, where they run and their attempts, the descriptors
of the blocking partitions they read, the spill folder), and the TaskManager creates
only those subtasks. Each operator travels as its own cloudpickled bytes
and is unpickled once per subtask, so parallel subtasks in one TaskManager never
share a user function object (or the state a user keeps on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cloudpickle

from minicluster.common.execution_config import ExecutionConfig
from minicluster.errors import InvalidProgramError
from minicluster.graph.execution_graph import ExecutionGraph, build_execution_graph
from minicluster.graph.job_graph import JobGraph
from minicluster.graph.stream_graph import StreamGraph
from minicluster.jobmanager.scheduler import Assignment, assign_slots
from minicluster.network.spill_partition import PartitionDescriptor
from minicluster.slots.task_api import Invokable, TaskEnvironment


@dataclass(frozen=True, slots=True)
class Stage:
    """What one ``Deploy`` of a BATCH job runs: a wave of a region, or the failed
    subtasks of a wave deployed again; on which TaskManager, and what they read.

    Attributes:
        number: the stage's position in the job (0 first).
        region: the pipelined region the subtasks belong to.
        assignment: ``(vertex id, subtask index) -> TaskManager`` for this stage only.
        inputs: ``(job edge id, producer subtask) -> PartitionDescriptor`` of every
            finished partition the stage's subtasks read.
        spill_dir: the job's spill folder, where producers write their partitions.
        attempts: ``(vertex id, subtask index) -> attempt`` (missing: 0), the
            subtask's deployments in the job before this one; a re-run names its
            partitions after it, so they never collide with a failed attempt's files.
    """

    number: int
    region: int
    assignment: Assignment
    inputs: dict[tuple[int, int], PartitionDescriptor]
    spill_dir: str
    attempts: dict[tuple[int, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.assignment:
            raise ValueError(f"stage {self.number} (region {self.region}) runs no subtask")
        if not self.attempts.keys() <= self.assignment.keys():
            raise ValueError(
                f"stage {self.number} (region {self.region}) names attempts of subtasks "
                f"it does not run: {sorted(self.attempts.keys() - self.assignment.keys())}"
            )

    def attempt_of(self, vertex_id: int, subtask_index: int) -> int:
        return self.attempts.get((vertex_id, subtask_index), 0)

    def __repr__(self) -> str:
        again = {key: n for key, n in sorted(self.attempts.items()) if n}
        return (
            f"Stage({self.number}: region {self.region}, subtasks "
            f"{sorted(self.assignment)}"
            + (f", attempts {again}" if again else "")
            + f", {len(self.inputs)} input partitions)"
        )


@dataclass(frozen=True, slots=True)
class Deployment:
    execution_graph: ExecutionGraph
    assignment: Assignment  # STREAMING: every subtask; BATCH: empty (per Stage)
    operator_payloads: dict[int, bytes]
    config: ExecutionConfig  # the job's, parsed in the client

    @property
    def batch(self) -> bool:
        """BATCH mode: stage by stage, every JobEdge blocking."""
        return self.config.is_batch

    def create_tasks(self, env: TaskEnvironment, stage: Stage | None = None) -> list[Invokable]:
        from minicluster.operators.task import StreamTask  # TaskManager side only

        vertices = self.execution_graph.job_graph.vertices
        assignment = self.assignment if stage is None else stage.assignment
        return [
            StreamTask(self, vertices[vertex_id], subtask, env, stage)
            for (vertex_id, subtask), tm in sorted(assignment.items())
            if tm == env.tm_index
        ]


def build_deployment(
    stream_graph: StreamGraph,
    job_graph: JobGraph,
    tm_count: int,
    slots_per_tm: int,
    config: ExecutionConfig,
) -> tuple[Deployment, bytes]:
    """Assign slots and serialize; returns the deployment and its shipped bytes.

    In BATCH mode slots are assigned per stage (``jobmanager/batch_scheduler.py``), so
    a job runs on fewer slots than its parallelism."""
    execution_graph = build_execution_graph(job_graph)
    assignment = {} if config.is_batch else assign_slots(job_graph, tm_count, slots_per_tm)
    payloads = {}
    for node in stream_graph.nodes.values():
        payloads[node.id] = _dumps(node.operator, f"operator {node.name!r}")
    deployment = Deployment(execution_graph, assignment, payloads, config)
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
