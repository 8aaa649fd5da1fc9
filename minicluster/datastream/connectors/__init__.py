"""Connectors (PyFlink's ``pyflink.datastream.connectors``).

Modules:
    - ``number_seq``: ``NumberSequenceSource``.
    - ``file_system``: ``FileSource`` (with ``StreamFormat``) and ``FileSink`` (with
      ``OutputFileConfig``, ``RollingPolicy``, ``BucketAssigner``).
"""

from minicluster.datastream.connectors.file_system import (
    BucketAssigner,
    DefaultRollingPolicy,
    FileSink,
    FileSource,
    FileSourceBuilder,
    OnCheckpointRollingPolicy,
    OutputFileConfig,
    RollingPolicy,
    StreamFormat,
)
from minicluster.datastream.connectors.number_seq import NumberSequenceSource

__all__ = [
    "BucketAssigner",
    "DefaultRollingPolicy",
    "FileSink",
    "FileSource",
    "FileSourceBuilder",
    "NumberSequenceSource",
    "OnCheckpointRollingPolicy",
    "OutputFileConfig",
    "RollingPolicy",
    "StreamFormat",
]
