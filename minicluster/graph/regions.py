"""JobGraph -> pipelined regions: the units that BATCH mode schedules one after another.

    JobVertex --pipelined edge-- JobVertex      same region (must run together)
    JobVertex ==blocking edge==> JobVertex      region boundary (the consumer region
                                                starts once the producer's finished)

A pipelined region is a connected component of JobVertices over the edges that are
not blocking (Flink's ``PipelinedRegion``). In BATCH mode every JobEdge is blocking
(chained edges are inside a JobVertex), so with the default chaining a region is one
JobVertex; in STREAMING mode no edge is blocking and every connected part of the job
is one region. This pass is pure: it reads the JobGraph and returns the regions in
topological order, each with the regions it consumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minicluster.graph.job_graph import JobEdge, JobGraph


def all_blocking(edge: JobEdge) -> bool:
    """BATCH mode: every edge between JobVertices is blocking."""
    return True


@dataclass(frozen=True, slots=True)
class PipelinedRegion:
    """Attributes:
    id: the region's position in topological order (0 first).
    vertices: its JobVertex ids, in the JobGraph's (topological) order.
    inputs: ids of the regions whose blocking results it reads.
    """

    id: int
    vertices: tuple[int, ...]
    inputs: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.vertices:
            raise ValueError(f"region {self.id} has no vertices")
        if any(i >= self.id for i in self.inputs):
            raise ValueError(
                f"region {self.id} consumes regions {self.inputs}: inputs must come "
                "earlier in topological order"
            )

    def __repr__(self) -> str:
        inputs = f" <- {list(self.inputs)}" if self.inputs else ""
        return f"Region({self.id}: vertices {list(self.vertices)}{inputs})"


def pipelined_regions(
    job_graph: JobGraph, blocking: Callable[[JobEdge], bool] = all_blocking
) -> tuple[PipelinedRegion, ...]:
    """Split ``job_graph`` at its blocking edges; regions in topological order."""
    order = list(job_graph.vertices)  # the chain pass adds vertices in topological order
    parent = {v: v for v in order}

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for edge in job_graph.edges:
        if not blocking(edge):
            a, b = find(edge.source_vertex), find(edge.target_vertex)
            if a != b:
                parent[max(a, b, key=order.index)] = min(a, b, key=order.index)
    members: dict[int, list[int]] = {}
    for vertex in order:
        members.setdefault(find(vertex), []).append(vertex)
    consumes: dict[int, set[int]] = {root: set() for root in members}
    for edge in job_graph.edges:
        source, target = find(edge.source_vertex), find(edge.target_vertex)
        if source != target:
            consumes[target].add(source)
    # Kahn's algorithm over the region DAG, ties broken by the vertices' order.
    position = {v: i for i, v in enumerate(order)}
    pending = sorted(members, key=position.__getitem__)
    region_id: dict[int, int] = {}
    regions: list[PipelinedRegion] = []
    while pending:
        for root in pending:
            if consumes[root] <= region_id.keys():
                break
        else:
            raise ValueError(f"job {job_graph.job_name!r}: its regions form a cycle")
        pending.remove(root)
        region_id[root] = len(regions)
        regions.append(
            PipelinedRegion(
                len(regions),
                tuple(members[root]),
                tuple(sorted(region_id[r] for r in consumes[root])),
            )
        )
    return tuple(regions)
