"""What a TaskManager needs from a deployed job, and what it offers the job's tasks.

The slots package runs tasks without knowing what they compute: a deployment's payload
unpickles to an object with ``create_tasks(env)`` returning ``Invokable``s, and the
TaskManager loop only asks each one whether it can make progress and tells it to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from minicluster.network.channels import OutputChannel
from minicluster.network.data_plane import DataPlane


@dataclass(slots=True)
class TaskEnvironment:
    """Per-TaskManager services a task may use."""

    tm_index: int
    job_seq: int
    data_plane: DataPlane
    #: ``(vertex_id, subtask_index, attempt)``: a credit-based channel to the client
    #: (``execute_and_collect``) for that subtask attempt's results.
    open_client_channel: Callable[[int, int, int], OutputChannel]
    initial_credit: int
    #: ``(vertex_id, subtask_index, attempt)``: ask the job's split enumerator for a
    #: split; the answer comes back through ``Invokable.add_split``.
    request_split: Callable[[int, int, int], None]


class Invokable(Protocol):
    """One parallel subtask, driven one unit of work at a time by the TaskManager loop."""

    name: str  # the task's (JobVertex's) name, without the subtask
    vertex_id: int
    subtask_index: int
    attempt: int  # this subtask's deployments in the job before this one (0 first)
    parallelism: int
    finished: bool
    current_operator: str

    def open(self) -> None: ...

    def is_runnable(self) -> bool:
        """Has input (or is a source) and no output channel is waiting for credit."""
        ...

    def step(self) -> None:
        """Process one batch; never blocks."""
        ...

    def add_split(self, split: object) -> None:
        """The supervisor answered this (source) task's split request; None: no more."""
        ...

    def has_pending_output(self) -> bool:
        """Batches still wait for credit: a finished task is reported only once they
        have left, so the job cannot end before its last results."""
        ...

    def next_timer_deadline(self) -> int | None:
        """Epoch milliseconds of the next processing-time timer, or None."""
        ...

    def fire_processing_timers(self) -> bool:
        """Fire the processing-time timers that are due; True if any fired."""
        ...

    def close(self) -> None: ...


class Deployment(Protocol):
    def create_tasks(self, env: TaskEnvironment) -> list[Invokable]: ...
