"""``NumberSequenceSource``: the numbers ``start..end`` (both inclusive), in parallel.

Each parallel reader gets one contiguous, ascending share of the range, so the same
numbers come out whatever the parallelism.
"""

from __future__ import annotations

from typing import Iterator


class NumberSequenceSource:
    def __init__(self, start: int, end: int) -> None:
        if not isinstance(start, int) or not isinstance(end, int):
            raise TypeError(f"NumberSequenceSource takes ints, got {start!r}, {end!r}")
        if end < start:
            raise ValueError(f"NumberSequenceSource: end {end} is before start {start}")
        self.start = start
        self.end = end

    def input_bytes(self) -> int:
        """About what the numbers take pickled (where a BATCH job spills is chosen by
        it): 9 bytes each, a 64-bit int's pickle."""
        return 9 * max(0, self.end - self.start + 1)

    def create_batches(
        self, subtask_index: int, parallelism: int, batch_size: int
    ) -> Iterator[list[int]]:
        count = self.end - self.start + 1
        first = self.start + count * subtask_index // parallelism
        stop = self.start + count * (subtask_index + 1) // parallelism
        for low in range(first, stop, batch_size):
            yield list(range(low, min(low + batch_size, stop)))

    def __repr__(self) -> str:
        return f"NumberSequenceSource({self.start}, {self.end})"


__all__ = ["NumberSequenceSource"]
