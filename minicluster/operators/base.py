"""The runtime operator contract: a batch in, a batch out.

An operator's ``process_batch`` receives a list of records and returns the list of
records it produced (or None/empty); the chain passes that list on as a whole, so the
engine's work is per batch and only the user's function runs per record. A few
primitives (map, flat_map, filter, process, keyed reduce, sources, sinks) implement
this; every API method is built on one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minicluster._functions import RuntimeContext
from minicluster.network.channels import OutputChannel


@dataclass(slots=True)
class OperatorContext:
    """What the task gives an operator when it opens."""

    runtime_context: RuntimeContext
    subtask_index: int
    parallelism: int
    max_parallelism: int
    batch_size: int
    open_client_channel: Callable[[], OutputChannel]


class StreamOperator:
    """Base class of runtime operators; ``name`` is set by the task from the graph."""

    name = "operator"

    def open(self, ctx: OperatorContext) -> None:
        pass

    def process_batch(self, batch: list, input_index: int = 0) -> list | None:
        raise NotImplementedError

    def end_input(self) -> list | None:
        """All inputs are exhausted; return any final records."""
        return None

    def close(self) -> None:
        pass


def tag_operator(error: BaseException, operator_name: str) -> None:
    """Record on ``error`` which operator raised it (the innermost one wins)."""
    if getattr(error, "_minicluster_operator", None) is None:
        try:
            error._minicluster_operator = operator_name  # type: ignore[attr-defined]
        except AttributeError:
            pass
