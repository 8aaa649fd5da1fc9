"""Key-grouped blocking inputs (BATCH mode): a keyed operator sees each key's records
together, as Flink's batch execution sorts the inputs of keyed operators.

    BlockingInput 0 --\\                         in memory: key -> [records of input 0,
    BlockingInput 1 ---+-> key_of(record) --->               records of input 1]
                        (one batch per step)    past the budget: spill a sorted run
                                                   (lz4 frames of pickled chunks)
    exhausted: heapq.merge(sorted runs..., sorted memory) by (stable_hash(key), repr(key))
               -> per key: input 0's records, then input 1's -> runs of one input
               -> lists of runs (values, timestamps, input_index), ~batch_size records
                  each, one list per step into the chain head (``process_runs``)

Order: keys in the total order ``(stable_hash(key), repr(key))`` (keys of mixed types
are not mutually orderable, their stable hash and repr are); within a key, every record
of input 0 before any of input 1, and each input's records in the order they were read
(stable). The order is the same whether or not anything spilled, so a job's results do
not depend on the memory budget. Consecutive keys' records of the same input share a
batch (up to ``batch_size``), so a single-input operator gets full batches.

Memory: at most ``memory_records`` records are held; past that the held records are
written as one sorted run into the job's spill folder, and the runs are merged at the
end. Run files are removed once merged, and by ``close()`` on failure.
"""

from __future__ import annotations

import glob
import heapq
import os
import pickle
import struct
from typing import Callable, Iterator

import lz4.frame

from minicluster.network.blocking import BlockingInput
from minicluster.network.codec import PROTOCOL
from minicluster.state.key_groups import stable_hash

#: what ``next_batch`` returns while it is still reading its inputs (work was done,
#: nothing to push yet)
READING = ()

_CHUNK_KEYS = 1024  # keys per pickled chunk of a spilled run
_LEN = struct.Struct("<Q")  # a run file: (u64 length | lz4 frame of a pickled chunk)*


def sort_run_prefix(vertex_id: int, subtask_index: int, attempt: int) -> str:
    """What names one task attempt's sorted run files: ``<prefix>-run<N>.lz4``."""
    return f"sort-vertex{vertex_id}-subtask{subtask_index}" + (
        f"-attempt{attempt}" if attempt else ""
    )


def delete_sort_runs(directory: str, prefix: str) -> None:
    """Remove the run files of ``prefix`` (a task attempt that died without closing)."""
    for path in glob.glob(os.path.join(glob.escape(directory), glob.escape(prefix) + "-run*.lz4")):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def sort_key(key: object) -> tuple[int, str]:
    """The grouping order of a key: equal keys sort alike, any two keys compare."""
    return (stable_hash(key), repr(key))


class GroupedBlockingInputs:
    """All blocking inputs of a task whose head is keyed, delivered grouped by key.

    Args:
        inputs: the task's blocking inputs (any order; records are tagged with each
            input's ``input_index``).
        key_selectors: per input index, the head operator's key function.
        memory_records: how many records are grouped in memory before a sorted run is
            spilled (config ``minicluster.batch.sort.memory-records``).
        spill_dir: the job's spill folder.
        run_prefix: names this task's run files (unique per vertex, subtask, attempt).
        batch_size: the most records pushed into the chain at once.
    """

    def __init__(
        self,
        inputs: list[BlockingInput],
        key_selectors: list[Callable],
        memory_records: int,
        spill_dir: str,
        run_prefix: str,
        batch_size: int,
    ) -> None:
        if memory_records < 1:
            raise ValueError(
                f"minicluster.batch.sort.memory-records must be at least 1, got {memory_records}"
            )
        self._inputs = list(inputs)
        self._key_selectors = key_selectors
        self._width = max(len(key_selectors), 1 + max(i.input_index for i in inputs))
        self.memory_records = memory_records
        self._spill_dir = spill_dir
        self._run_prefix = run_prefix
        self.batch_size = batch_size
        self._groups: list[dict] = [{} for _ in range(self._width)]  # per input
        self._stamps: list[dict] = [{} for _ in range(self._width)]
        self._held = 0
        self._timed = False
        self.run_paths: list[str] = []
        self.records_spilled = 0
        self._output: Iterator | None = None

    # -- reading ---------------------------------------------------------------------

    def next_batch(self):
        """A list of runs ``(values, timestamps, input_index)`` of about
        ``batch_size`` records in all, ``READING`` while the inputs are still being
        read, or None when everything was delivered."""
        if self._output is None:
            if self._inputs:
                self._read_one()
                return READING
            self._output = self._grouped_runs()
        runs, count, size = [], 0, self.batch_size
        for run in self._output:
            runs.append(run)
            count += len(run[0])
            if count >= size:
                break
        return runs or None

    def _read_one(self) -> None:
        blocking_input = self._inputs[0]
        batch = blocking_input.next_batch()
        if batch is None:
            blocking_input.close()
            self._inputs.pop(0)
            return
        values, timestamps = batch
        index = blocking_input.input_index
        keys = map(self._key_selectors[index], values)
        groups = self._groups[index]
        get = groups.get
        # one dict per input, key -> its records: the cheapest grouping in Python
        if timestamps is None and not self._timed:
            for key, value in zip(keys, values):
                records = get(key)
                if records is None:
                    groups[key] = [value]
                else:
                    records.append(value)
        else:
            # stamps are kept from the first batch with timestamps on; the records
            # read before have none (``_grouped_runs`` pads them with None), so
            # untimed jobs pay for no stamp lists
            self._timed = True
            stamps = self._stamps[index]
            stamps_get = stamps.get
            if timestamps is None:
                timestamps = [None] * len(values)
            for key, value, timestamp in zip(keys, values, timestamps):
                records = get(key)
                if records is None:
                    groups[key] = [value]
                else:
                    records.append(value)
                key_stamps = stamps_get(key)
                if key_stamps is None:
                    stamps[key] = [timestamp]
                else:
                    key_stamps.append(timestamp)
        self._held += len(values)
        if self._held > self.memory_records:
            self._spill()

    def _sorted_memory(self) -> list[tuple]:
        """The held records as ``(sort key, key, entry)`` in sort order, where entry is
        ``[records of input 0, ..., stamps of input 0, ...]``; then nothing is held."""
        groups, stamps = self._groups, self._stamps
        keys = set().union(*groups) if len(groups) > 1 else groups[0]
        items = [
            (
                sort_key(key),
                key,
                [g.get(key) or [] for g in groups] + [t.get(key) or [] for t in stamps],
            )
            for key in keys
        ]
        if self._timed:  # records read before stamps were kept get None, in front
            width = self._width
            for _, _, entry in items:
                for index in range(width):
                    missing = len(entry[index]) - len(entry[width + index])
                    if missing:
                        entry[width + index] = [None] * missing + entry[width + index]
        items.sort(key=lambda item: item[0])
        self._groups = [{} for _ in range(self._width)]
        self._stamps = [{} for _ in range(self._width)]
        self._held = 0
        return items

    def _spill(self) -> None:
        """Write the held records as one sorted run."""
        path = os.path.join(self._spill_dir, f"{self._run_prefix}-run{len(self.run_paths)}.lz4")
        self.run_paths.append(path)
        self.records_spilled += self._held
        items = self._sorted_memory()
        with open(path, "wb") as file:
            for start in range(0, len(items), _CHUNK_KEYS):
                frame = lz4.frame.compress(
                    pickle.dumps(items[start:start + _CHUNK_KEYS], protocol=PROTOCOL),
                    content_checksum=True,
                )
                file.write(_LEN.pack(len(frame)))
                file.write(frame)

    @staticmethod
    def _read_run(path: str) -> Iterator[tuple]:
        with open(path, "rb", buffering=1 << 20) as file:
            while True:
                header = file.read(_LEN.size)
                if not header:
                    break
                (length,) = _LEN.unpack(header)
                yield from pickle.loads(lz4.frame.decompress(file.read(length)))
        os.unlink(path)

    # -- delivering ------------------------------------------------------------------

    def _merged(self) -> Iterator[list]:
        """Per key (in sort order), its entry with every run's records concatenated."""
        memory = self._sorted_memory()
        if not self.run_paths:
            for _, _, entry in memory:
                yield entry
            return
        sources = [self._read_run(path) for path in self.run_paths]
        sources.append(iter(memory))
        # heapq.merge is stable: on equal sort keys, earlier runs come first
        current_sort_key, merged = None, None
        for order, _, entry in heapq.merge(*sources, key=lambda item: item[0]):
            if order != current_sort_key:
                if merged is not None:
                    yield merged
                current_sort_key, merged = order, entry
            else:
                for part, more in zip(merged, entry):
                    part.extend(more)
        if merged is not None:
            yield merged

    def _grouped_runs(self) -> Iterator[tuple]:
        """Cut the grouped records into batches of one input each, in order."""
        width, size, timed = self._width, self.batch_size, self._timed
        run_index, values, stamps = -1, [], []
        for entry in self._merged():
            for index in range(width):
                part = entry[index]
                if not part:
                    continue
                if index != run_index:
                    if values:
                        yield values, (stamps if timed else None), run_index
                    run_index, values, stamps = index, [], []
                values.extend(part)
                if timed:
                    part_stamps = entry[width + index]
                    if len(part_stamps) < len(part):  # from a run spilled before any stamp
                        stamps.extend([None] * (len(part) - len(part_stamps)))
                    stamps.extend(part_stamps)
                if len(values) >= size:
                    for start in range(0, len(values), size):
                        yield (
                            values[start:start + size],
                            stamps[start:start + size] if timed else None,
                            run_index,
                        )
                    values, stamps = [], []
        if values:
            yield values, (stamps if timed else None), run_index
        self.run_paths.clear()

    def close(self) -> None:
        """Release the inputs and remove any run files left (a failed task)."""
        for blocking_input in self._inputs:
            blocking_input.close()
        if self._output is not None:
            self._output.close()
        for path in self.run_paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.run_paths.clear()

    def __repr__(self) -> str:
        return (
            f"GroupedBlockingInputs({self._width} inputs, budget {self.memory_records} "
            f"records, {len(self.run_paths)} runs spilled)"
        )
