"""A producer subtask's writer for one outgoing edge: partition a batch, send per channel.

A batch on the wire is ``(values, timestamps)``: the records and, when the stream has
event time, a parallel list of their timestamps (else None).
"""

from __future__ import annotations

from minicluster.network.channels import OutputChannel
from minicluster.network.partitioners import StreamPartitioner


class RecordWriter:
    __slots__ = ("partitioner", "channels", "name")

    def __init__(
        self, partitioner: StreamPartitioner, channels: list[OutputChannel], name: str
    ) -> None:
        self.partitioner = partitioner
        self.channels = channels
        self.name = name

    def emit(self, values: list, timestamps: list | None = None) -> None:
        channels = self.channels
        for channel, records, stamps in self.partitioner.route(values, timestamps):
            channels[channel].send_batch((records, stamps))

    def broadcast_event(self, event: object) -> None:
        for channel in self.channels:
            channel.send_event(event)

    @property
    def is_blocked(self) -> bool:
        return any(channel.pending for channel in self.channels)
