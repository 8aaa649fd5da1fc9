"""The reader of a split source: splits come one at a time, on demand, from the
supervisor (Flink's ``SourceOperator`` with a ``SourceReader`` and a split enumerator).

    StreamTask                TaskManager                  supervisor (JobRun)
    next_batch() -> REQUEST_SPLIT
      --request_split--> RequestSplit(job, vertex, subtask) --> enumerator.next_split()
    (not runnable: waiting)   <-- AssignSplit(job, vertex, subtask, split | None)
    add_split(split) -> read the split's batches ... REQUEST_SPLIT again ...
    add_split(None)  -> no more splits: next_batch() returns None, the task finishes

A reader asks only when it has nothing left to read, so fast readers take more splits
than slow ones (work stealing, as Flink's static file source). The TaskManager loop
never waits for the answer: the task is simply not runnable until it arrives.

A split source is any object with ``create_enumerator(parallelism, config)`` (called
once per job in the client with the job's ``ExecutionConfig``, whose ``raw`` holds
every key as given; the enumerator's ``next_split(subtask_index)`` returns
the next split or None) and ``read_split(split, batch_size)`` (an iterable of source
items, see ``sources.py``). An unbounded source (``get_boundedness()`` is
CONTINUOUS_UNBOUNDED) needs an enumerator that also has ``discover()`` and
``next_discovery`` (a ``time.monotonic`` time): its None means "none yet", and the
supervisor answers the reader after a later discovery (``source_coordinator.py``).
Splits travel pickled by reference: they must be instances of importable classes.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator

from minicluster.common.execution_config import ExecutionConfig
from minicluster.network.events import MIN_WATERMARK
from minicluster.operators.base import OperatorContext
from minicluster.operators.sources import REQUEST_SPLIT, SourceItem, SourceOperator


def is_split_source(source: object) -> bool:
    return callable(getattr(source, "create_enumerator", None)) and callable(
        getattr(source, "read_split", None)
    )


class SplitSourceOperator(SourceOperator):
    """Reads the splits the enumerator assigns to this subtask, one after another."""

    def __init__(self, source: Any) -> None:
        if not is_split_source(source):
            raise TypeError(
                f"{type(source).__name__} is not a split source (it needs "
                "create_enumerator and read_split)"
            )
        self.source = source

    def create_split_enumerator(self, parallelism: int, config: ExecutionConfig) -> Any:
        """The job's enumerator, created in the client and kept in the supervisor."""
        return self.source.create_enumerator(parallelism, config)

    def open(self, ctx: OperatorContext) -> None:
        self._batch_size = ctx.batch_size
        self._batches: Iterator[SourceItem] = iter(())
        self._splits: deque = deque()
        self._waiting = False
        self._no_more_splits = False
        self._watermark = MIN_WATERMARK
        self._idle = False

    def is_available(self) -> bool:
        return not self._waiting

    def add_split(self, split: object) -> None:
        """The enumerator's answer: a split to read, or None (there are no more)."""
        self._waiting = False
        if split is None:
            self._no_more_splits = True
        else:
            self._splits.append(split)

    def next_batch(self) -> SourceItem | object | None:
        """The next item of the current split; ``REQUEST_SPLIT`` when this reader has
        no split left, None once the enumerator said there are no more."""
        while True:
            item = super().next_batch()
            if item is not None:
                return item
            if self._splits:
                self._batches = iter(
                    self.source.read_split(self._splits.popleft(), self._batch_size)
                )
            elif self._no_more_splits:
                return None
            else:
                self._waiting = True
                return REQUEST_SPLIT
