"""The runtime operator contract: batches in, batches pushed to an ``Output``.

A batch is a list of values plus, when the stream has event time, a parallel list of
their timestamps (None otherwise). An operator's ``process_batch`` runs the user's
function over the whole list and pushes what it produced to ``self.output`` (Flink's
``Output``): ``collect`` for the main stream, ``collect_side`` for a side output,
``emit_watermark`` to move event time on. The chain wires each operator's output to
its chained successors and network writers, so the engine's work is per batch and
only the user's function runs per record. A few primitives (map, flat_map, filter,
process, keyed reduce, sources, sinks, timestamps/watermarks) implement this; every
API method is built on one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from minicluster._functions.runtime_context import RuntimeContext
from minicluster.common.execution_config import ExecutionConfig
from minicluster.network.channels import OutputChannel


class Output(Protocol):
    def collect(self, values: list, timestamps: list | None) -> None: ...

    def collect_side(self, tag_id: str, values: list, timestamps: list | None) -> None: ...

    def emit_watermark(self, watermark: int) -> None: ...

    def emit_watermark_status(self, idle: bool) -> None: ...


class ProcessingTimeService:
    """Processing-time callbacks of one task, fired by the TaskManager loop.

    The loop sleeps in ``poll`` at most until ``next_deadline()``; ``clock`` is
    injectable so that time logic can be tested without sleeping.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        import heapq

        self._heap: list[tuple[int, int, Callable[[int], None]]] = []
        self._push = heapq.heappush
        self._pop = heapq.heappop
        self._clock = clock
        self._sequence = 0

    def current_processing_time(self) -> int:
        """Milliseconds since the epoch."""
        return int(self._clock() * 1000)

    def register(self, timestamp_ms: int, callback: Callable[[int], None]) -> None:
        self._sequence += 1
        self._push(self._heap, (timestamp_ms, self._sequence, callback))

    def next_deadline(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def fire_due(self) -> bool:
        """Run every callback whose time has come; True if any ran."""
        heap = self._heap
        now = self.current_processing_time()
        fired = False
        while heap and heap[0][0] <= now:
            timestamp, _, callback = self._pop(heap)
            callback(timestamp)
            fired = True
        return fired


@dataclass(slots=True)
class OperatorContext:
    """What the task gives an operator when it opens; ``config`` is the job's
    parsed configuration (``config.raw``: every key as the user gave it)."""

    runtime_context: RuntimeContext
    subtask_index: int
    parallelism: int
    max_parallelism: int
    batch_size: int
    config: ExecutionConfig
    processing_time: ProcessingTimeService
    open_client_channel: Callable[[], OutputChannel]


class StreamOperator:
    """Base class of runtime operators; ``name`` and ``output`` are set by the task."""

    name = "operator"
    output: Output

    def open(self, ctx: OperatorContext) -> None:
        pass

    def process_batch(
        self, values: list, timestamps: list | None, input_index: int = 0
    ) -> None:
        raise NotImplementedError

    def process_watermark(self, watermark: int) -> None:
        """Event time advanced to ``watermark``: fire what is due, then pass it on."""
        self.output.emit_watermark(watermark)

    def process_watermark_status(self, idle: bool) -> None:
        """The input became idle (or active again); by default pass it on. An operator
        that holds records back (the window pre-aggregation) emits them first."""
        self.output.emit_watermark_status(idle)

    def end_input(self) -> None:
        """All inputs are exhausted (after the final watermark); emit final records."""

    def close(self) -> None:
        pass


def tag_operator(error: BaseException, operator_name: str) -> None:
    """Record on ``error`` which operator raised it (the innermost one wins)."""
    if getattr(error, "_minicluster_operator", None) is None:
        try:
            error._minicluster_operator = operator_name  # type: ignore[attr-defined]
        except AttributeError:
            pass
