"""The writer of a row-format ``FileSink``: part files that appear only when complete.

    records --encode (per batch)--> in-progress part  .{name}.inprogress.{uuid}
        roll (rolling policy: size on a record, age/inactivity on a timer)
            --> pending  (closed, fsynced, still under its hidden in-progress name)
    end of input (the subtask succeeded)
            --> committed: every pending part renamed to {prefix}-{uuid}-{count}{suffix}
    failure / cancel (close() before end of input)
            --> every in-progress and pending part file is deleted

As Flink's ``FileWriterBucket``: one random UUID per subtask writer and a part counter
name the files, and the in-progress name is Flink's local staging name, a hidden file
in the same directory (so the rename is atomic, and readers such as ``FileSource``
skip it). Committing at the end of input is Flink's BATCH behaviour; without
checkpoints yet, it is ours for every job. A TaskManager killed by a signal cannot
clean up: its hidden in-progress files stay, never under a final name.

Under BATCH failover a subtask may run again after it committed (its TaskManager died
before the supervisor heard it finished, or a ``full`` restart): its UUID is then
derived from the submission's id, the sink and the subtask, the same in every
attempt, and a new attempt first deletes the parts an earlier one committed.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from minicluster.operators.base import OperatorContext, StreamOperator


class InProgressPart:
    """An open part file (Flink's ``PartFileInfo``: size, creation, last update)."""

    __slots__ = ("final_path", "path", "file", "size", "creation_time", "last_update_time")

    def __init__(self, final_path: str, now: int) -> None:
        directory, name = os.path.split(final_path)
        self.final_path = final_path
        self.path = os.path.join(directory, f".{name}.inprogress.{uuid.uuid4()}")
        self.file = open(self.path, "xb")
        self.size = 0
        self.creation_time = now
        self.last_update_time = now

    def write(self, data: bytes, now: int) -> None:
        self.file.write(data)
        self.size += len(data)
        self.last_update_time = now

    def close_for_commit(self) -> None:
        """Flush and fsync, so that a committed file is complete even after a crash."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def commit(self) -> None:
        os.rename(self.path, self.final_path)

    def discard(self) -> None:
        try:
            self.file.close()
        finally:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


class FileSinkOperator(StreamOperator):
    """Writes each record with ``encoder`` into this subtask's part files in
    ``base_path``; see the module docstring for the part-file life cycle.

    ``rolling_policy`` is duck-typed, as Flink's ``RollingPolicy``:
    ``should_roll_on_event(part, element)``, ``should_roll_on_processing_time(part,
    now_ms)`` and ``part_size`` (None: it never rolls on an event; else it never rolls
    on one while the part holds at most ``part_size`` bytes, which lets a whole batch
    be written at once).
    """

    def __init__(
        self,
        base_path: str,
        encoder: Any,
        part_prefix: str,
        part_suffix: str,
        rolling_policy: Any,
        bucket_check_interval_ms: int,
    ) -> None:
        self.base_path = base_path
        self.encoder = encoder
        self.part_prefix = part_prefix
        self.part_suffix = part_suffix
        self.rolling_policy = rolling_policy
        self.bucket_check_interval_ms = bucket_check_interval_ms

    def open(self, ctx: OperatorContext) -> None:
        os.makedirs(self.base_path, exist_ok=True)
        job = ctx.config.job_uuid
        if job is None:
            self._unique_id = str(uuid.uuid4())
        else:
            # The same id in every attempt of this subtask of this job: a re-run
            # (BATCH failover) first removes what an earlier attempt committed.
            self._unique_id = str(uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"minicluster:{job}/{self.base_path}/{self.name}/{ctx.subtask_index}",
            ))
            self._remove_earlier_attempts()
        self._part_counter = 0
        self._part: InProgressPart | None = None
        self._pending: list[InProgressPart] = []
        self._time = ctx.processing_time
        self._time.register(
            self._time.current_processing_time() + self.bucket_check_interval_ms,
            self._on_bucket_check,
        )

    def _remove_earlier_attempts(self) -> None:
        start = f"{self.part_prefix}-{self._unique_id}-"
        for name in os.listdir(self.base_path):
            if name.startswith(start) and name.endswith(self.part_suffix):
                try:
                    os.unlink(os.path.join(self.base_path, name))
                except FileNotFoundError:
                    pass

    # -- writing -----------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        if not values:
            return
        now = self._time.current_processing_time()
        part = self._part or self._roll(now)
        limit = self.rolling_policy.part_size
        data = self.encoder.encode_batch(values)
        # Every record is at least one byte ("\n"), so if this holds, no record of the
        # batch finds the part bigger than the limit: write the batch in one go.
        if limit is None or part.size + len(data) - 1 <= limit:
            part.write(data, now)
            return
        policy, encode = self.rolling_policy, self.encoder.encode
        for value in values:
            if policy.should_roll_on_event(part, value):
                part = self._roll(now)
            part.write(encode(value), now)

    def _roll(self, now: int) -> InProgressPart:
        """Close the open part (it becomes pending) and open the next one."""
        self._close_part()
        name = f"{self.part_prefix}-{self._unique_id}-{self._part_counter}{self.part_suffix}"
        self._part_counter += 1
        self._part = InProgressPart(os.path.join(self.base_path, name), now)
        return self._part

    def _close_part(self) -> None:
        part, self._part = self._part, None
        if part is not None:
            self._pending.append(part)  # before closing: discarded if closing fails
            part.close_for_commit()

    def _on_bucket_check(self, timestamp: int) -> None:
        now = self._time.current_processing_time()
        part = self._part
        if part is not None and self.rolling_policy.should_roll_on_processing_time(part, now):
            self._close_part()
        self._time.register(now + self.bucket_check_interval_ms, self._on_bucket_check)

    # -- committing or discarding --------------------------------------------------------

    def end_input(self) -> None:
        """The subtask succeeded: every part file gets its final name."""
        self._close_part()
        while self._pending:
            self._pending[0].commit()
            self._pending.pop(0)

    def close(self) -> None:
        """Without a successful end of input (failure, cancel), nothing stays visible."""
        parts = self._pending + ([self._part] if self._part is not None else [])
        self._pending, self._part = [], None
        error = None
        for part in parts:
            try:
                part.discard()
            except OSError as exc:  # keep removing the others
                error = error or exc
        if error is not None:
            raise error

    def __repr__(self) -> str:
        return f"FileSinkOperator({self.base_path!r})"
