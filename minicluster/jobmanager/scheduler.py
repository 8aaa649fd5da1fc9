"""Slot assignment: which TaskManager runs each parallel subtask.

Slot sharing (Flink's default): one slot holds one parallel slice of every vertex in
a slot sharing group, so a group needs as many slots as its widest vertex, and a job
needs the sum over its groups. Slots are handed out spread across TaskManagers
(slot k lives on TaskManager k mod count), so a job of parallelism 2 on two
TaskManagers uses both processes, i.e. both cores.
"""

from __future__ import annotations

from minicluster.errors import NotEnoughSlotsError
from minicluster.graph.job_graph import JobGraph

Assignment = dict[tuple[int, int], int]


def required_slots(job_graph: JobGraph) -> dict[str, int]:
    """Slots each slot sharing group needs (its widest vertex's parallelism)."""
    widths: dict[str, int] = {}
    for vertex in job_graph.vertices.values():
        group = vertex.slot_sharing_group
        widths[group] = max(widths.get(group, 0), vertex.parallelism)
    return widths


def assign_slots(job_graph: JobGraph, tm_count: int, slots_per_tm: int) -> Assignment:
    widths = required_slots(job_graph)
    needed = sum(widths.values())
    available = tm_count * slots_per_tm
    if needed > available:
        groups = ", ".join(f"{g!r}: {w}" for g, w in widths.items())
        raise NotEnoughSlotsError(
            f"job {job_graph.job_name!r} needs {needed} slots (per slot sharing group: "
            f"{groups}) but the cluster has {available} ({tm_count} TaskManagers x "
            f"{slots_per_tm} slots); lower the parallelism or raise "
            "taskmanager.numberOfTaskSlots / taskmanager.count"
        )
    offsets, offset = {}, 0
    for group, width in widths.items():
        offsets[group] = offset
        offset += width
    assignment: Assignment = {}
    for vertex in job_graph.vertices.values():
        base = offsets[vertex.slot_sharing_group]
        for subtask in range(vertex.parallelism):
            assignment[(vertex.id, subtask)] = (base + subtask) % tm_count
    return assignment
