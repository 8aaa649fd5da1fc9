"""Messages between the supervisor (JobManager) and the TaskManagers.

    supervisor ROUTER  ipc://<run>/jobmanager.ctl  <--DEALER-- TaskManager i
      -> Deploy, Start, Cancel, Release, Shutdown, CollectCredit, AssignSplit
      <- Registered, Deployed, TaskFinished, TaskFailed, Output, Collected, Cancelled,
         RequestSplit

A job starts in two phases (Deploy to every TaskManager, then Start once all have
answered Deployed) so no data reaches a TaskManager before its channels exist; in
BATCH mode (blocking edges only, no channels between subtasks) each TaskManager gets
its Start as soon as it answered, and a Deploy may add subtasks to a TaskManager whose
other subtasks run (a failed subtask deployed again). Start opens the subtasks that
have not been opened.

Every message about one subtask names its execution attempt (Flink's
``ExecutionAttemptID``): ``(vertex_id, subtask_index, attempt)``, ``attempt`` counting
the subtask's deployments in the job (0 first). The supervisor ignores a message of an
attempt that is no longer running (a late message of a killed or failed attempt), so
it is never taken for its successor's.

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
    """Create the job's tasks. ``stage`` (BATCH mode) names the subtasks of one wave
    (or the failed subtasks of a wave, deployed again), their attempts and the
    partitions they read; a later stage of the same job reuses the job's unpickled
    payload and adds that stage's tasks to those still running."""

    job_seq: int
    payload: bytes
    stage: object | None = None


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
    """A subtask ended; in BATCH mode ``partitions`` are the blocking result
    partitions it wrote, ``(job edge id, subtask index, PartitionDescriptor)``, and
    ``records_in`` the records pushed into its chain's head."""

    job_seq: int
    vertex_id: int
    subtask_index: int
    partitions: tuple = ()
    records_in: int = 0
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class TaskFailed:
    """A user function or the runtime raised inside a subtask (``subtask_index`` -1:
    while a TaskManager created the tasks of a ``Deploy``)."""

    job_seq: int
    task_name: str
    operator_name: str
    subtask_index: int
    parallelism: int
    tm_index: int
    error_type: str
    message: str
    traceback: str
    vertex_id: int = -1
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Output:
    """Text a subtask wrote to ``sys.stdout``/``sys.stderr``, for the client's terminal."""

    stream: str
    text: str


@dataclass(frozen=True, slots=True)
class Collected:
    """A pickled batch of results of ``execute_and_collect`` on its way to the client.

    The client channel is credit-based like every other channel: the TaskManager
    sends a batch only with credit, and the client returns a ``CollectCredit`` once
    its user has iterated past the batch, so a slow reader throttles the job instead
    of piling results up in memory."""

    job_seq: int
    tm_index: int
    channel_id: int
    payload: bytes
    vertex_id: int = -1
    subtask_index: int = -1
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class CollectCredit:
    job_seq: int
    channel_id: int
    credit: int


@dataclass(frozen=True, slots=True)
class RequestSplit:
    """A split source subtask has nothing left to read and asks for the next split."""

    job_seq: int
    vertex_id: int
    subtask_index: int
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class AssignSplit:
    """The split enumerator's answer to a ``RequestSplit``: a split, or None when
    there are no more (the reader then finishes)."""

    job_seq: int
    vertex_id: int
    subtask_index: int
    split: object | None
    attempt: int = 0


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
