"""StreamGraph -> JobGraph: a list of named pure passes.

    resolve_parallelism  every node gets a concrete parallelism (default, limits; a
                         node inserted behind one input takes that input's)
    resolve_partitioners every edge gets a partitioner (FORWARD when the parallelism
                         matches, REBALANCE otherwise; explicit FORWARD must match)
    resolve_slot_sharing every node gets a slot sharing group (inherited from inputs)
    chain                nodes joined by chainable edges fuse into one JobVertex

A chain is a tree: a node may fan out to several chained successors (each gets the
same output batch) as well as to network edges. Each pass's result has a readable
``repr``, so a failing compile can be inspected step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minicluster.errors import InvalidProgramError
from minicluster.graph.stream_graph import StreamGraph, StreamNode
from minicluster.network.partitioners import (
    ForwardPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    StreamPartitioner,
)

DEFAULT_SLOT_SHARING_GROUP = "default"


@dataclass(frozen=True, slots=True)
class ResolvedEdge:
    source_id: int
    target_id: int
    partitioner: StreamPartitioner
    input_index: int
    side_tag: str | None = None

    def __repr__(self) -> str:
        side = f"[{self.side_tag}]" if self.side_tag else ""
        return f"{self.source_id}{side} -{self.partitioner}-> {self.target_id}"


@dataclass(frozen=True, slots=True)
class ChainedNode:
    """A node inside a JobVertex with the chained nodes it feeds: ``(node id, side
    output tag or None)`` per chained successor."""

    node_id: int
    name: str
    chained_children: tuple[tuple[int, str | None], ...]


@dataclass(frozen=True, slots=True)
class JobVertex:
    id: int
    name: str
    chain: tuple[ChainedNode, ...]  # topological; chain[0] is the head
    parallelism: int
    max_parallelism: int
    slot_sharing_group: str
    is_source: bool

    def __post_init__(self) -> None:
        if self.parallelism < 1:
            raise ValueError(f"vertex {self.name!r}: parallelism must be >= 1")

    @property
    def head(self) -> ChainedNode:
        return self.chain[0]

    def __repr__(self) -> str:
        return f"JobVertex({self.id}, {self.name!r}, p={self.parallelism})"


@dataclass(frozen=True, slots=True)
class JobEdge:
    id: int
    source_vertex: int
    target_vertex: int
    source_node: int
    target_node: int
    partitioner: StreamPartitioner
    input_index: int
    side_tag: str | None = None

    def __repr__(self) -> str:
        return f"JobEdge({self.source_vertex} -{self.partitioner}-> {self.target_vertex})"


@dataclass(frozen=True, slots=True)
class JobGraph:
    job_name: str
    vertices: dict[int, JobVertex]
    edges: tuple[JobEdge, ...]
    vertex_of_node: dict[int, int]

    def in_edges(self, vertex_id: int) -> list[JobEdge]:
        return [e for e in self.edges if e.target_vertex == vertex_id]

    def out_edges(self, vertex_id: int) -> list[JobEdge]:
        return [e for e in self.edges if e.source_vertex == vertex_id]


# -- passes -------------------------------------------------------------------------


def resolve_parallelism(graph: StreamGraph) -> dict[int, int]:
    resolved = {}
    for node in graph.topological_order():
        if node.same_parallelism_as_input:
            inputs = {e.source_id for e in graph.in_edges(node.id)}
            if len(inputs) != 1:
                raise InvalidProgramError(
                    f"operator {node.name!r} takes its input's parallelism, so it needs "
                    f"exactly one input node; it has {len(inputs)}"
                )
            resolved[node.id] = resolved[inputs.pop()]
            continue
        parallelism = node.parallelism or graph.default_parallelism
        if node.max_allowed_parallelism is not None:
            if node.parallelism and node.parallelism > node.max_allowed_parallelism:
                raise InvalidProgramError(
                    f"operator {node.name!r} is non-parallel (at most "
                    f"{node.max_allowed_parallelism}) but set_parallelism({node.parallelism}) "
                    "was called on it"
                )
            parallelism = min(parallelism, node.max_allowed_parallelism)
        max_parallelism = node.max_parallelism or graph.max_parallelism
        if parallelism > max_parallelism:
            raise InvalidProgramError(
                f"operator {node.name!r}: parallelism {parallelism} exceeds max "
                f"parallelism {max_parallelism}"
            )
        resolved[node.id] = parallelism
    return resolved


def resolve_partitioners(
    graph: StreamGraph, parallelism: dict[int, int]
) -> list[ResolvedEdge]:
    resolved = []
    for edge in graph.edges:
        up, down = parallelism[edge.source_id], parallelism[edge.target_id]
        partitioner = edge.partitioner
        if partitioner is None:
            partitioner = ForwardPartitioner() if up == down else RebalancePartitioner()
        elif isinstance(partitioner, ForwardPartitioner) and up != down:
            raise InvalidProgramError(
                f"forward partitioning does not allow a change of parallelism: "
                f"{graph.nodes[edge.source_id].name!r} has {up}, "
                f"{graph.nodes[edge.target_id].name!r} has {down}; use rebalance() or "
                "rescale() instead"
            )
        elif isinstance(partitioner, KeyGroupStreamPartitioner):
            # Route by the key groups of the operator that keeps the keyed state.
            target = graph.nodes[edge.target_id]
            partitioner = partitioner.with_max_parallelism(
                target.max_parallelism or graph.max_parallelism
            )
        resolved.append(
            ResolvedEdge(
                edge.source_id, edge.target_id, partitioner, edge.input_index, edge.side_tag
            )
        )
    return resolved


def resolve_slot_sharing(graph: StreamGraph) -> dict[int, str]:
    groups: dict[int, str] = {}
    for node in graph.topological_order():
        if node.slot_sharing_group:
            groups[node.id] = node.slot_sharing_group
            continue
        inherited = {groups[e.source_id] for e in graph.in_edges(node.id)}
        groups[node.id] = inherited.pop() if len(inherited) == 1 else DEFAULT_SLOT_SHARING_GROUP
    return groups


def is_chainable(
    edge: ResolvedEdge,
    graph: StreamGraph,
    edges: list[ResolvedEdge],
    parallelism: dict[int, int],
    groups: dict[int, str],
) -> bool:
    """Flink's rule: a single-input downstream node joined by FORWARD at equal
    parallelism, in the same slot sharing group, with chaining allowed on both sides."""
    up, down = graph.nodes[edge.source_id], graph.nodes[edge.target_id]
    return (
        isinstance(edge.partitioner, ForwardPartitioner)
        and sum(1 for e in edges if e.target_id == down.id) == 1
        and parallelism[up.id] == parallelism[down.id]
        and groups[up.id] == groups[down.id]
        and up.chaining.accepts_chained_outputs
        and down.chaining.chains_to_input
        and not down.is_source
    )


def chain(
    graph: StreamGraph,
    parallelism: dict[int, int],
    edges: list[ResolvedEdge],
    groups: dict[int, str],
) -> JobGraph:
    chained = [e for e in edges if is_chainable(e, graph, edges, parallelism, groups)]
    chained_parent = {e.target_id: e.source_id for e in chained}
    head_of: dict[int, int] = {}
    members: dict[int, list[StreamNode]] = {}
    for node in graph.topological_order():
        head = head_of[chained_parent[node.id]] if node.id in chained_parent else node.id
        head_of[node.id] = head
        members.setdefault(head, []).append(node)

    vertices = {}
    for head, nodes in members.items():
        head_node = nodes[0]
        chain_nodes = tuple(
            ChainedNode(
                n.id,
                n.name,
                tuple((e.target_id, e.side_tag) for e in chained if e.source_id == n.id),
            )
            for n in nodes
        )
        vertices[head] = JobVertex(
            id=head,
            name=" -> ".join(n.name for n in nodes),
            chain=chain_nodes,
            parallelism=parallelism[head],
            max_parallelism=head_node.max_parallelism or graph.max_parallelism,
            slot_sharing_group=groups[head],
            is_source=head_node.is_source,
        )
    network_edges = tuple(
        JobEdge(
            id=i,
            source_vertex=head_of[e.source_id],
            target_vertex=head_of[e.target_id],
            source_node=e.source_id,
            target_node=e.target_id,
            partitioner=e.partitioner,
            input_index=e.input_index,
            side_tag=e.side_tag,
        )
        for i, e in enumerate(e for e in edges if e not in chained)
    )
    return JobGraph(graph.job_name, vertices, network_edges, head_of)


Pass = Callable[..., object]


def compile_job_graph(graph: StreamGraph) -> JobGraph:
    """Run the passes in order."""
    if not graph.nodes:
        raise InvalidProgramError(
            "no operators defined in the job; add a source and a sink before execute()"
        )
    parallelism = resolve_parallelism(graph)
    edges = resolve_partitioners(graph, parallelism)
    groups = resolve_slot_sharing(graph)
    return chain(graph, parallelism, edges, groups)
