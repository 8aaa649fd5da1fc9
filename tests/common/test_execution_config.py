"""ExecutionConfig: every engine key's default, a valid value and a bad one named in the
error; formats (durations, memory sizes, folders, modes); one error for every bad
value; unknown keys kept for user code. Without processes."""

from __future__ import annotations

import dataclasses
import pickle
import re

import pytest

from minicluster.common.execution_config import ExecutionConfig, read_option
from minicluster.common.execution_mode import RuntimeExecutionMode
from minicluster.errors import ConfigurationError, InvalidProgramError

# key, field, default, (a valid value, what it parses to), (a bad value, the reason)
KEYS = [
    ("parallelism.default", "default_parallelism", None, ("3", 3), ("0", "must be >= 1")),
    ("pipeline.max-parallelism", "max_parallelism", 128, ("256", 256),
     ("many", "is not an integer")),
    ("taskmanager.count", "taskmanager_count", None, ("2", 2), ("-1", "must be >= 1")),
    ("taskmanager.numberOfTaskSlots", "slots_per_taskmanager", 1, ("4", 4),
     ("two", "is not an integer")),
    ("taskmanager.network.memory.buffers-per-channel", "buffers_per_channel", 4, ("8", 8),
     ("0", "must be >= 1")),
    ("minicluster.batch-size", "batch_size", 4096, (" 64 ", 64),
     ("1.5", "is not an integer")),
    ("pipeline.auto-watermark-interval", "auto_watermark_interval_ms", 200, ("2 s", 2000),
     ("soon", "is not a duration; write e.g. '0 ms', '1 s' or '1 min'")),
    ("execution.runtime-mode", "runtime_mode", RuntimeExecutionMode.STREAMING,
     ("batch", RuntimeExecutionMode.BATCH),
     ("fast", "is not one of STREAMING, BATCH, AUTOMATIC")),
    ("minicluster.window.pre-aggregation", "window_pre_aggregation", True, ("FALSE", False),
     ("maybe", "must be 'true' or 'false'")),
    ("minicluster.window.pre-aggregation.max-entries", "window_pre_aggregation_max_entries",
     100_000, ("5", 5), ("0", "must be >= 1")),
    ("minicluster.source.file.split-size", "file_split_size", 4 << 20, ("64kb", 64 << 10),
     ("4 parsecs", "is not a size >= 1 byte; write bytes or a memory size such as '4mb'")),
    ("io.tmp.dirs", "io_tmp_dirs", (), ("/a, /b|/c", ("/a", "/b", "/c")), None),
    ("minicluster.batch.combiner", "batch_combiner", True, ("false", False),
     ("no", "must be 'true' or 'false'")),
    ("minicluster.batch.combiner.max-entries", "batch_combiner_max_entries", 100_000,
     ("3", 3), ("0", "must be >= 1")),
    ("minicluster.batch.sort-inputs", "batch_sort_inputs", True, ("False", False),
     ("off", "must be 'true' or 'false'")),
    ("minicluster.batch.sort.memory-records", "batch_sort_memory_records", 2_000_000,
     ("60", 60), ("lots", "is not an integer")),
    ("restart-strategy.type", "restart_strategy", "none", ("Fixed-Delay", "fixed-delay"),
     ("often", "is not a restart strategy; use none, fixed-delay or failure-rate")),
    ("restart-strategy.fixed-delay.attempts", "fixed_delay_attempts", 1, ("0", 0),
     ("-1", "must be >= 0")),
    ("restart-strategy.fixed-delay.delay", "fixed_delay_ms", 0, ("1 min", 60_000),
     ("soon", "is not a duration")),
    ("restart-strategy.failure-rate.max-failures-per-interval", "failure_rate_max_failures",
     1, ("3", 3), ("0", "must be >= 1")),
    ("restart-strategy.failure-rate.failure-rate-interval", "failure_rate_interval_ms",
     60_000, ("10 s", 10_000), ("a while", "is not a duration")),
    ("restart-strategy.failure-rate.delay", "failure_rate_delay_ms", 0, ("250", 250),
     ("1 fortnight", "is not a duration")),
    ("jobmanager.execution.failover-strategy", "failover_strategy", "region",
     (" FULL ", "full"), ("some", "is not a failover strategy; use region or full")),
]
BAD = [(key, name, bad) for key, name, _, _, bad in KEYS if bad is not None]


def test_every_engine_key_is_tested_here():
    declared = {
        f.metadata["key"]: f.name for f in dataclasses.fields(ExecutionConfig) if f.metadata
    }
    assert declared == {key: name for key, name, *_ in KEYS}


@pytest.mark.parametrize(("key", "name", "default"), [k[:3] for k in KEYS])
def test_the_default(key, name, default):
    assert getattr(ExecutionConfig.from_dict({}), name) == default
    assert getattr(ExecutionConfig(), name) == default
    assert read_option({}, key) == default


@pytest.mark.parametrize(("key", "name", "valid"), [(k[0], k[1], k[3]) for k in KEYS])
def test_a_valid_value(key, name, valid):
    raw, parsed = valid
    assert getattr(ExecutionConfig.from_dict({key: raw}), name) == parsed
    assert read_option({key: raw}, key) == parsed


@pytest.mark.parametrize(("key", "name", "bad"), BAD)
def test_a_bad_value_is_named_with_the_key(key, name, bad):
    raw, reason = bad
    expected = f"configuration {key}={raw!r} {reason}"
    with pytest.raises(ConfigurationError, match=re.escape(expected)) as raised:
        ExecutionConfig.from_dict({key: raw})
    assert (raised.value.key, raised.value.value) == (key, raw)
    with pytest.raises(ConfigurationError, match=re.escape(expected)):
        read_option({key: raw}, key)


def test_the_error_is_a_value_error_of_an_invalid_program():
    with pytest.raises(ConfigurationError) as raised:
        ExecutionConfig.from_dict({"minicluster.batch-size": "0"})
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, InvalidProgramError)


def test_every_bad_value_is_named_in_one_error():
    bad = [(key, value) for key, _, value in BAD if key != "minicluster.batch-size"]
    with pytest.raises(ConfigurationError) as raised:
        ExecutionConfig.from_dict(
            {"minicluster.batch-size": "64", **{key: raw for key, (raw, _) in bad}}
        )
    error = raised.value
    assert [key for key, _, _ in error.problems] == [key for key, _ in bad]
    assert str(error).startswith(f"{len(bad)} bad configuration values:\n  configuration ")
    for key, (raw, reason) in bad:
        assert f"configuration {key}={raw!r} {reason}" in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.problems) == (str(error), error.problems)


def test_unknown_keys_pass_through_for_user_code():
    config = ExecutionConfig.from_dict({"my.job.threshold": 3, "minicluster.batch-size": "64"})
    assert config.raw == {"my.job.threshold": "3", "minicluster.batch-size": "64"}
    assert config.batch_size == 64


@pytest.mark.parametrize(
    ("raw", "ms"),
    [("0", 0), ("0 ms", 0), ("250", 250), ("200ms", 200), ("1 s", 1000), ("2min", 120_000),
     ("1.5 s", 1500), ("1 h", 3_600_000), ("3 Seconds", 3000)],
)
def test_durations_follow_flinks_syntax(raw, ms):
    assert read_option({"pipeline.auto-watermark-interval": raw},
                       "pipeline.auto-watermark-interval") == ms


def test_a_zero_failure_rate_interval_is_one_millisecond():
    config = ExecutionConfig.from_dict(
        {"restart-strategy.failure-rate.failure-rate-interval": "0 ms"}
    )
    assert config.failure_rate_interval_ms == 1


@pytest.mark.parametrize(
    ("raw", "size"),
    [("17", 17), ("64kb", 64 << 10), ("4 mb", 4 << 20), ("1g", 1 << 30), ("2MiB", 2 << 20)],
)
def test_split_sizes_are_bytes_or_memory_sizes(raw, size):
    config = ExecutionConfig.from_dict({"minicluster.source.file.split-size": raw})
    assert config.file_split_size == size


@pytest.mark.parametrize("raw", ["0", "-1", "4 parsecs", "", "1.5mb"])
def test_a_bad_split_size_is_named(raw):
    with pytest.raises(ConfigurationError, match="minicluster.source.file.split-size"):
        ExecutionConfig.from_dict({"minicluster.source.file.split-size": raw})


@pytest.mark.parametrize(
    ("raw", "kind"),
    [("disable", "none"), ("off", "none"), ("fixeddelay", "fixed-delay"),
     ("FailureRate", "failure-rate")],
)
def test_restart_strategy_aliases(raw, kind):
    assert ExecutionConfig.from_dict({"restart-strategy.type": raw}).restart_strategy == kind


def test_io_tmp_dirs_separators_and_blanks():
    config = ExecutionConfig.from_dict({"io.tmp.dirs": " /a ,, /b"})
    assert config.io_tmp_dirs == ("/a", "/b")
    assert ExecutionConfig.from_dict({"io.tmp.dirs": ""}).io_tmp_dirs == ()


def test_the_constructor_validates_typed_values_too():
    with pytest.raises(ConfigurationError, match=r"configuration minicluster.batch-size=0 must"):
        ExecutionConfig(batch_size=0)
    with pytest.raises(ConfigurationError, match="io.tmp.dirs=5 is not a list of folders"):
        ExecutionConfig(io_tmp_dirs=5)
    with pytest.raises(ConfigurationError, match="batch-size=True is not an integer"):
        ExecutionConfig(batch_size=True)
    config = ExecutionConfig(io_tmp_dirs=["/x"], file_split_size=5)
    assert (config.io_tmp_dirs, config.file_split_size) == (("/x",), 5)


def test_replace_keeps_the_parsed_values_and_the_raw_keys():
    config = ExecutionConfig.from_dict({"execution.runtime-mode": "automatic", "k": "v"})
    resolved = dataclasses.replace(config, runtime_mode=RuntimeExecutionMode.BATCH)
    assert resolved.is_batch and not config.is_batch
    assert resolved.raw == {"execution.runtime-mode": "automatic", "k": "v"}


def test_it_pickles_for_the_taskmanagers():
    config = dataclasses.replace(
        ExecutionConfig.from_dict({"io.tmp.dirs": "/a", "x": "y"}), job_uuid="id"
    )
    assert pickle.loads(pickle.dumps(config)) == config


def test_read_option_refuses_a_key_that_is_not_the_engines():
    with pytest.raises(KeyError):
        read_option({}, "my.job.threshold")
