"""Submitting a StreamGraph: compile, check slots, ship, and hand back a JobRun.

Everything that can be wrong with the program itself (graph, parallelism, slots,
unpicklable functions, missing input files) is found here, before any process is
forked.

The client parses the job's configuration into an ``ExecutionConfig`` (a bad value
fails there, naming the key) and resolves ``execution.runtime-mode`` (AUTOMATIC ->
BATCH or STREAMING) before it submits; here BATCH selects stage-by-stage scheduling.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from minicluster.common.execution_config import ExecutionConfig
from minicluster.graph.job_graph import compile_job_graph
from minicluster.graph.stream_graph import StreamGraph
from minicluster.jobmanager.cluster import MiniCluster, active_cluster
from minicluster.jobmanager.deployment import build_deployment
from minicluster.jobmanager.job_run import JobRun
from minicluster.jobmanager.source_coordinator import SourceCoordinator


def submit(graph: StreamGraph, config: ExecutionConfig) -> JobRun:
    # Names this submission for its attempts (a re-run FileSink subtask replaces the
    # part files of its earlier attempt, found by this id).
    config = replace(config, job_uuid=str(uuid.uuid4()))
    job_graph = compile_job_graph(graph)
    # Split sources list their input now: a missing path fails in the client.
    source_coordinator = SourceCoordinator.for_job(graph, job_graph, config)
    cluster = active_cluster()
    owns_cluster = cluster is None
    if cluster is None:
        cluster = MiniCluster.from_configuration(config)
    deployment, payload = build_deployment(
        graph,
        job_graph,
        cluster.taskmanager_count,
        cluster.slots_per_taskmanager,
        config,
    )
    return JobRun(
        cluster, graph.job_name, deployment, payload, owns_cluster, source_coordinator
    )
