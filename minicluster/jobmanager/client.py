"""Submitting a StreamGraph: compile, check slots, ship, and hand back a JobRun.

Everything that can be wrong with the program itself (graph, parallelism, slots,
unpicklable functions, missing input files) is found here, before any process is
forked.

The client resolves ``execution.runtime-mode`` (AUTOMATIC -> BATCH or STREAMING)
before it submits; here ``BATCH`` selects stage-by-stage scheduling.
"""

from __future__ import annotations

import uuid

from minicluster.graph.job_graph import compile_job_graph
from minicluster.graph.stream_graph import StreamGraph
from minicluster.jobmanager.cluster import MiniCluster, active_cluster
from minicluster.jobmanager.deployment import build_deployment
from minicluster.jobmanager.job_run import JobRun
from minicluster.jobmanager.restart_strategy import RestartStrategyConfig
from minicluster.jobmanager.source_coordinator import SourceCoordinator

JOB_UUID_KEY = "minicluster.job.uuid"


def submit(graph: StreamGraph, config: dict[str, str]) -> JobRun:
    RestartStrategyConfig.from_config(config)  # a bad restart-strategy.* fails here
    # Names this submission for its attempts (a re-run FileSink subtask replaces the
    # part files of its earlier attempt, found by this id).
    config = {**config, JOB_UUID_KEY: str(uuid.uuid4())}
    job_graph = compile_job_graph(graph)
    # Split sources list their input now: a missing path fails in the client.
    source_coordinator = SourceCoordinator.for_job(graph, job_graph, config)
    cluster = active_cluster()
    owns_cluster = cluster is None
    if cluster is None:
        cluster = MiniCluster.from_configuration(config)
    batch_size = int(config["minicluster.batch-size"])
    if batch_size < 1:
        raise ValueError(f"minicluster.batch-size must be >= 1, got {batch_size}")
    deployment, payload = build_deployment(
        graph,
        job_graph,
        cluster.taskmanager_count,
        cluster.slots_per_taskmanager,
        batch_size,
        config,
        batch=config.get("execution.runtime-mode") == "BATCH",
    )
    return JobRun(
        cluster, graph.job_name, deployment, payload, owns_cluster, source_coordinator
    )
