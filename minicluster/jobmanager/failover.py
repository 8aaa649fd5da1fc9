"""Which regions re-run after a failure (Flink's ``RestartPipelinedRegionFailoverStrategy``).

    failure in region R
      ├─ full                      -> every region re-runs from the start
      ├─ R's input partition lost  -> the producing regions P re-run first
      │  (PartitionNotFoundError,     (backtracking: if P's own inputs are gone, P's
      │   PartitionCorruptedError)     re-run fails the same way and backtracks again),
      │                                then everything downstream of P, R included
      └─ anything else             -> R alone re-runs, re-reading its materialized
                                      inputs (its subtasks that already finished keep
                                      their output)

Pure functions over the regions; ``JobRun`` applies the answer. A region downstream
of a re-run producer re-runs too: the producer may route records differently the
second time (a rebalance, splits handed out in another order), and a consumer that
read the first version must not be mixed with one that reads the second.
"""

from __future__ import annotations

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


def regions_to_restart(
    regions: tuple[PipelinedRegion, ...],
    failed_region: int,
    lost_producers: set[int],
    full: bool,
) -> tuple[set[int], bool]:
    """``(regions whose outputs are discarded and that re-run in full, whether the
    failed region re-runs only its unfinished subtasks)``.

    Args:
        failed_region: where the failure happened.
        lost_producers: regions whose partition the failed region could not read.
        full: the ``full`` failover strategy.
    """
    if full:
        return {r.id for r in regions}, False
    if lost_producers:
        return downstream_closure(regions, lost_producers), False
    return set(), True
