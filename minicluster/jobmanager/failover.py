"""What re-runs after a failure in BATCH mode (Flink's
``RestartPipelinedRegionFailoverStrategy``).

    failure of subtasks S of region R
      ├─ full                      -> cancel; every region re-runs from the start
      ├─ R's input partition lost  -> cancel; the producing regions P re-run first
      │  (PartitionNotFoundError,     (backtracking: if P's own inputs are gone, P's
      │   PartitionCorruptedError)     re-run fails the same way and backtracks again),
      │                                then everything downstream of P, R included
      ├─ S not known (a TaskManager -> cancel; R's unfinished subtasks re-run
      │  failed to deploy)
      └─ anything else             -> S alone re-run, re-reading their materialized
                                      inputs; R's other subtasks keep running (or
                                      keep their output when they finished)

In BATCH every JobEdge is blocking, so a subtask reads only finished partitions and
writes its own: each subtask of a region is a pipelined region of its own in Flink's
sense (all-to-all blocking edges), and its failure touches no sibling. Pure functions
over the regions; ``JobRun`` applies the answer. A region downstream of a re-run
producer re-runs too: the producer may route records differently the second time (a
rebalance, splits handed out in another order), and a consumer that read the first
version must not be mixed with one that reads the second.
"""

from __future__ import annotations

from enum import Enum

from minicluster.graph.regions import PipelinedRegion

PARTITION_ERRORS = frozenset({"PartitionNotFoundError", "PartitionCorruptedError"})


def downstream_closure(
    regions: tuple[PipelinedRegion, ...], starts: set[int]
) -> set[int]:
    """``starts`` and every region that consumes them, transitively."""
    closure = set(starts)
    for region in regions:  # topological order: inputs come first
        if closure.intersection(region.inputs):
            closure.add(region.id)
    return closure


class FailoverScope(Enum):
    """What a failover re-runs besides the regions it re-runs in full."""

    #: the failed subtasks alone; their siblings keep running
    FAILED_SUBTASKS = "FAILED_SUBTASKS"
    #: the failed region's subtasks that had not finished (the rest are cancelled)
    UNFINISHED_SUBTASKS = "UNFINISHED_SUBTASKS"
    #: nothing more (the failed region is among the regions re-run in full)
    REGIONS = "REGIONS"

    @property
    def cancels_running(self) -> bool:
        """Whether every running subtask of the job is cancelled first."""
        return self is not FailoverScope.FAILED_SUBTASKS

    def __str__(self) -> str:
        return self.value


def regions_to_restart(
    regions: tuple[PipelinedRegion, ...],
    failed_region: int,
    lost_producers: set[int],
    full: bool,
    subtasks_known: bool = True,
) -> tuple[set[int], FailoverScope]:
    """``(regions whose outputs are discarded and that re-run in full, what else
    re-runs)``.

    Args:
        failed_region: where the failure happened.
        lost_producers: regions whose partition the failed region could not read.
        full: the ``full`` failover strategy.
        subtasks_known: whether the failure names the subtasks it killed (not so
            when a TaskManager failed to create a stage's tasks).
    """
    if full:
        return {r.id for r in regions}, FailoverScope.REGIONS
    if lost_producers:
        return downstream_closure(regions, lost_producers), FailoverScope.REGIONS
    if not subtasks_known:
        return set(), FailoverScope.UNFINISHED_SUBTASKS
    return set(), FailoverScope.FAILED_SUBTASKS
