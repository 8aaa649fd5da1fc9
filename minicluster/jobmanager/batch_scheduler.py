"""Stage-by-stage slot assignment for BATCH jobs (pure: no processes here).

    regions (topological) --> ready region --> waves of at most `total slots` subtask
                                               slices --> one Stage per wave

A region is ready when every region it consumes has finished. One slot holds one
parallel slice of the region (slot sharing): subtask ``i`` of every vertex in the
region. A region wider than the cluster's slots runs in waves of ``total_slots``
slices, one wave after the other, each wave's slots freed for the next; this is legal
because a region's subtasks never talk to each other across slices in BATCH mode
(all its internal edges are chained, so a slice is self-contained). Within a wave,
slot ``k`` lives on TaskManager ``k mod count``, as in ``scheduler.assign_slots``.
"""

from __future__ import annotations

from minicluster.graph.job_graph import JobGraph
from minicluster.graph.regions import PipelinedRegion
from minicluster.jobmanager.scheduler import Assignment


def region_waves(
    job_graph: JobGraph, region: PipelinedRegion, tm_count: int, slots_per_tm: int
) -> list[Assignment]:
    """The waves of ``region``: per wave, ``(vertex, subtask) -> TaskManager``."""
    total_slots = tm_count * slots_per_tm
    if total_slots < 1:
        raise ValueError(f"a cluster without slots ({tm_count} x {slots_per_tm}) runs nothing")
    width = max(job_graph.vertices[v].parallelism for v in region.vertices)
    waves = []
    for start in range(0, width, total_slots):
        wave: Assignment = {}
        for vertex_id in region.vertices:
            parallelism = job_graph.vertices[vertex_id].parallelism
            for subtask in range(start, min(start + total_slots, parallelism)):
                wave[(vertex_id, subtask)] = (subtask - start) % tm_count
        if wave:
            waves.append(wave)
    return waves


def ready_regions(
    regions: tuple[PipelinedRegion, ...], finished: set[int], running: set[int]
) -> list[PipelinedRegion]:
    """Regions not yet started whose every input region has finished."""
    return [
        r for r in regions
        if r.id not in finished and r.id not in running and set(r.inputs) <= finished
    ]
