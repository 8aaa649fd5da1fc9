"""``JobExecutionResult`` (PyFlink's ``pyflink.common.job_execution_result``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobExecutionResult:
    """What ``execute()`` returns (PyFlink's ``JobExecutionResult``)."""

    job_id: int
    job_name: str
    net_runtime_ms: int

    def get_job_id(self) -> int:
        return self.job_id

    def get_net_runtime(self) -> int:
        """Milliseconds from deployment to the last subtask's end."""
        return self.net_runtime_ms

    def is_job_execution_result(self) -> bool:
        return True

    def get_job_execution_result(self) -> "JobExecutionResult":
        return self


__all__ = ["JobExecutionResult"]
