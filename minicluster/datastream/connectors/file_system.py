"""Files in and out, with PyFlink's API (``pyflink.datastream.connectors.file_system``).

Key classes:
    - ``FileSource`` (``FileSource.for_record_stream_format(StreamFormat.text_line_format(),
      *paths).process_static_file_set().build()``, read with ``env.from_source``): files
      and directories cut into byte-range splits that a split enumerator in the
      supervisor hands out to the parallel readers on demand; a line belongs to the
      split in which it starts.
    - ``StreamFormat``: how a split's bytes become records (``text_line_format``).
    - ``FileSink`` (``FileSink.for_row_format(base_path, Encoder.simple_string_encoder())
      ...build()``, written with ``sink_to``): part files written under a hidden
      in-progress name and renamed when the subtask finishes successfully.
    - ``OutputFileConfig``: the part files' prefix and suffix.
    - ``RollingPolicy`` (``DefaultRollingPolicy``, ``OnCheckpointRollingPolicy``): when
      a part file is closed and the next one opened.
    - ``BucketAssigner``: only ``base_path_bucket_assigner()``; see ``FileSink``.

Paths are local: plain paths or ``file://`` URIs. Input split size: configuration
``minicluster.source.file.split-size`` (default 4 MiB).
"""

from __future__ import annotations

import os
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

from minicluster.common.execution_config import ExecutionConfig
from minicluster.common.serialization import Encoder
from minicluster.common.time import Duration
from minicluster.datastream._builtin_sources import LineBatches
from minicluster.common.boundedness import Boundedness
from minicluster.datastream.connectors._file_splits import (
    ContinuousFileSplitEnumerator,
    FileSourceSplit,
    StaticFileSplitEnumerator,
    create_splits,
)
from minicluster.operators.file_sink import FileSinkOperator

__all__ = [
    "BucketAssigner",
    "DefaultRollingPolicy",
    "FileSink",
    "FileSource",
    "FileSourceBuilder",
    "FileSourceSplit",
    "OnCheckpointRollingPolicy",
    "OutputFileConfig",
    "RollingPolicy",
    "StreamFormat",
]


def _local_path(path: Any, what: str) -> str:
    """An absolute local path from a path or a ``file://`` URI."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(text, str) or not text:
        raise ValueError(f"{what}: a path must be a non-empty str, got {path!r}")
    if "://" in text:
        uri = urlparse(text)
        if uri.scheme != "file" or uri.netloc not in ("", "localhost"):
            raise ValueError(
                f"{what}: only local paths and file:// URIs are supported, got {text!r}"
            )
        text = unquote(uri.path)
    return os.path.abspath(text)


# ---- FileSource ----------------------------------------------------------------------


class StreamFormat:
    """Reads records from a file's bytes. ``text_line_format`` is the one PyFlink offers."""

    def __init__(self, charset_name: str = "UTF-8") -> None:
        try:
            sample = "x\r\ny".encode(charset_name)
        except LookupError:
            raise ValueError(
                f"StreamFormat.text_line_format: unknown charset {charset_name!r}"
            ) from None
        if not sample.endswith(b"x\r\ny"):  # splits are cut at the byte "\n"
            raise ValueError(
                f"StreamFormat.text_line_format: charset {charset_name!r} does not write "
                "newlines as the byte 0x0A; use an ASCII-compatible charset such as "
                "'UTF-8' or 'ISO-8859-1'"
            )
        self.charset_name = charset_name

    @staticmethod
    def text_line_format(charset_name: str = "UTF-8") -> StreamFormat:
        """The lines of the files, without their terminators (``\\n`` or ``\\r\\n``)."""
        return StreamFormat(charset_name)

    def read(self, split: FileSourceSplit, batch_size: int) -> Iterator[list[str]]:
        """The lines that start in the split's byte range, in batches (which know
        their file and lines, for error messages)."""
        return LineBatches(split.path, split.offset, split.end, self.charset_name, batch_size)

    def __repr__(self) -> str:
        return f"StreamFormat.text_line_format({self.charset_name!r})"


class FileSource:
    """A source over files and directories, read in parallel by splits.

    Build it with ``FileSource.for_record_stream_format(format, *paths)``; read it with
    ``env.from_source(source, WatermarkStrategy.no_watermarks(), name)``.

    When the job is submitted, in the client, the paths are listed (directories
    recursively, in name order, skipping names that start with ``.`` or ``_``) and
    every non-empty file is cut into splits of ``minicluster.source.file.split-size``
    bytes; a missing path raises ``FileNotFoundError`` then, before any process runs.
    The supervisor hands the splits out in order to whichever reader asks: a reader
    asks when it has nothing left, so more splits than readers balance the work.

    Bounded by default (``process_static_file_set``: the readers finish once those
    files are read). With ``monitor_continuously(interval)`` it is unbounded: the
    supervisor lists the paths again every interval and hands out the splits of new
    files; the job runs until it is cancelled, and BATCH mode refuses it.
    """

    def __init__(
        self,
        stream_format: StreamFormat,
        paths: tuple[str, ...],
        discovery_interval_ms: int | None = None,
    ) -> None:
        self.stream_format = stream_format
        self.paths = paths
        self.discovery_interval_ms = discovery_interval_ms

    def get_boundedness(self) -> Boundedness:
        if self.discovery_interval_ms is None:
            return Boundedness.BOUNDED
        return Boundedness.CONTINUOUS_UNBOUNDED

    @staticmethod
    def for_record_stream_format(
        stream_format: StreamFormat, *paths: str
    ) -> FileSourceBuilder:
        if not isinstance(stream_format, StreamFormat):
            raise TypeError(
                "FileSource.for_record_stream_format takes a StreamFormat (e.g. "
                f"StreamFormat.text_line_format()), got {type(stream_format).__name__}"
            )
        if not paths:
            raise ValueError("FileSource.for_record_stream_format needs at least one path")
        local = tuple(_local_path(p, "FileSource") for p in paths)
        return FileSourceBuilder(stream_format, local)

    # -- the split source protocol (operators/split_source.py) -------------------------

    def create_enumerator(
        self, parallelism: int, config: ExecutionConfig
    ) -> StaticFileSplitEnumerator:
        """List and cut the files (in the client, when the job is submitted)."""
        split_size = config.file_split_size
        if self.discovery_interval_ms is None:
            return StaticFileSplitEnumerator(create_splits(self.paths, split_size))
        return ContinuousFileSplitEnumerator(self.paths, split_size, self.discovery_interval_ms)

    def read_split(self, split: FileSourceSplit, batch_size: int) -> Iterator[list[str]]:
        return self.stream_format.read(split, batch_size)

    def __repr__(self) -> str:
        watch = (
            "" if self.discovery_interval_ms is None
            else f", monitor_continuously={self.discovery_interval_ms} ms"
        )
        return f"FileSource({self.stream_format!r}, {', '.join(map(repr, self.paths))}{watch})"


class FileSourceBuilder:
    """Configures a ``FileSource``; bounded (``process_static_file_set``) by default."""

    def __init__(self, stream_format: StreamFormat, paths: tuple[str, ...]) -> None:
        self._stream_format = stream_format
        self._paths = paths
        self._discovery_interval_ms: int | None = None

    def monitor_continuously(self, discovery_interval: Duration) -> FileSourceBuilder:
        """Read the files present when the job starts, then keep watching the paths:
        every ``discovery_interval`` new files (by path) are read too. The source is
        unbounded (STREAMING; the job runs until cancelled). Put files in place
        atomically (write them elsewhere or under a ``.``/``_`` name, then rename):
        a file is read once, as it is when discovered."""
        if not isinstance(discovery_interval, Duration):
            raise TypeError(
                "monitor_continuously() takes a Duration (e.g. Duration.of_seconds(1)), "
                f"got {type(discovery_interval).__name__}"
            )
        millis = discovery_interval.to_milliseconds()
        if millis < 1:
            raise ValueError(
                f"monitor_continuously(): the discovery interval must be at least 1 ms, "
                f"got {discovery_interval!r}"
            )
        self._discovery_interval_ms = millis
        return self

    def process_static_file_set(self) -> FileSourceBuilder:
        """Read the files present when the job starts, then finish (the default)."""
        self._discovery_interval_ms = None
        return self

    def build(self) -> FileSource:
        return FileSource(self._stream_format, self._paths, self._discovery_interval_ms)


# ---- FileSink ------------------------------------------------------------------------


def _millis(value: int | Duration, what: str) -> int:
    millis = value.to_milliseconds() if isinstance(value, Duration) else value
    if not isinstance(millis, int) or isinstance(millis, bool) or millis <= 0:
        raise ValueError(f"{what} must be a positive number of milliseconds, got {value!r}")
    return millis


class RollingPolicy:
    """When a ``FileSink`` closes its open part file and opens the next one.

    Build one with ``default_rolling_policy(...)`` or ``on_checkpoint_rolling_policy()``.
    ``part`` below has ``size`` (bytes), ``creation_time`` and ``last_update_time``
    (epoch ms), as Flink's ``PartFileInfo``. ``part_size``: the policy never rolls on
    a record while the part holds at most this many bytes (None: never on a record).
    """

    part_size: int | None = None

    @staticmethod
    def default_rolling_policy(
        part_size: int = 1024 * 1024 * 128,
        rollover_interval: int | Duration = 60 * 1000,
        inactivity_interval: int | Duration = 60 * 1000,
    ) -> DefaultRollingPolicy:
        """Roll when the part is larger than ``part_size`` bytes (checked before each
        record), older than ``rollover_interval`` ms, or not written for
        ``inactivity_interval`` ms (checked every bucket check interval)."""
        return DefaultRollingPolicy(part_size, rollover_interval, inactivity_interval)

    @staticmethod
    def on_checkpoint_rolling_policy() -> OnCheckpointRollingPolicy:
        """Roll only on checkpoints; without checkpoints, one part file per subtask."""
        return OnCheckpointRollingPolicy()

    def should_roll_on_event(self, part: Any, element: Any) -> bool:
        return False

    def should_roll_on_processing_time(self, part: Any, current_time: int) -> bool:
        return False

    def should_roll_on_checkpoint(self, part: Any) -> bool:
        return True


class DefaultRollingPolicy(RollingPolicy):
    def __init__(
        self,
        part_size: int = 1024 * 1024 * 128,
        rollover_interval: int | Duration = 60 * 1000,
        inactivity_interval: int | Duration = 60 * 1000,
    ) -> None:
        if not isinstance(part_size, int) or isinstance(part_size, bool) or part_size < 1:
            raise ValueError(
                f"default_rolling_policy: part_size must be >= 1 byte, got {part_size!r}"
            )
        what = "default_rolling_policy: "
        self.part_size = part_size
        self.rollover_interval = _millis(rollover_interval, what + "rollover_interval")
        self.inactivity_interval = _millis(inactivity_interval, what + "inactivity_interval")

    def should_roll_on_event(self, part: Any, element: Any) -> bool:
        return part.size > self.part_size

    def should_roll_on_processing_time(self, part: Any, current_time: int) -> bool:
        return (
            current_time - part.creation_time >= self.rollover_interval
            or current_time - part.last_update_time >= self.inactivity_interval
        )

    def should_roll_on_checkpoint(self, part: Any) -> bool:
        return part.size > self.part_size

    def __repr__(self) -> str:
        return (
            f"RollingPolicy.default_rolling_policy({self.part_size}, "
            f"{self.rollover_interval}, {self.inactivity_interval})"
        )


class OnCheckpointRollingPolicy(RollingPolicy):
    def __repr__(self) -> str:
        return "RollingPolicy.on_checkpoint_rolling_policy()"


class OutputFileConfig:
    """The part files' names: ``{prefix}-{uuid}-{counter}{suffix}`` (default prefix
    ``part``, no suffix)."""

    def __init__(self, part_prefix: str = "part", part_suffix: str = "") -> None:
        for what, value in (("part prefix", part_prefix), ("part suffix", part_suffix)):
            if not isinstance(value, str) or "/" in value or os.sep in value:
                raise ValueError(
                    f"OutputFileConfig: the {what} must be a str without '/', got {value!r}"
                )
        self.part_prefix = part_prefix
        self.part_suffix = part_suffix

    @staticmethod
    def builder() -> OutputFileConfig.OutputFileConfigBuilder:
        return OutputFileConfig.OutputFileConfigBuilder()

    def get_part_prefix(self) -> str:
        return self.part_prefix

    def get_part_suffix(self) -> str:
        return self.part_suffix

    def __repr__(self) -> str:
        return f"OutputFileConfig({self.part_prefix!r}, {self.part_suffix!r})"

    class OutputFileConfigBuilder:
        def __init__(self) -> None:
            self.part_prefix = "part"
            self.part_suffix = ""

        def with_part_prefix(self, prefix: str) -> OutputFileConfig.OutputFileConfigBuilder:
            self.part_prefix = prefix
            return self

        def with_part_suffix(self, suffix: str) -> OutputFileConfig.OutputFileConfigBuilder:
            self.part_suffix = suffix
            return self

        def build(self) -> OutputFileConfig:
            return OutputFileConfig(self.part_prefix, self.part_suffix)


class BucketAssigner:
    """Which directory under the base path a record goes to. Only the base path itself
    is supported (``base_path_bucket_assigner``), and it is the default."""

    @staticmethod
    def base_path_bucket_assigner() -> BucketAssigner:
        return BucketAssigner()

    @staticmethod
    def date_time_bucket_assigner(
        format_str: str = "yyyy-MM-dd--HH", timezone_id: str | None = None
    ) -> BucketAssigner:
        raise NotImplementedError(
            "BucketAssigner.date_time_bucket_assigner(): date-time buckets are not "
            "supported yet; FileSink writes every part file directly into its base path"
        )

    def __repr__(self) -> str:
        return "BucketAssigner.base_path_bucket_assigner()"


class FileSink:
    """Writes records into part files under ``base_path``; use with ``sink_to``.

    Each parallel subtask writes its own part files, named
    ``{prefix}-{uuid}-{counter}{suffix}`` with one random UUID per subtask writer (as
    Flink's ``FileSink``): one file, or more when the rolling policy rolls. A part is
    written as a hidden in-progress file (``.{name}.inprogress.{uuid}``) and renamed
    to its name only when the subtask finishes successfully; a failed or cancelled
    subtask deletes its in-progress files, so no half-written file ever appears under
    a final name. Unlike Flink, whose default bucket assigner writes into
    ``yyyy-MM-dd--HH`` subdirectories, files go directly into ``base_path``.
    """

    def __init__(
        self,
        base_path: str,
        encoder: Encoder,
        output_file_config: OutputFileConfig,
        rolling_policy: RollingPolicy,
        bucket_check_interval: int,
    ) -> None:
        self.base_path = base_path
        self.encoder = encoder
        self.output_file_config = output_file_config
        self.rolling_policy = rolling_policy
        self.bucket_check_interval = bucket_check_interval

    @staticmethod
    def for_row_format(base_path: str, encoder: Encoder) -> FileSink.RowFormatBuilder:
        if not isinstance(encoder, Encoder):
            raise TypeError(
                "FileSink.for_row_format takes an Encoder (e.g. "
                f"Encoder.simple_string_encoder()), got {type(encoder).__name__}"
            )
        return FileSink.RowFormatBuilder(_local_path(base_path, "FileSink"), encoder)

    def _create_writer_operator(self) -> FileSinkOperator:
        """The runtime operator ``sink_to`` adds for this sink."""
        config = self.output_file_config
        return FileSinkOperator(
            self.base_path, self.encoder, config.part_prefix, config.part_suffix,
            self.rolling_policy, self.bucket_check_interval,
        )

    def __repr__(self) -> str:
        return f"FileSink({self.base_path!r})"

    class RowFormatBuilder:
        def __init__(self, base_path: str, encoder: Encoder) -> None:
            self._base_path = base_path
            self._encoder = encoder
            self._output_file_config = OutputFileConfig()
            self._rolling_policy: RollingPolicy = DefaultRollingPolicy()
            self._bucket_check_interval = 60 * 1000

        def with_bucket_check_interval(self, interval: int) -> FileSink.RowFormatBuilder:
            """How often (ms) the time-based rolling conditions are checked."""
            self._bucket_check_interval = _millis(interval, "with_bucket_check_interval")
            return self

        def with_bucket_assigner(
            self, bucket_assigner: BucketAssigner
        ) -> FileSink.RowFormatBuilder:
            if not isinstance(bucket_assigner, BucketAssigner):
                raise TypeError(
                    "with_bucket_assigner takes a BucketAssigner, got "
                    f"{type(bucket_assigner).__name__}"
                )
            return self

        def with_rolling_policy(self, rolling_policy: RollingPolicy) -> FileSink.RowFormatBuilder:
            if not isinstance(rolling_policy, RollingPolicy):
                raise TypeError(
                    "with_rolling_policy takes a RollingPolicy (e.g. "
                    "RollingPolicy.default_rolling_policy()), got "
                    f"{type(rolling_policy).__name__}"
                )
            self._rolling_policy = rolling_policy
            return self

        def with_output_file_config(
            self, output_file_config: OutputFileConfig
        ) -> FileSink.RowFormatBuilder:
            if not isinstance(output_file_config, OutputFileConfig):
                raise TypeError(
                    "with_output_file_config takes an OutputFileConfig, got "
                    f"{type(output_file_config).__name__}"
                )
            self._output_file_config = output_file_config
            return self

        def build(self) -> FileSink:
            return FileSink(
                self._base_path, self._encoder, self._output_file_config,
                self._rolling_policy, self._bucket_check_interval,
            )
