"""Text a subtask prints, carried to the client's terminal.

A TaskManager replaces ``sys.stdout``/``sys.stderr`` with a ``ForwardedStream``; the
loop sends what accumulated to the supervisor once per turn (before any other control
message, so output precedes the task's finish), and the supervisor writes it to the
client's own ``sys.stdout``. A job's prints therefore land where the user's script
prints, even under pytest's capture or a redirected stdout.
"""

from __future__ import annotations

import io
from typing import Callable


class ForwardedStream(io.TextIOBase):
    """Collects text; ``flush()`` (e.g. ``print(..., flush=True)`` in a user function)
    forwards at once, which is safe because the TaskManager has a single thread."""

    def __init__(self, name: str, forward: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.name = name
        self._parts: list[str] = []
        self._forward = forward

    def flush(self) -> None:
        if self._parts and self._forward is not None:
            self._forward()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        if not self._parts:
            return ""
        text = "".join(self._parts)
        self._parts.clear()
        return text

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"
