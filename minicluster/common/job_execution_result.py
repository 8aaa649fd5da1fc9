"""``JobExecutionResult`` (PyFlink's ``pyflink.common.job_execution_result``).

BATCH jobs also carry one ``RegionStats`` per pipelined region (attempts, records in
and out, bytes spilled), exposed as accumulators: a test sees exactly which regions
re-ran after a failure (``attempts > 1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RegionStats:
    """What one pipelined region did, counted over its successful attempt.

    Attributes:
        region: the region's id (topological order, 0 first).
        name: its JobVertices' names, joined by ``" | "``.
        attempts: 1 + the failovers that deployed any of its subtasks again (1
            without failures; a failover re-running one subtask, several at once, or
            the whole region counts once).
        records_in: records pushed into its chains' heads (from sources or spill files).
        records_out: records its writers wrote into blocking partitions.
        bytes_spilled: bytes of the blocking partitions it wrote.
    """

    region: int
    name: str
    attempts: int
    records_in: int
    records_out: int
    bytes_spilled: int

    def __post_init__(self) -> None:
        if min(self.attempts, self.records_in, self.records_out, self.bytes_spilled) < 0:
            raise ValueError(f"negative region counters: {self}")


@dataclass(frozen=True, slots=True)
class JobExecutionResult:
    """What ``execute()`` returns (PyFlink's ``JobExecutionResult``)."""

    job_id: int
    job_name: str
    net_runtime_ms: int
    region_stats: tuple[RegionStats, ...] = field(default=())

    def get_job_id(self) -> int:
        return self.job_id

    def get_net_runtime(self) -> int:
        """Milliseconds from deployment to the last subtask's end."""
        return self.net_runtime_ms

    def get_all_accumulator_results(self) -> dict[str, int]:
        """The job's counters by name: ``region-<id>.attempts``, ``.records-in``,
        ``.records-out`` and ``.bytes-spilled`` per region (BATCH jobs)."""
        results: dict[str, int] = {}
        for stats in self.region_stats:
            prefix = f"region-{stats.region}"
            results[f"{prefix}.attempts"] = stats.attempts
            results[f"{prefix}.records-in"] = stats.records_in
            results[f"{prefix}.records-out"] = stats.records_out
            results[f"{prefix}.bytes-spilled"] = stats.bytes_spilled
        return results

    def get_accumulator_result(self, name: str) -> int | None:
        return self.get_all_accumulator_results().get(name)

    def is_job_execution_result(self) -> bool:
        return True

    def get_job_execution_result(self) -> "JobExecutionResult":
        return self


__all__ = ["JobExecutionResult", "RegionStats"]
