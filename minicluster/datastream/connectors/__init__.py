"""Connectors (PyFlink's ``pyflink.datastream.connectors``).

``Boundedness`` (``BOUNDED`` or ``CONTINUOUS_UNBOUNDED``) is what a source's
``get_boundedness()`` returns.

Modules:
    - ``number_seq``: ``NumberSequenceSource``.
    - ``file_system``: ``FileSource`` (with ``StreamFormat``) and ``FileSink`` (with
      ``OutputFileConfig``, ``RollingPolicy``, ``BucketAssigner``).
"""

from minicluster.common.boundedness import Boundedness
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
    "Boundedness",
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
