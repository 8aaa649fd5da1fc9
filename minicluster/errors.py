"""The small hierarchy of errors a user of minicluster can meet.

Every error says what is wrong, where (job, operator, subtask) and, where it helps,
what to do about it. A failure inside a TaskManager arrives as a ``JobExecutionError``
whose ``__cause__`` is a ``RemoteTraceback`` holding the user's original traceback,
as ``concurrent.futures`` does for a process pool.
"""

from __future__ import annotations


class MiniClusterError(Exception):
    """Base class of every error minicluster raises on purpose."""


class InvalidProgramError(MiniClusterError, ValueError):
    """The job graph cannot run as written (found before any process starts)."""


class ConfigurationError(InvalidProgramError):
    """A configuration value cannot be used (found when the job is submitted).

    The message names every bad key, the value it holds and what is expected, e.g.
    ``configuration minicluster.batch-size='many' is not an integer``.

    Attributes:
        problems: ``(key, value, reason)`` for every bad value, in the order of
            ``ExecutionConfig``'s fields.
        key: the first bad key.
        value: the value it holds.
    """

    def __init__(self, problems: list[tuple[str, object, str]]) -> None:
        if not problems:
            raise ValueError("ConfigurationError needs at least one problem")
        lines = [f"configuration {key}={value!r} {reason}" for key, value, reason in problems]
        super().__init__(
            lines[0] if len(lines) == 1
            else f"{len(lines)} bad configuration values:\n  " + "\n  ".join(lines)
        )
        self.problems = tuple(problems)
        self.key, self.value = problems[0][0], problems[0][1]

    def __reduce__(self):
        return type(self), (list(self.problems),)


class NotEnoughSlotsError(MiniClusterError):
    """The job needs more slots than the cluster has."""


class ClusterError(MiniClusterError):
    """The cluster itself could not start, or is no longer usable."""


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in a TaskManager."""

    def __init__(self, traceback_text: str) -> None:
        super().__init__(traceback_text)
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return "\n\"\"\"\n" + self.traceback_text.rstrip("\n") + "\n\"\"\""


class JobExecutionError(MiniClusterError):
    """The job failed while running.

    Attributes:
        job_name: the job's name.
        operator_name: the operator whose code raised (None when no operator did,
            e.g. a TaskManager died).
        subtask_index: zero-based index of the failing subtask, or None.
        error_type: class name of the original exception, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        job_name: str,
        operator_name: str | None = None,
        subtask_index: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.job_name = job_name
        self.operator_name = operator_name
        self.subtask_index = subtask_index
        self.error_type = error_type


class TaskManagerLostError(JobExecutionError):
    """A TaskManager process died while the job ran."""


__all__ = [
    "ClusterError",
    "ConfigurationError",
    "InvalidProgramError",
    "JobExecutionError",
    "MiniClusterError",
    "NotEnoughSlotsError",
    "RemoteTraceback",
    "TaskManagerLostError",
]
