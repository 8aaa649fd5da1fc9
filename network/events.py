"""Control events that travel in-band between batches on a channel.

An event is ordered with the data around it: a consumer sees every batch a producer
sent before the event, and none sent after it. Events take no credit, since they are
few and small; they wait behind any data still queued for credit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EndOfPartition:
    """The producer subtask has sent its last record on this channel."""

    def __repr__(self) -> str:
        return "EndOfPartition"


END_OF_PARTITION = EndOfPartition()
