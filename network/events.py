"""Control events that travel in-band between batches on a channel.

An event is ordered with the data around it: a consumer sees every batch a producer
sent before the event, and none sent after it. Events take no credit, since they are
few and small; they wait behind any data still queued for credit.

    Watermark(t)         no record with timestamp <= t follows on this channel
    WatermarkStatus      the channel goes idle (excluded from the min) or active again
    EndOfPartition       the producer sent its last record on this channel
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_WATERMARK = (1 << 63) - 1
MIN_WATERMARK = -(1 << 63)


@dataclass(frozen=True, slots=True)
class EndOfPartition:
    """The producer subtask has sent its last record on this channel."""

    def __repr__(self) -> str:
        return "EndOfPartition"


@dataclass(frozen=True, slots=True)
class Watermark:
    """Event time has reached ``timestamp`` (milliseconds) on this channel."""

    timestamp: int


@dataclass(frozen=True, slots=True)
class WatermarkStatus:
    """An idle channel does not hold back the consumer's watermark."""

    idle: bool


END_OF_PARTITION = EndOfPartition()
IDLE = WatermarkStatus(True)
ACTIVE = WatermarkStatus(False)
