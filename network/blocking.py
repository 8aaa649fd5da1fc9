"""The ends of a blocking edge (BATCH mode): a spill-file writer and a file input.

    producer subtask: chain --> BlockingRecordWriter --partitioner--> subpartition
                                 (ResultPartitionWriter, one per outgoing edge)
                                 finish() -> PartitionDescriptor -> supervisor
    consumer subtask: BlockingInput(descriptors of every producer, my subtask index)
                      --> one batch per step --> chain head ... exhausted: end of input

The partitioner decides a record's channel exactly as on a network edge; channel i of
the producer is the subpartition of the consumer subtask that channel i would reach,
so a consumer reads the subpartition numbered by its own subtask index. Events are
not written: no watermarks travel in BATCH (the consumer processes the maximum
watermark once its blocking inputs are exhausted) and the end of a partition is the
end of its file. Reading needs no credit: the file is complete before anyone reads it.
"""

from __future__ import annotations

from typing import Iterator

from minicluster.network.partitioners import StreamPartitioner
from minicluster.network.spill_partition import PartitionDescriptor
from minicluster.network.spill_reader import ResultPartitionReader
from minicluster.network.spill_writer import ResultPartitionWriter


_MISSING = object()


class KeyedPartial:
    """A combiner's output: a key's accumulator, carrying its key, since a reduce
    function's result need not have the key of its inputs (``lambda a, b: a + b``)."""

    __slots__ = ("key", "value")

    def __init__(self, key: object, value: object) -> None:
        self.key = key
        self.value = value

    def __reduce__(self):
        return (KeyedPartial, (self.key, self.value))

    def __repr__(self) -> str:
        return f"KeyedPartial({self.key!r}, {self.value!r})"


class BlockingRecordWriter:
    """A ``RecordWriter`` look-alike that writes a blocking result partition."""

    __slots__ = ("partitioner", "partition", "subpartitions", "name", "edge_id")

    def __init__(
        self,
        partitioner: StreamPartitioner,
        partition: ResultPartitionWriter,
        subpartitions: list[int],
        name: str,
        edge_id: int,
    ) -> None:
        self.partitioner = partitioner
        self.partition = partition
        self.subpartitions = subpartitions  # channel index -> consumer subtask
        self.name = name
        self.edge_id = edge_id

    def emit(self, values: list, timestamps: list | None = None) -> None:
        write, subpartitions = self.partition.write, self.subpartitions
        for channel, records, stamps in self.partitioner.route(values, timestamps):
            write(subpartitions[channel], records, stamps)

    def broadcast_event(self, event: object) -> None:
        """Watermarks, idleness and EndOfPartition are not written (see module doc)."""

    @property
    def is_blocked(self) -> bool:
        return False

    def finish(self) -> PartitionDescriptor:
        return self.partition.finish()

    def abort(self) -> None:
        """Remove an unfinished partition's files (a failed or cancelled producer)."""
        if self.partition._descriptor is None:
            self.partition.delete()


class CombiningRecordWriter(BlockingRecordWriter):
    """A blocking writer that pre-combines per key before it writes (a combiner).

    For an edge into a keyed reduce in BATCH mode: records are folded per key with the
    consumer's own reduce function, so the partition holds one record per key and
    producer (the consumer folds those partials with the same function). The
    accumulators are written out whenever more than ``max_entries`` keys are open,
    so memory stays bounded; a key may then appear more than once, which the
    consumer's fold makes right. Each output keeps the timestamp of its key's last
    record.
    """

    __slots__ = ("key_of", "reduce", "max_entries", "batch_size", "_accumulators", "_stamps",
                 "_folder")

    def __init__(
        self,
        partitioner: StreamPartitioner,
        partition: ResultPartitionWriter,
        subpartitions: list[int],
        name: str,
        edge_id: int,
        key_of,
        reduce,
        max_entries: int,
        batch_size: int,
    ) -> None:
        super().__init__(partitioner, partition, subpartitions, name, edge_id)
        self.key_of = key_of
        self.reduce = reduce
        self.max_entries = max_entries
        self.batch_size = batch_size
        self._accumulators: dict = {}
        self._stamps: dict = {}
        # A field aggregation (sum/min/max) folds plain field values per key and builds
        # each result record once, at the flush (operators/aggregations.FieldFolder).
        make_folder = getattr(reduce, "folder", None)
        self._folder = make_folder() if callable(make_folder) else None

    def emit(self, values: list, timestamps: list | None = None) -> None:
        keys = list(map(self.key_of, values))
        folder = self._folder
        if folder is not None:
            folder.fold(keys, values)
            size = len(folder)
        else:
            reduce, accumulators = self.reduce, self._accumulators
            get, missing = accumulators.get, _MISSING
            for key, value in zip(keys, values):
                accumulator = get(key, missing)
                accumulators[key] = value if accumulator is missing else reduce(accumulator, value)
            size = len(accumulators)
        if timestamps is not None:
            self._stamps.update(zip(keys, timestamps))  # the last record's stamp wins
        if size > self.max_entries:
            self._flush()

    def _flush(self) -> None:
        """Write every accumulator as a ``KeyedPartial``, routed by its key."""
        folder, stamps = self._folder, self._stamps
        if folder is not None:
            accumulated = folder.items()
            folder.clear()
        else:
            accumulated = self._accumulators.items()
        partitioner = self.partitioner
        channel_of = partitioner.channel_of_key
        per_channel: dict[int, tuple[list, list]] = {}
        for key, value in accumulated:
            channel = channel_of(key)
            values, timestamps = per_channel.setdefault(channel, ([], []))
            values.append(KeyedPartial(key, value))
            timestamps.append(stamps.get(key))
            if len(values) >= self.batch_size:
                self._write(channel, values, timestamps, bool(stamps))
                per_channel[channel] = ([], [])
        for channel, (values, timestamps) in per_channel.items():
            if values:
                self._write(channel, values, timestamps, bool(stamps))
        self._accumulators, self._stamps = {}, {}

    def _write(self, channel: int, values: list, timestamps: list, stamped: bool) -> None:
        self.partition.write(self.subpartitions[channel], values, timestamps if stamped else None)

    def finish(self) -> PartitionDescriptor:
        self._flush()
        return self.partition.finish()


class BlockingInput:
    """Every producer's subpartition ``subtask_index`` of one blocking edge, in turn."""

    __slots__ = ("input_index", "descriptors", "subtask_index", "_batches", "finished")

    def __init__(
        self, input_index: int, descriptors: list[PartitionDescriptor], subtask_index: int
    ) -> None:
        self.input_index = input_index
        self.descriptors = descriptors
        self.subtask_index = subtask_index
        self._batches: Iterator[tuple[list, list | None]] | None = None
        self.finished = False

    def _iterate(self) -> Iterator[tuple[list, list | None]]:
        for descriptor in self.descriptors:
            yield from ResultPartitionReader(descriptor, self.subtask_index)

    def next_batch(self) -> tuple[list, list | None] | None:
        """The next ``(values, timestamps)``, or None (and ``finished``) at the end."""
        if self.finished:
            return None
        if self._batches is None:
            self._batches = self._iterate()
        batch = next(self._batches, None)
        if batch is None:
            self.finished = True
        return batch

    def close(self) -> None:
        if self._batches is not None:
            self._batches.close()

    def __repr__(self) -> str:
        return (
            f"BlockingInput(input {self.input_index}, subpartition {self.subtask_index} "
            f"of {len(self.descriptors)} partitions)"
        )
