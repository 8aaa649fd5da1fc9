"""``ExecutionConfig``: every engine configuration key of a job, parsed and validated once.

    env.get_configuration()          {key: str}, as the user wrote it
      --ExecutionConfig.from_dict--> ExecutionConfig   (client, at submit, before any
                                                        process starts)
      client       cluster size, batch size, file split size
      supervisor   restart and failover strategy, io.tmp.dirs   (Deployment.config)
      TaskManager  watermark interval, combiner, grouping, ...  (OperatorContext.config)

Each engine key is one field below: its Flink-style key, type, default and parser in
one place (``_option``). A bad value fails the submission with one
``ConfigurationError`` naming every bad key, its value and what is accepted, instead
of a task in a TaskManager. Every key as given, unknown ones included, stays in
``raw`` for user code (a split source's ``create_enumerator`` reads its own keys
there). The API reads the few keys it needs while the graph is built (parallelism,
runtime mode, window pre-aggregation) with ``read_option``, the same parser.

Accepted forms: integers; booleans ``true``/``false`` (any case); durations in
Flink's syntax (``200``, ``0 ms``, ``1 s``, ``2min``, ``1 h``; a bare number is
milliseconds); memory sizes (``17``, ``64kb``, ``4 mb``, ``1g``, ``2MiB``; binary
units); runtime modes in any case; ``io.tmp.dirs`` separated by ``,``, ``|`` or the
path separator.
"""

from __future__ import annotations

import os
import re
from dataclasses import Field, dataclass, field, fields
from typing import Any, Callable, Mapping

from minicluster.common.execution_mode import RuntimeExecutionMode
from minicluster.errors import ConfigurationError
from minicluster.state.key_groups import DEFAULT_MAX_PARALLELISM

__all__ = ["ExecutionConfig", "read_option"]

# -- parsers: a str (or an already typed value) -> the value, or ValueError(reason) ----


def _integer(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("is not an integer")
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ValueError("is not an integer") from None
        if value < minimum:
            raise ValueError(f"must be >= {minimum}")
        return value

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError("must be 'true' or 'false'")
    return text == "true"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_DURATION_UNITS_MS = {
    "": 1, "ms": 1, "milli": 1, "millis": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "min": 60_000, "m": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
}


def _duration_ms(value: Any) -> int:
    """Milliseconds, from Flink's duration syntax (or an int of milliseconds)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION.match(str(value).lower())
    if match is None or match.group(2) not in _DURATION_UNITS_MS:
        raise ValueError("is not a duration; write e.g. '0 ms', '1 s' or '1 min'")
    return int(float(match.group(1)) * _DURATION_UNITS_MS[match.group(2)])


def _positive_duration_ms(value: Any) -> int:
    return max(1, _duration_ms(value))  # a zero-length window still means "now"


_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_SIZE_UNITS = {
    "": 1, "b": 1, "bytes": 1,
    "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "kibibytes": 1 << 10,
    "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "mebibytes": 1 << 20,
    "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "gibibytes": 1 << 30,
}


def _memory_size(value: Any) -> int:
    """Bytes, from a byte count or Flink's memory sizes (binary units)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    match = _SIZE.match(str(value))
    unit = match and _SIZE_UNITS.get(match.group(2).lower())
    if not unit or int(match.group(1)) < 1:
        raise ValueError(
            "is not a size >= 1 byte; write bytes or a memory size such as '4mb' or '512kb'"
        )
    return int(match.group(1)) * unit


def _runtime_mode(value: Any) -> RuntimeExecutionMode:
    if isinstance(value, RuntimeExecutionMode):
        return value
    try:
        return RuntimeExecutionMode[str(value).strip().upper()]
    except KeyError:
        raise ValueError("is not one of STREAMING, BATCH, AUTOMATIC") from None


def _one_of(what: str, choices: tuple[str, ...], aliases: Mapping[str, str] | None = None):
    aliases = aliases or {}

    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        text = aliases.get(text, text)
        if text not in choices:
            raise ValueError(f"is not a {what}; use {', '.join(choices[:-1])} or {choices[-1]}")
        return text

    return parse


def _directories(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        for separator in ("|", os.pathsep):
            value = value.replace(separator, ",")
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(d, str) for d in value):
        raise ValueError("is not a list of folders")
    return tuple(d.strip() for d in value if d.strip())


def _option(key: str, default: Any, parse: Callable[[Any], Any]) -> Any:
    return field(default=default, metadata={"key": key, "parse": parse})


# -- the configuration ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    """The engine's settings of one job, typed; build it with ``from_dict``.

    The constructor (and ``dataclasses.replace``) parses and validates every field as
    ``from_dict`` does, so an ``ExecutionConfig`` always holds usable values. Field
    comments give the key; ``docs/architecture.md`` has the table of keys.

    Raises:
        ConfigurationError: naming every key whose value cannot be used.
    """

    #: parallelism.default; None: the CPU count
    default_parallelism: int | None = _option("parallelism.default", None, _integer(1))
    #: pipeline.max-parallelism: key groups
    max_parallelism: int = _option("pipeline.max-parallelism", DEFAULT_MAX_PARALLELISM, _integer(1))
    #: taskmanager.count: TaskManagers of an embedded cluster; None: the CPU count
    taskmanager_count: int | None = _option("taskmanager.count", None, _integer(1))
    #: taskmanager.numberOfTaskSlots
    slots_per_taskmanager: int = _option("taskmanager.numberOfTaskSlots", 1, _integer(1))
    #: taskmanager.network.memory.buffers-per-channel: credit per channel, in batches
    buffers_per_channel: int = _option(
        "taskmanager.network.memory.buffers-per-channel", 4, _integer(1)
    )
    #: minicluster.batch-size: records per batch
    batch_size: int = _option("minicluster.batch-size", 4096, _integer(1))
    #: pipeline.auto-watermark-interval: ms between periodic watermarks (0: every batch)
    auto_watermark_interval_ms: int = _option("pipeline.auto-watermark-interval", 200, _duration_ms)
    #: execution.runtime-mode; the client resolves AUTOMATIC before it submits
    runtime_mode: RuntimeExecutionMode = _option(
        "execution.runtime-mode", RuntimeExecutionMode.STREAMING, _runtime_mode
    )
    #: minicluster.window.pre-aggregation
    window_pre_aggregation: bool = _option("minicluster.window.pre-aggregation", True, _boolean)
    #: minicluster.window.pre-aggregation.max-entries
    window_pre_aggregation_max_entries: int = _option(
        "minicluster.window.pre-aggregation.max-entries", 100_000, _integer(1)
    )
    #: minicluster.source.file.split-size: bytes per FileSource split
    file_split_size: int = _option("minicluster.source.file.split-size", 4 << 20, _memory_size)
    #: io.tmp.dirs: base folders of a BATCH job's spill folder; empty: chosen by size
    io_tmp_dirs: tuple[str, ...] = _option("io.tmp.dirs", (), _directories)
    #: minicluster.batch.combiner
    batch_combiner: bool = _option("minicluster.batch.combiner", True, _boolean)
    #: minicluster.batch.combiner.max-entries
    batch_combiner_max_entries: int = _option(
        "minicluster.batch.combiner.max-entries", 100_000, _integer(1)
    )
    #: minicluster.batch.sort-inputs
    batch_sort_inputs: bool = _option("minicluster.batch.sort-inputs", True, _boolean)
    #: minicluster.batch.sort.memory-records
    batch_sort_memory_records: int = _option(
        "minicluster.batch.sort.memory-records", 2_000_000, _integer(1)
    )
    #: restart-strategy.type: none, fixed-delay or failure-rate
    restart_strategy: str = _option(
        "restart-strategy.type", "none",
        _one_of("restart strategy", ("none", "fixed-delay", "failure-rate"), {
            "disable": "none", "off": "none", "no_restart": "none",
            "fixeddelay": "fixed-delay", "failurerate": "failure-rate",
        }),
    )
    #: restart-strategy.fixed-delay.attempts
    fixed_delay_attempts: int = _option("restart-strategy.fixed-delay.attempts", 1, _integer(0))
    #: restart-strategy.fixed-delay.delay
    fixed_delay_ms: int = _option("restart-strategy.fixed-delay.delay", 0, _duration_ms)
    #: restart-strategy.failure-rate.max-failures-per-interval
    failure_rate_max_failures: int = _option(
        "restart-strategy.failure-rate.max-failures-per-interval", 1, _integer(1)
    )
    #: restart-strategy.failure-rate.failure-rate-interval
    failure_rate_interval_ms: int = _option(
        "restart-strategy.failure-rate.failure-rate-interval", 60_000, _positive_duration_ms
    )
    #: restart-strategy.failure-rate.delay
    failure_rate_delay_ms: int = _option("restart-strategy.failure-rate.delay", 0, _duration_ms)
    #: jobmanager.execution.failover-strategy: region or full
    failover_strategy: str = _option(
        "jobmanager.execution.failover-strategy", "region",
        _one_of("failover strategy", ("region", "full")),
    )
    #: names this submission (set by ``submit``): a re-run FileSink subtask finds the
    #: part files of its earlier attempts by it
    job_uuid: str | None = None
    #: every key as given, unknown ones included, for user code
    raw: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[tuple[str, object, str]] = []
        for option in _OPTIONS:
            value = getattr(self, option.name)
            if value is None and option.default is None:
                continue  # unset, resolved where it is used (the CPU count)
            try:
                object.__setattr__(self, option.name, option.metadata["parse"](value))
            except ValueError as error:
                problems.append((option.metadata["key"], value, str(error)))
        if problems:
            raise ConfigurationError(problems)

    @classmethod
    def from_dict(cls, config: Mapping[str, object]) -> ExecutionConfig:
        """Parse a job's ``{key: value}`` settings (values as strings, or formatted
        with ``str``); keys that are not the engine's are kept in ``raw`` only.

        Raises:
            ConfigurationError: naming every key whose value cannot be used.
        """
        raw = {str(key): str(value) for key, value in config.items()}
        given = {
            option.name: raw[option.metadata["key"]]
            for option in _OPTIONS
            if option.metadata["key"] in raw
        }
        return cls(raw=raw, **given)

    @property
    def is_batch(self) -> bool:
        """True when the job runs in BATCH mode (stage by stage, blocking exchanges)."""
        return self.runtime_mode is RuntimeExecutionMode.BATCH


_OPTIONS: tuple[Field, ...] = tuple(f for f in fields(ExecutionConfig) if "key" in f.metadata)
_BY_KEY: dict[str, Field] = {f.metadata["key"]: f for f in _OPTIONS}


def read_option(config: Mapping[str, object], key: str) -> Any:
    """One engine key's value in ``config``, parsed as ``ExecutionConfig`` does, or its
    default (for the API, which reads a few keys while the graph is being built).

    Raises:
        ConfigurationError: the value cannot be used.
        KeyError: ``key`` is not an engine key.
    """
    option = _BY_KEY[key]
    raw = config.get(key)
    if raw is None:
        return option.default
    try:
        return option.metadata["parse"](str(raw))
    except ValueError as error:
        raise ConfigurationError([(key, str(raw), str(error))]) from None
