"""Channels with credit-based flow control: how backpressure bounds memory.

    producer subtask                                consumer subtask
    OutputChannel.pending --(DATA, takes 1 credit)--> InputChannel.queue
          ^                                                 |
          +---------------(CREDIT n, when consumed)---------+

A consumer starts by granting ``initial_credit`` batches to each producer. A producer
sends a batch only while it holds credit; otherwise the batch waits in ``pending`` and
the producing task is not scheduled again until the channel drains (the TaskManager
loop never blocks on a send). So at most ``initial_credit`` batches are in flight or
queued per channel, whatever the speeds of the two ends. The consumer hands credit
back in groups of half the initial credit: fewer messages, and no deadlock, since a
producer that ran out has sent the consumer at least that many batches to return.

The transport is a callable: a local channel (both subtasks in one TaskManager) hands
the batch object over directly; a remote one pickles it into the peer's ZeroMQ inbox.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from minicluster.network.codec import DATA, EVENT

Transport = Callable[[int, object], None]


class OutputChannel:
    """The producer's end of one channel."""

    __slots__ = ("channel_id", "credit", "pending", "_transport")

    def __init__(self, channel_id: int, initial_credit: int, transport: Transport) -> None:
        self.channel_id = channel_id
        self.credit = initial_credit
        self.pending: deque[tuple[int, object]] = deque()
        self._transport = transport

    @property
    def is_blocked(self) -> bool:
        """True while anything waits for credit: the producing task must pause."""
        return bool(self.pending)

    def send_batch(self, batch: list) -> None:
        if self.credit > 0 and not self.pending:
            self.credit -= 1
            self._transport(DATA, batch)
        else:
            self.pending.append((DATA, batch))

    def send_event(self, event: object) -> None:
        if self.pending:
            self.pending.append((EVENT, event))
        else:
            self._transport(EVENT, event)

    def add_credit(self, n: int) -> None:
        self.credit += n
        self.flush()

    def flush(self) -> None:
        pending = self.pending
        while pending:
            kind, payload = pending[0]
            if kind == DATA:
                if self.credit <= 0:
                    return
                self.credit -= 1
            pending.popleft()
            self._transport(kind, payload)


class InputChannel:
    """The consumer's end of one channel: a queue bounded by the credit it granted."""

    __slots__ = (
        "channel_id", "input_index", "queue", "finished", "_return_credit", "_credit_batch",
        "_unreturned",
    )

    def __init__(
        self,
        channel_id: int,
        input_index: int,
        return_credit: Callable[[int], None],
        initial_credit: int = 1,
    ) -> None:
        if initial_credit < 1:
            raise ValueError("initial_credit must be >= 1")
        self.channel_id = channel_id
        self.input_index = input_index
        self.queue: deque[tuple[int, object]] = deque()
        self.finished = False
        self._return_credit = return_credit
        self._credit_batch = max(1, initial_credit // 2)
        self._unreturned = 0

    def deliver(self, kind: int, payload: object) -> None:
        self.queue.append((kind, payload))

    def take(self) -> tuple[int, object]:
        """Pop the oldest item. Data batches free their credit here; credit goes back
        to the producer in groups of ``credit_batch`` (half the initial credit), which
        halves the credit messages yet leaves the producer credit to keep sending."""
        kind, payload = self.queue.popleft()
        if kind == DATA:
            self._unreturned += 1
            if self._unreturned >= self._credit_batch:
                self._return_credit(self._unreturned)
                self._unreturned = 0
        return kind, payload
