"""Classes shared by the DataStream API and the runtime, named as in ``pyflink.common``.

Key classes:

    - :class:`Row`, :class:`RowKind`: the record type; an immutable tuple whose
      fields may be named and which carries a changelog kind.
    - :class:`Types`, :class:`TypeInformation`: type descriptors accepted wherever
      PyFlink takes an ``output_type``; records are pickled whatever they say.
    - :class:`Configuration`, :class:`ConfigOption`: string settings, parsed on
      read, and the typed options the engine declares.
    - :class:`Duration`, :class:`Time`: immutable spans of time.
    - :class:`WatermarkStrategy`, :class:`TimestampAssigner`,
      :class:`WatermarkGenerator`: where event time comes from and how it advances.
    - :class:`JobExecutionResult`: what ``execute()`` returns, with per-region
      :class:`RegionStats` (attempts, records, bytes spilled) for BATCH jobs.
    - :class:`Encoder`: how a row-format ``FileSink`` writes a record
      (``Encoder.simple_string_encoder()``).
"""

from minicluster.common.configuration import ConfigOption, Configuration
from minicluster.common.row import Row, RowKind
from minicluster.common.serialization import Encoder
from minicluster.common.time import Duration, Time
from minicluster.common.typeinfo import Types, TypeInformation
from minicluster.common.watermark_strategy import (
    TimestampAssigner,
    Watermark,
    WatermarkGenerator,
    WatermarkOutput,
    WatermarkStrategy,
)
from minicluster.common.job_execution_result import JobExecutionResult, RegionStats

__all__ = [
    "ConfigOption",
    "Configuration",
    "Duration",
    "Encoder",
    "JobExecutionResult",
    "RegionStats",
    "Row",
    "RowKind",
    "Time",
    "TypeInformation",
    "TimestampAssigner",
    "Types",
    "Watermark",
    "WatermarkGenerator",
    "WatermarkOutput",
    "WatermarkStrategy",
]
