"""SourceCoordinator: the split enumerators of one job, kept by the supervisor (Flink's
``SourceCoordinator``, one per split source vertex).

    submit (client, before any process):  source.create_enumerator(parallelism, config)
        -> files listed and cut into splits; a missing path fails here
    JobRun:  RequestSplit(job, vertex, subtask) -> enumerator.next_split(subtask)
             -> AssignSplit(job, vertex, subtask, split | None) to that subtask's TM

    BATCH failover:  return_splits(re-run subtasks) -> enumerator.add_splits_back(...)
             (a subtask that did not finish lost what it read: its splits go back,
             handed out first to whoever asks next, a running sibling included)

    unbounded (get_boundedness() is CONTINUOUS_UNBOUNDED, e.g. FileSource
             .monitor_continuously; its enumerator has discover() and next_discovery):
             next_split() -> None means "none yet": the request waits here;
             JobRun waits for messages at most until next_deadline(), then calls
             discover_due() -> the enumerators due discover -> waiting requests
             are answered in arrival order while splits last

A split source is the head of its JobVertex (sources are never chained behind
anything), so the vertex id names the enumerator.
"""

from __future__ import annotations

import time
from typing import Any

from minicluster.common.boundedness import Boundedness, boundedness_of
from minicluster.common.execution_config import ExecutionConfig
from minicluster.graph.job_graph import JobGraph
from minicluster.graph.stream_graph import StreamGraph
from minicluster.slots import messages as msg


class SourceCoordinator:
    """Args:
        enumerators: per split source vertex, its enumerator.
        unbounded: the vertices whose source is unbounded (their enumerators discover).
        other_input_bytes: what the job's other sources read (``input_bytes()``).
    """

    def __init__(
        self,
        enumerators: dict[int, Any] | None = None,
        unbounded: frozenset[int] = frozenset(),
        other_input_bytes: int = 0,
    ) -> None:
        self.enumerators: dict[int, Any] = dict(enumerators or {})
        self.unbounded = unbounded
        self.other_input_bytes = other_input_bytes
        # (vertex, subtask) -> the splits it was given since its last (re)start
        self._assigned: dict[tuple[int, int], list] = {}
        # vertex -> requests of an unbounded source's readers that await a discovery
        self._waiting: dict[int, list[msg.RequestSplit]] = {}

    @classmethod
    def for_job(
        cls, stream_graph: StreamGraph, job_graph: JobGraph, config: ExecutionConfig
    ) -> SourceCoordinator:
        """Create the enumerator of every split source of the job (in the client), and
        note which sources are unbounded and how much the others read."""
        enumerators, unbounded, other_input_bytes = {}, set(), 0
        for node in stream_graph.nodes.values():
            if not node.is_source:
                continue
            source = node.operator.source
            create = getattr(node.operator, "create_split_enumerator", None)
            if create is None:
                other_input_bytes += _input_bytes(source)
                continue
            vertex = job_graph.vertices[job_graph.vertex_of_node[node.id]]
            enumerator = enumerators[vertex.id] = create(vertex.parallelism, config)
            if boundedness_of(source) is Boundedness.CONTINUOUS_UNBOUNDED:
                if not callable(getattr(enumerator, "discover", None)):
                    raise TypeError(
                        f"source {node.name!r} is unbounded, but its split enumerator "
                        f"{type(enumerator).__name__} has no discover() and next_discovery"
                    )
                unbounded.add(vertex.id)
        return cls(enumerators, frozenset(unbounded), other_input_bytes)

    def assign(self, request: msg.RequestSplit) -> msg.AssignSplit | None:
        """The answer to send the requesting subtask: its next split, or None in the
        AssignSplit when a bounded source has no more. None (no answer yet) when an
        unbounded source has nothing now: the request waits for a discovery."""
        enumerator = self.enumerators.get(request.vertex_id)
        if enumerator is None:
            raise RuntimeError(
                f"subtask {request.subtask_index} of vertex {request.vertex_id} asked for "
                "a split, but that vertex has no split enumerator"
            )
        split = enumerator.next_split(request.subtask_index)
        if split is None and request.vertex_id in self.unbounded:
            self._waiting.setdefault(request.vertex_id, []).append(request)
            return None
        return self._answer(request, split)

    def _answer(self, request: msg.RequestSplit, split: Any) -> msg.AssignSplit:
        if split is not None:
            key = (request.vertex_id, request.subtask_index)
            self._assigned.setdefault(key, []).append(split)
        return msg.AssignSplit(
            request.job_seq, request.vertex_id, request.subtask_index, split, request.attempt
        )

    def input_bytes(self) -> int:
        """The bytes the job's sources read (split sources: as listed at submission;
        others: their ``input_bytes()``, 0 when they do not say): the estimate that
        chooses where a BATCH job spills (``create_spill_directory``)."""
        return self.other_input_bytes + sum(map(_input_bytes, self.enumerators.values()))

    def next_deadline(self) -> float | None:
        """When the next discovery of an unbounded source is due (``time.monotonic``
        seconds), or None when no source discovers."""
        deadlines = [self.enumerators[v].next_discovery for v in self.unbounded]
        return min(deadlines, default=None)

    def discover_due(self) -> list[msg.AssignSplit]:
        """Run the discoveries that are due; the answers for waiting requests that
        now have a split, to be sent to their subtasks."""
        now = time.monotonic()
        answers = []
        for vertex_id in sorted(self.unbounded):
            enumerator = self.enumerators[vertex_id]
            if enumerator.next_discovery > now:
                continue
            enumerator.discover()
            waiting = self._waiting.get(vertex_id, [])
            while waiting:
                split = enumerator.next_split(waiting[0].subtask_index)
                if split is None:
                    break
                answers.append(self._answer(waiting.pop(0), split))
        return answers

    def take_back(self, answer: msg.AssignSplit) -> None:
        """An answer that cannot be delivered (its attempt ended meanwhile): its split
        goes back to the enumerator, to be read by whoever asks next."""
        if answer.split is None:
            return
        key = (answer.vertex_id, answer.subtask_index)
        assigned = self._assigned.get(key, [])
        if answer.split in assigned:
            assigned.remove(answer.split)
        self.enumerators[answer.vertex_id].add_splits_back([answer.split], answer.subtask_index)

    def return_splits(self, subtasks: set[tuple[int, int]]) -> None:
        """Give the splits of ``(vertex, subtask)`` pairs that will re-run (they did not
        finish: their output is discarded) back to their enumerators, to be read again."""
        for key in sorted(subtasks):
            splits = self._assigned.pop(key, None)
            enumerator = self.enumerators.get(key[0])
            if not splits or enumerator is None:
                continue
            add_back = getattr(enumerator, "add_splits_back", None)
            if add_back is None:
                raise RuntimeError(
                    f"subtask {key[1]} of vertex {key[0]} re-runs, but its split enumerator "
                    f"{enumerator!r} cannot take splits back (no add_splits_back)"
                )
            add_back(splits, key[1])

    def __repr__(self) -> str:
        return f"SourceCoordinator({self.enumerators!r})"


def _input_bytes(reader: Any) -> int:
    """What a source or an enumerator says it reads (``input_bytes()``), else 0."""
    size = getattr(reader, "input_bytes", None)
    return size() if callable(size) else 0
