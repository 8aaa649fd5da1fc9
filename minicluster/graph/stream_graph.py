"""The StreamGraph: one node per operator the user wrote, one edge per connection.

The DataStream API appends nodes and edges as the user's program runs. Edges may
leave their partitioner open (``None``) because an operator's parallelism can still
change after the edge exists (``ds.map(f).set_parallelism(4)``); the compile passes
in ``job_graph`` decide it then.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from minicluster.network.partitioners import StreamPartitioner


class ChainingStrategy(enum.Enum):
    """Whether a node may be fused with its neighbours (Flink's names)."""

    ALWAYS = "ALWAYS"  # chain to the input and let outputs chain to it
    HEAD = "HEAD"  # start_new_chain(): begin a chain, let outputs chain to it
    NEVER = "NEVER"  # disable_chaining(): neither

    @property
    def chains_to_input(self) -> bool:
        return self is ChainingStrategy.ALWAYS

    @property
    def accepts_chained_outputs(self) -> bool:
        return self is not ChainingStrategy.NEVER

    def __str__(self) -> str:
        return self.value


@dataclass(eq=False, slots=True)
class StreamNode:
    """One operator of the user's program.

    ``operator`` is the runtime operator template (user functions inside); it is
    shipped to TaskManagers pickled and unpickled once per subtask, so every subtask
    owns its own copy of the user's function objects.
    """

    id: int
    name: str
    operator: object
    parallelism: int | None = None
    max_parallelism: int | None = None
    slot_sharing_group: str | None = None
    chaining: ChainingStrategy = ChainingStrategy.ALWAYS
    uid: str | None = None
    is_source: bool = False
    is_sink: bool = False
    max_allowed_parallelism: int | None = None  # e.g. 1 for from_collection
    # an operator the engine inserted behind one input (the window pre-aggregation):
    # it runs at that input's parallelism, whatever the input's setting turns out to be
    same_parallelism_as_input: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a stream node needs a name")


@dataclass(frozen=True, slots=True)
class StreamEdge:
    """A connection; ``side_tag`` names the side output it carries (None: main output)."""

    source_id: int
    target_id: int
    partitioner: StreamPartitioner | None
    input_index: int = 0
    side_tag: str | None = None

    def __post_init__(self) -> None:
        if self.source_id >= self.target_id:
            raise ValueError("edges point from an earlier node to a later one")


@dataclass(slots=True)
class StreamGraph:
    job_name: str
    default_parallelism: int
    max_parallelism: int
    nodes: dict[int, StreamNode] = field(default_factory=dict)
    edges: list[StreamEdge] = field(default_factory=list)

    def add_node(self, node: StreamNode) -> StreamNode:
        self.nodes[node.id] = node
        return node

    def add_edge(self, edge: StreamEdge) -> None:
        if edge.source_id not in self.nodes or edge.target_id not in self.nodes:
            raise ValueError(f"edge {edge} refers to an unknown node")
        self.edges.append(edge)

    def in_edges(self, node_id: int) -> list[StreamEdge]:
        return [e for e in self.edges if e.target_id == node_id]

    def out_edges(self, node_id: int) -> list[StreamEdge]:
        return [e for e in self.edges if e.source_id == node_id]

    def topological_order(self) -> list[StreamNode]:
        """Nodes are created after their inputs, so id order is topological."""
        return [self.nodes[i] for i in sorted(self.nodes)]
