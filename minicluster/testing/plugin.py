"""pytest plugin: one cluster per test session, reused by every job a test runs.

Installed through the ``pytest11`` entry point, so the fixtures exist in any project
that has minicluster installed:

    def test_my_job(stream_env):
        stream_env.from_collection([1, 2]).map(lambda x: x * 2).print()
        stream_env.execute()

The session cluster starts on first use (2 TaskManagers x 2 slots unless the ini
options ``minicluster_taskmanagers`` / ``minicluster_slots`` say otherwise) and
stops, leaving no process or socket file, when the session ends.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from minicluster.jobmanager.cluster import MiniCluster


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("minicluster_taskmanagers", "TaskManagers of the session cluster", default="2")
    parser.addini("minicluster_slots", "slots per TaskManager of the session cluster", default="2")


@pytest.fixture(scope="session")
def minicluster_session_cluster(pytestconfig: pytest.Config) -> Iterator[MiniCluster]:
    """The cluster shared by the whole test session (started once)."""
    cluster = MiniCluster(
        taskmanagers=int(pytestconfig.getini("minicluster_taskmanagers")),
        slots_per_taskmanager=int(pytestconfig.getini("minicluster_slots")),
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def minicluster_cluster(minicluster_session_cluster: MiniCluster) -> Iterator[MiniCluster]:
    """The session cluster, active for this test: every ``execute()`` runs on it."""
    if minicluster_session_cluster.broken:
        pytest.fail(f"the session cluster is unusable: {minicluster_session_cluster.broken}")
    with minicluster_session_cluster.activate():
        yield minicluster_session_cluster


@pytest.fixture
def stream_env(minicluster_cluster: MiniCluster):
    """A fresh ``StreamExecutionEnvironment`` that executes on the session cluster."""
    from minicluster.datastream import StreamExecutionEnvironment

    return StreamExecutionEnvironment.get_execution_environment()
