"""A bad configuration value fails the submission, in the client, before any process
starts: also for the keys that used to be read only inside a TaskManager (where a bad
value failed a task, or was silently taken as the default)."""

from __future__ import annotations

import glob
import os
import re
import tempfile

import psutil
import pytest

from minicluster.datastream import StreamExecutionEnvironment
from minicluster.errors import ConfigurationError
from minicluster.jobmanager.cluster import MiniCluster


def _no_start(cluster: MiniCluster) -> None:
    raise AssertionError("the cluster was started")


def batch_job(config: dict[str, str]) -> StreamExecutionEnvironment:
    """A keyed BATCH sum at parallelism 2 (combiner, grouped input, spill folder)."""
    env = StreamExecutionEnvironment.get_execution_environment(
        {"execution.runtime-mode": "BATCH", "taskmanager.count": "2", **config}
    )
    env.set_parallelism(2)
    env.from_collection([("a", 1), ("b", 2), ("a", 3)]).key_by(lambda v: v[0]).sum(1).print()
    return env


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def runtime_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "minicluster-*")))


@pytest.mark.parametrize(
    ("key", "raw", "reason"),
    [
        ("pipeline.auto-watermark-interval", "soon", "is not a duration"),
        ("minicluster.window.pre-aggregation.max-entries", "0", "must be >= 1"),
        ("minicluster.batch.combiner.max-entries", "many", "is not an integer"),
        ("minicluster.batch.sort.memory-records", "2M", "is not an integer"),
        ("minicluster.batch.sort-inputs", "maybe", "must be 'true' or 'false'"),
    ],
)
def test_a_key_once_read_in_a_taskmanager_fails_at_submit(monkeypatch, key, raw, reason):
    monkeypatch.setattr(MiniCluster, "start", _no_start)
    env = batch_job({key: raw})
    before_children, before_folders = children(), runtime_folders()

    with pytest.raises(
        ConfigurationError, match=re.escape(f"configuration {key}={raw!r} {reason}")
    ):
        env.execute("badly configured")

    assert children() == before_children
    assert runtime_folders() == before_folders


def test_a_good_configuration_gets_as_far_as_starting_the_cluster(monkeypatch):
    """The control: without a bad value, the same job reaches ``MiniCluster.start``."""
    monkeypatch.setattr(MiniCluster, "start", _no_start)
    env = batch_job({"minicluster.batch.sort-inputs": "FALSE", "io.tmp.dirs": ""})

    with pytest.raises(AssertionError, match="the cluster was started"):
        env.execute("well configured")


def test_every_bad_value_is_named_at_once_before_any_process_starts():
    before = children()
    env = StreamExecutionEnvironment.get_execution_environment({
        "taskmanager.count": "2",
        "pipeline.auto-watermark-interval": "soon",
        "restart-strategy.type": "often",
    })
    env.from_collection([1, 2, 3]).map(lambda v: v + 1).print()

    with pytest.raises(ConfigurationError) as raised:
        env.execute("badly configured")

    assert [key for key, _, _ in raised.value.problems] == [
        "pipeline.auto-watermark-interval", "restart-strategy.type",
    ]
    assert children() == before
