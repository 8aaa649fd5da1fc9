"""Messages between the supervisor (JobManager) and the TaskManagers.

    supervisor ROUTER  ipc://<run>/jobmanager.ctl  <--DEALER-- TaskManager i
      -> Deploy, Start, Cancel, Release, Shutdown
      <- Registered, Deployed, TaskFinished, TaskFailed, Output, Collected, Cancelled

A job starts in two phases (Deploy to every TaskManager, then Start once all have
answered Deployed) so no data reaches a TaskManager before its channels exist.
Messages are pickled; a job's code inside ``Deploy.payload`` is cloudpickled once by
the supervisor and unpickled by each TaskManager.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Registered:
    tm_index: int
    pid: int
    slots: int


@dataclass(frozen=True, slots=True)
class Deploy:
    job_seq: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Deployed:
    job_seq: int
    tm_index: int
    tasks: int


@dataclass(frozen=True, slots=True)
class Start:
    job_seq: int


@dataclass(frozen=True, slots=True)
class TaskFinished:
    job_seq: int
    vertex_id: int
    subtask_index: int


@dataclass(frozen=True, slots=True)
class TaskFailed:
    """A user function or the runtime raised inside a subtask."""

    job_seq: int
    task_name: str
    operator_name: str
    subtask_index: int
    parallelism: int
    tm_index: int
    error_type: str
    message: str
    traceback: str


@dataclass(frozen=True, slots=True)
class Output:
    """Text a subtask wrote to ``sys.stdout``/``sys.stderr``, for the client's terminal."""

    stream: str
    text: str


@dataclass(frozen=True, slots=True)
class Collected:
    """A batch of results of ``execute_and_collect`` on its way to the client."""

    job_seq: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Cancel:
    job_seq: int


@dataclass(frozen=True, slots=True)
class Cancelled:
    job_seq: int
    tm_index: int


@dataclass(frozen=True, slots=True)
class Release:
    """The job is over: drop its channels."""

    job_seq: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    pass
