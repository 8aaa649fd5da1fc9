"""A TaskManager's share of the data plane: one ZeroMQ inbox, links to every peer.

    TaskManager A                                   TaskManager B
    OutputChannel --PUSH ipc://<run>/tm-B.data--> PULL inbox --> InputChannel
    OutputChannel <--PULL inbox <--PUSH ipc://<run>/tm-A.data-- (CREDIT)

Every TaskManager binds one PULL socket (its inbox) in the cluster's private 0700
runtime folder, which is what authenticates the data plane, and connects one PUSH
socket to each peer's inbox. A message is one frame, a fixed header (job, channel,
kind: DATA, EVENT or CREDIT) followed by the payload: one frame, so that a send
interrupted by a cancel can never leave half a message on a link that outlives the
job. Channels whose two ends live in
the same TaskManager skip ZeroMQ and pickling entirely.

Credit bounds what is in flight, so the sockets' high-water marks are lifted: a send
never blocks the TaskManager's loop.
"""

from __future__ import annotations

import os

import zmq

from minicluster.network import codec
from minicluster.network.channels import InputChannel, OutputChannel


def inbox_path(runtime_dir: str, tm_index: int) -> str:
    return os.path.join(runtime_dir, f"tm-{tm_index}.data")


class DataPlane:
    """Owns the inbox and peer sockets and routes messages to channels by id."""

    def __init__(
        self, context: zmq.Context, runtime_dir: str, tm_index: int, tm_count: int
    ) -> None:
        self.tm_index = tm_index
        self.inbox_path = inbox_path(runtime_dir, tm_index)
        self.inbox = context.socket(zmq.PULL)
        self.inbox.setsockopt(zmq.RCVHWM, 0)
        self.inbox.setsockopt(zmq.LINGER, 0)
        self.inbox.bind(f"ipc://{self.inbox_path}")
        self._peers: dict[int, zmq.Socket] = {}
        for peer in range(tm_count):
            if peer == tm_index:
                continue
            sock = context.socket(zmq.PUSH)
            sock.setsockopt(zmq.SNDHWM, 0)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RECONNECT_IVL, 2)
            sock.connect(f"ipc://{inbox_path(runtime_dir, peer)}")
            self._peers[peer] = sock
        self.job_seq = -1
        self._inputs: dict[int, InputChannel] = {}
        self._outputs: dict[int, OutputChannel] = {}

    def start_job(self, job_seq: int) -> None:
        """Forget the previous job's channels; messages of other jobs are dropped."""
        self.job_seq = job_seq
        self._inputs.clear()
        self._outputs.clear()

    def end_job(self, job_seq: int) -> None:
        if self.job_seq == job_seq:
            self.start_job(-1)

    def output_channel(
        self, channel_id: int, consumer_tm: int, initial_credit: int
    ) -> OutputChannel:
        """Create the producer's end of channel ``channel_id``."""
        if consumer_tm == self.tm_index:
            inputs = self._inputs

            def transport(kind: int, payload: object, _id: int = channel_id) -> None:
                inputs[_id].deliver(kind, payload)

        else:
            sock = self._peers[consumer_tm]
            header_data = codec.encode_header(self.job_seq, channel_id, codec.DATA)
            header_event = codec.encode_header(self.job_seq, channel_id, codec.EVENT)
            dumps = codec.encode_payload

            def transport(kind: int, payload: object) -> None:
                header = header_data if kind == codec.DATA else header_event
                sock.send(header + dumps(payload))

        channel = OutputChannel(channel_id, initial_credit, transport)
        self._outputs[channel_id] = channel
        return channel

    def input_channel(
        self, channel_id: int, input_index: int, producer_tm: int, initial_credit: int
    ) -> InputChannel:
        """Create the consumer's end of channel ``channel_id``."""
        if producer_tm == self.tm_index:
            outputs = self._outputs

            def return_credit(n: int, _id: int = channel_id) -> None:
                outputs[_id].add_credit(n)

        else:
            sock = self._peers[producer_tm]
            header = codec.encode_header(self.job_seq, channel_id, codec.CREDIT)

            def return_credit(n: int) -> None:
                sock.send(header + codec.encode_credit(n))

        channel = InputChannel(channel_id, input_index, return_credit, initial_credit)
        self._inputs[channel_id] = channel
        return channel

    def drain(self) -> int:
        """Receive every message waiting in the inbox without blocking."""
        received = 0
        recv = self.inbox.recv
        split = codec.split_message
        while True:
            try:
                frame = recv(zmq.NOBLOCK)
            except zmq.Again:
                return received
            received += 1
            job_seq, channel_id, kind, payload = split(frame)
            if job_seq != self.job_seq:
                continue  # a message of a job that was cancelled or has ended
            if kind == codec.CREDIT:
                self._outputs[channel_id].add_credit(codec.decode_credit(payload))
            else:
                self._inputs[channel_id].deliver(kind, codec.decode_payload(payload))

    def close(self) -> None:
        for sock in self._peers.values():
            sock.close(0)
        self.inbox.close(0)
        try:
            os.unlink(self.inbox_path)
        except FileNotFoundError:
            pass
