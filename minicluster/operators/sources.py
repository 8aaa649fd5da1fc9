"""The source operator: pulls batches from a bounded source's reader.

A source object (``NumberSequenceSource``, the collection and text-file sources) only
needs ``create_batches(subtask_index, parallelism, batch_size)``, an iterator of lists;
the task asks it for one batch per turn, so a source never runs ahead of its credit.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Protocol

from minicluster.operators.base import OperatorContext, StreamOperator


class BoundedSource(Protocol):
    def create_batches(
        self, subtask_index: int, parallelism: int, batch_size: int
    ) -> Iterable[list]: ...


class SourceOperator(StreamOperator):
    def __init__(self, source: BoundedSource) -> None:
        if not callable(getattr(source, "create_batches", None)):
            raise TypeError(f"{type(source).__name__} is not a source minicluster can read")
        self.source = source

    def open(self, ctx: OperatorContext) -> None:
        self._batches: Iterator[list] = iter(
            self.source.create_batches(ctx.subtask_index, ctx.parallelism, ctx.batch_size)
        )

    def next_batch(self) -> list | None:
        """The next non-empty batch, or None at the end of this subtask's share."""
        for batch in self._batches:
            if batch:
                return batch
        return None

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        self.output.collect(values, timestamps)
