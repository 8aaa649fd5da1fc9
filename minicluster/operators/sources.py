"""The source operator: pulls batches from a bounded source's reader.

A source object (``NumberSequenceSource``, the collection and text-file sources) only
needs ``create_batches(subtask_index, parallelism, batch_size)``, an iterator; the task
asks it for one item per turn, so a source never runs ahead of its credit. An item is
either a list of values (no event timestamps) or one of the markers below, for a source
that carries event time itself (``minicluster.testing.TestStream``):

    SourceBatch(values, timestamps)   values with their event timestamps
    SourceWatermark(timestamp)        event time reached ``timestamp`` (non-decreasing:
                                      one that does not advance is dropped)
    SourceWatermarkStatus(idle)       the subtask goes idle / active again

A reader that knows where its batches come from (``LineBatches``: ``locate(batch)``)
lets a failure downstream name the file and line of the failing record.

As Flink's ``SourceOutputWithWatermarks`` does, an idle subtask becomes active again
by itself before it emits a record or a watermark, so consumers never ignore them.
When the source is exhausted the task hands the chain ``MAX_WATERMARK``; a source that
already reached it does not emit it twice.

A source may declare ``max_parallelism`` (1: non-parallel, as ``TestStream`` does); the
environment then never runs it on more subtasks.

Split sources (``FileSource``, ``operators/split_source.py``) do not know their share
up front: when a reader has no split, ``next_batch`` returns ``REQUEST_SPLIT``, the
task asks the supervisor's split enumerator for one, and the source is not available
(the task is not runnable) until ``add_split`` delivers the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol, Union

from minicluster.network.events import MIN_WATERMARK
from minicluster.operators.base import OperatorContext, StreamOperator
from minicluster.operators.provenance import attach_origin


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """Values and their event timestamps (parallel lists of the same length)."""

    values: list
    timestamps: list[int]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.timestamps):
            raise ValueError(
                f"SourceBatch has {len(self.values)} values but {len(self.timestamps)} "
                "timestamps; give one timestamp per value"
            )


@dataclass(frozen=True, slots=True)
class SourceWatermark:
    """The source's event time reached ``timestamp`` (milliseconds)."""

    timestamp: int

    def __post_init__(self) -> None:
        if not isinstance(self.timestamp, int) or isinstance(self.timestamp, bool):
            raise TypeError(f"a watermark is an int (milliseconds), got {self.timestamp!r}")


@dataclass(frozen=True, slots=True)
class SourceWatermarkStatus:
    """The source subtask goes idle (``idle=True``) or active again."""

    idle: bool


SourceItem = Union[list, SourceBatch, SourceWatermark, SourceWatermarkStatus]


class _SplitRequest:
    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUEST_SPLIT"


#: ``next_batch`` of a reader without a split: ask the split enumerator for one.
REQUEST_SPLIT = _SplitRequest()


class BoundedSource(Protocol):
    def create_batches(
        self, subtask_index: int, parallelism: int, batch_size: int
    ) -> Iterable[SourceItem]: ...


class SourceOperator(StreamOperator):
    def __init__(self, source: BoundedSource) -> None:
        if not callable(getattr(source, "create_batches", None)):
            raise TypeError(f"{type(source).__name__} is not a source minicluster can read")
        self.source = source

    def open(self, ctx: OperatorContext) -> None:
        self._batches: Iterator[SourceItem] = iter(
            self.source.create_batches(ctx.subtask_index, ctx.parallelism, ctx.batch_size)
        )
        self._watermark = MIN_WATERMARK
        self._idle = False

    def is_available(self) -> bool:
        """False while the reader waits for a split (its task is then not runnable)."""
        return True

    def add_split(self, split: object) -> None:
        raise TypeError(
            f"{type(self.source).__name__} reads a fixed share per subtask and takes no splits"
        )

    def next_batch(self) -> SourceItem | None:
        """The next non-empty batch or marker, or None at the end of this subtask's share."""
        for batch in self._batches:
            if type(batch) is SourceBatch:
                if batch.values:
                    return batch
            elif type(batch) in (SourceWatermark, SourceWatermarkStatus) or batch:
                return batch
        return None

    def process_batch(self, values, timestamps: list | None, input_index: int = 0) -> None:
        """Emit one item of ``next_batch`` (the task pushes it here as the batch)."""
        kind = type(values)
        if kind is SourceWatermark:
            self.process_watermark(values.timestamp)
        elif kind is SourceWatermarkStatus:
            if values.idle:
                if not self._idle:
                    self._idle = True
                    self.output.emit_watermark_status(True)
            else:
                self._activate()
        else:
            if self._idle:
                self._activate()
            if kind is SourceBatch:
                values, timestamps = values.values, values.timestamps
            try:
                self.output.collect(values, timestamps)
            except BaseException as error:
                # A record of this batch failed downstream: name its file and line if
                # the reader knows them (``operators/provenance.py``).
                locate = getattr(self._batches, "locate", None)
                origin = locate(values) if locate is not None else None
                if origin is not None:
                    attach_origin(error, values, origin)
                raise

    def process_watermark(self, watermark: int) -> None:
        if watermark > self._watermark:
            self._watermark = watermark
            self._activate()
            self.output.emit_watermark(watermark)

    def _activate(self) -> None:
        if self._idle:
            self._idle = False
            self.output.emit_watermark_status(False)
