"""Blocking result partitions: a producer subtask's output, spilled to disk for BATCH mode.

A producer writes one partition; each consumer subtask later reads its subpartition.

    producer subtask                                   consumer subtask k
    write(k, values, timestamps)
      -> pickle (values, timestamps), protocol 5       ResultPartitionReader(desc, k)
      -> pending[k] += len + pickle                      -> index: frames of k only
      -> pending[k] full: one lz4 frame -> .data         -> pread each frame, verify
    finish() -> fsync .data, write .index atomically     -> yield (values, timestamps)
             -> PartitionDescriptor (to the supervisor)

The pieces, one module each:

    - ``spill_writer``: ``ResultPartitionWriter``, the producer's side.
    - ``spill_reader``: ``ResultPartitionReader``, a consumer's side.
    - ``spill_format``: the bytes both share: lz4 frames, checksums, the index.
    - ``spill_partition``: ``PartitionDescriptor``, file names, ``delete_partition``,
      and the ``PartitionError``s of reading a partition.
    - ``spill_directory``: the folder the files live in (``create_spill_directory``).

This module only gathers their public names under the address they had when they were
one module (``minicluster.network.spill``); code in minicluster imports each from its
own module.
"""

from minicluster.network.spill_directory import SpillDirectory, create_spill_directory
from minicluster.network.spill_partition import (
    PartitionCorruptedError,
    PartitionDescriptor,
    PartitionError,
    PartitionNotFoundError,
    delete_partition,
)
from minicluster.network.spill_reader import ResultPartitionReader
from minicluster.network.spill_writer import ResultPartitionWriter

__all__ = [
    "PartitionCorruptedError",
    "PartitionDescriptor",
    "PartitionError",
    "PartitionNotFoundError",
    "ResultPartitionReader",
    "ResultPartitionWriter",
    "SpillDirectory",
    "create_spill_directory",
    "delete_partition",
]
