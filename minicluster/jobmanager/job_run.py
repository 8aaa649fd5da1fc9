"""JobRun: one job's life on a cluster, from deploy to the last result.

    Deploy(all TMs) -> wait Deployed(all) -> Start(all)
    -> until every subtask reported TaskFinished:
         Output     -> written to the client's sys.stdout / sys.stderr
         Collected  -> records yielded to execute_and_collect's iterator
         RequestSplit -> the source's split enumerator answers AssignSplit (an
                       unbounded source's request may wait for its next discovery:
                       the loop waits for messages at most until then)
         TaskFailed -> cancel everywhere, raise JobExecutionError (cause: the
                       user's traceback)
         TM died    -> cancel the rest, raise TaskManagerLostError
    -> Release(all)

Ctrl-C (KeyboardInterrupt) or closing the result iterator early cancels the job the
same way; the cluster is stopped afterwards if the run owns it.

BATCH mode runs the same protocol once per stage:

    spill folder created (io.tmp.dirs)
    for each pipelined region, once all the regions it consumes have finished:
        for each wave of the region (at most `total slots` subtask slices):
            Deploy(stage: the wave's subtasks, their attempts, the descriptors of
                   their inputs) to the TaskManagers that run them
            -> Deployed -> Start, per TaskManager -> TaskFinished(partitions) per subtask
    -> Release(all); the spill folder is removed (also after a failure or cancel)

    subtasks of a wave fail (TaskFailed, or their TaskManager died)
        -> restart strategy allows? no: Cancel(all), the job fails with that error
        -> yes, and failover.regions_to_restart says FAILED_SUBTASKS (the region
           strategy, the usual case): the other subtasks keep running and being
           served (splits, results, TaskFinished); fork a replacement of a dead
           TaskManager, give the failed subtasks' splits back to the enumerator, and
           once the restart delay has passed deploy them again (their next attempt,
           same TaskManager, same stage inputs), as ``attempts.StageAttempts`` says
        -> yes, otherwise: Cancel(all), fork replacements, wait the delay, re-run the
           failed region's unfinished subtasks (a failed deploy), or, for a
           lost/corrupt input partition, its producer region and all downstream in
           full (backtracking), or everything (``full``)

Every message about a subtask names its attempt; one of an attempt that no longer
runs (sent by a killed TaskManager before it died, read after) is ignored.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from typing import Iterator

from minicluster.common.job_execution_result import RegionStats
from minicluster.errors import JobExecutionError, RemoteTraceback, TaskManagerLostError
from minicluster.jobmanager.attempts import StageAttempts, Subtask
from minicluster.jobmanager.cluster import MiniCluster, TaskManagerDied
from minicluster.graph.regions import PipelinedRegion, pipelined_regions
from minicluster.jobmanager.failover import PARTITION_ERRORS, regions_to_restart
from minicluster.jobmanager.restart_strategy import RestartStrategy
from minicluster.jobmanager.batch_scheduler import ready_regions, region_waves
from minicluster.jobmanager.deployment import Deployment, Stage
from minicluster.jobmanager.scheduler import Assignment
from minicluster.network.grouped_input import delete_sort_runs, sort_run_prefix
from minicluster.network.spill_partition import (
    PartitionDescriptor,
    attempt_partition_id,
    data_file_path,
    delete_partition,
)
from minicluster.network.spill_directory import SpillDirectory, create_spill_directory
from minicluster.jobmanager.source_coordinator import SourceCoordinator
from minicluster.slots import messages as msg

CANCEL_TIMEOUT_S = 5.0
INTERRUPT_AFTER_S = 0.2


class _RegionRestart(Exception):
    """Internal: a BATCH failure the restart strategy allows whose re-run needs every
    running subtask cancelled first; ``rerun``: the regions that re-run in full."""

    def __init__(self, failure: BaseException, rerun: set[int]) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.rerun = rerun


class JobRun:
    def __init__(
        self,
        cluster: MiniCluster,
        job_name: str,
        deployment: Deployment,
        payload: bytes,
        owns_cluster: bool,
        source_coordinator: SourceCoordinator | None = None,
    ) -> None:
        self.cluster = cluster
        self.source_coordinator = source_coordinator or SourceCoordinator()
        self.job_name = job_name
        self.deployment = deployment
        self.payload = payload
        self.owns_cluster = owns_cluster
        self.job_seq = -1
        self.net_runtime_ms = 0
        #: BATCH: the job's spill folder while it runs (removed when the job ends).
        self.spill_dir: SpillDirectory | None = None
        #: BATCH: ``(job edge id, producer subtask) -> PartitionDescriptor``.
        self.partitions: dict[tuple[int, int], PartitionDescriptor] = {}
        #: BATCH: the stages deployed so far, in order: the waves, and the failed
        #: subtasks deployed again (failed attempts included).
        self.stages: list[Stage] = []
        #: BATCH: the job's pipelined regions, once it runs.
        self.regions: tuple[PipelinedRegion, ...] | None = None
        #: BATCH: per region, 1 + the failovers that deployed any of its subtasks again.
        self._attempts: dict[int, int] = {}
        #: per subtask, the number of its latest attempt (0 first).
        self._subtask_attempts: dict[Subtask, int] = {}
        #: BATCH: per region, its finished subtasks' records in.
        self._done: dict[int, dict[Subtask, int]] = {}
        #: subtasks whose records reached the client (never re-run: no duplicates).
        self._delivered: set[Subtask] = set()
        self._restart: RestartStrategy | None = None

    def run(self) -> Iterator[object]:
        """Run the job; yields the records of its collect sinks as they arrive."""
        cluster = self.cluster
        started = time.monotonic()
        if self.owns_cluster:
            try:  # started here, not at submit: an iterator never read leaks nothing
                cluster.start()
            except BaseException:
                cluster.stop()
                raise
        try:
            self.job_seq = cluster.begin_job(self.job_name)
        except BaseException:
            if self.owns_cluster:
                cluster.stop()
            raise
        try:
            if self.deployment.batch:
                self.spill_dir = create_spill_directory(
                    self.deployment.config.io_tmp_dirs,
                    size_estimate=self.source_coordinator.input_bytes(),
                )
            yield from self._supervise()
            cluster.broadcast(msg.Release(self.job_seq))
        except TaskManagerDied as died:
            self._cancel()
            self._replace_dead_taskmanagers()
            raise TaskManagerLostError(
                f"Job {self.job_name!r} failed: {died} while the job was running",
                job_name=self.job_name,
            ) from None
        except BaseException as error:  # a failure, Ctrl-C, an early close(), a broken stdout
            self._cancel()
            if isinstance(error, Exception):  # not on Ctrl-C: no new process then
                self._replace_dead_taskmanagers()
            raise
        finally:
            self.net_runtime_ms = int((time.monotonic() - started) * 1000)
            if self.spill_dir is not None:  # after the cancel: no task writes any more
                self.spill_dir.cleanup()
            cluster.end_job()
            if self.owns_cluster:
                cluster.stop()

    def _supervise(self) -> Iterator[object]:
        if self.deployment.batch:
            yield from self._supervise_batch()
        else:
            yield from self._run_streaming()

    def _run_streaming(self) -> Iterator[object]:
        """Deploy every subtask, start them once every TaskManager has their channels,
        serve them until all finished; any failure fails the job."""
        cluster, seq = self.cluster, self.job_seq
        attempts = StageAttempts(self._subtask_attempts)
        attempts.deploy(self.deployment.assignment)
        cluster.broadcast(msg.Deploy(seq, self.payload))
        deployed: set[int] = set()
        while len(deployed) < cluster.taskmanager_count:
            for message in cluster.receive(None):
                if isinstance(message, msg.Deployed) and message.job_seq == seq:
                    deployed.add(message.tm_index)
                elif isinstance(message, msg.TaskFailed) and message.job_seq == seq:
                    raise self._failure(message)
                else:
                    self._handle_other(message)
        cluster.broadcast(msg.Start(seq))
        yield from self._serve(attempts)

    def _supervise_batch(self) -> Iterator[object]:
        """Run the pipelined regions one after another, each in waves; on a failure,
        re-run what the failover strategy says, as long as the restart strategy allows.

        A failed subtask re-runs alone while its siblings keep running (``_serve``).
        A failure that needs more lands here (``_RegionRestart``): everything is
        cancelled, and a region is "done" subtask by subtask: a retry of a region that
        failed on its own re-runs only the subtasks that had not finished (their
        inputs are intact, and a finished sink subtask's committed files must not be
        written twice)."""
        cluster = self.cluster
        job_graph = self.deployment.execution_graph.job_graph
        regions = self.regions = pipelined_regions(job_graph)
        restart = self._restart = RestartStrategy(self.deployment.config)
        self._attempts = {r.id: 0 for r in regions}
        self._done = {r.id: {} for r in regions}  # (vertex, subtask) -> records in
        fresh = {r.id for r in regions}  # regions whose next run is a new attempt
        finished: set[int] = set()
        while len(finished) < len(regions):
            region = ready_regions(regions, finished, set())[0]
            if region.id in fresh:
                fresh.discard(region.id)
                self._attempts[region.id] += 1
            try:
                yield from self._run_region(region)
            except _RegionRestart as signal:
                failure, rerun = signal.failure, signal.rerun
            else:
                finished.add(region.id)
                continue
            self._cancel()
            for region_id in rerun:
                self._discard_output(regions[region_id])
                finished.discard(region_id)
            again = self._unfinished_subtasks(rerun | {region.id})
            if self._delivered & again:
                raise failure  # records reached the client already: a re-run would repeat them
            if cluster.broken and not cluster.dead_taskmanagers():
                raise failure  # TaskManagers had to be killed on cancel
            for index in cluster.dead_taskmanagers():
                cluster.replace_taskmanager(index, self._handle_other)
            if cluster.broken:
                raise failure
            self.source_coordinator.return_splits(again)
            fresh |= rerun | {region.id}
            self._wait(restart.backoff_s)

    def _run_region(self, region: PipelinedRegion) -> Iterator[object]:
        """Run the waves of ``region``, skipping the subtasks already done."""
        cluster = self.cluster
        job_graph = self.deployment.execution_graph.job_graph
        in_edges = {
            e.id for e in job_graph.edges
            if e.target_vertex in region.vertices and e.source_vertex not in region.vertices
        }
        inputs = {key: d for key, d in self.partitions.items() if key[0] in in_edges}
        done = self._done[region.id]
        for wave in region_waves(
            job_graph, region, cluster.taskmanager_count, cluster.slots_per_taskmanager
        ):
            wave = {subtask: tm for subtask, tm in wave.items() if subtask not in done}
            if wave:
                attempts = StageAttempts(self._subtask_attempts)
                attempts.schedule(wave, time.monotonic())  # at once
                yield from self._serve(attempts, region, inputs)

    def _serve(
        self,
        attempts: StageAttempts,
        region: PipelinedRegion | None = None,
        inputs: dict[tuple[int, int], PartitionDescriptor] | None = None,
    ) -> Iterator[object]:
        """Serve the running subtasks until every one finished.

        BATCH (``region`` given): deploy what ``attempts`` schedules, start each
        TaskManager's tasks when it answers, and hand failures to ``_on_failure``.
        STREAMING: every subtask is running; any failure fails the job."""
        cluster, seq = self.cluster, self.job_seq
        coordinator = self.source_coordinator
        backlog: list[object] = []  # what arrived while a TaskManager was being replaced
        while not attempts.done:
            due = attempts.due(time.monotonic())
            if due:
                self._deploy(region, inputs, attempts, due)
            for answer in coordinator.discover_due():  # unbounded sources' new splits
                if self._is_current(answer, attempts):
                    subtask = (answer.vertex_id, answer.subtask_index)
                    cluster.send(attempts.taskmanager_of(subtask), answer)
                else:  # the asking attempt ended meanwhile: someone else reads it
                    coordinator.take_back(answer)
            if backlog:
                messages, backlog = backlog, []
            else:
                try:
                    messages = cluster.receive(self._receive_timeout(attempts))
                except TaskManagerDied as died:
                    if region is None:
                        raise
                    death = died
                else:
                    death = None
                if death is not None:  # out of the except: a TaskManager forked there
                    # would inherit the exception being handled as every error's context
                    lost = attempts.lose(death.tm_index)
                    self._on_failure(region, attempts, death, lost, backlog)
                    continue
            for message in messages:
                if isinstance(message, msg.Collected):
                    if self._is_current(message, attempts):
                        self._delivered.add((message.vertex_id, message.subtask_index))
                        yield from pickle.loads(message.payload)
                        cluster.send(message.tm_index, msg.CollectCredit(seq, message.channel_id, 1))
                elif isinstance(message, msg.RequestSplit):
                    if self._is_current(message, attempts):
                        answer = coordinator.assign(message)
                        if answer is not None:  # None: it waits for a discovery
                            subtask = (message.vertex_id, message.subtask_index)
                            cluster.send(attempts.taskmanager_of(subtask), answer)
                elif isinstance(message, msg.TaskFinished):
                    if self._is_current(message, attempts):
                        subtask = (message.vertex_id, message.subtask_index)
                        attempts.end(subtask)
                        if region is not None:
                            self._done[region.id][subtask] = message.records_in
                        for edge_id, subtask_index, descriptor in message.partitions:
                            self.partitions[(edge_id, subtask_index)] = descriptor
                elif isinstance(message, msg.TaskFailed):
                    if message.job_seq != seq:
                        continue
                    if region is None:
                        raise self._failure(message)
                    if message.subtask_index < 0:  # a deploy: which subtasks is unknown
                        self._on_failure(region, attempts, self._failure(message), {}, backlog,
                                         subtasks_known=False)
                    elif self._is_current(message, attempts):
                        subtask = (message.vertex_id, message.subtask_index)
                        failed = {subtask: attempts.end(subtask)}
                        self._on_failure(region, attempts, self._failure(message), failed,
                                         backlog)
                elif isinstance(message, msg.Deployed):
                    if message.job_seq == seq and message.tm_index in cluster.live_taskmanagers():
                        cluster.send(message.tm_index, msg.Start(seq))
                else:
                    self._handle_other(message)

    def _receive_timeout(self, attempts: StageAttempts) -> float | None:
        """How long to wait for messages: until the next scheduled re-deployment or the
        next discovery of an unbounded source, whichever comes first (None: no limit)."""
        now = time.monotonic()
        deadline = self.source_coordinator.next_deadline()
        waits = [attempts.timeout(now), None if deadline is None else max(0.0, deadline - now)]
        return min((w for w in waits if w is not None), default=None)

    def _is_current(self, message: object, attempts: StageAttempts) -> bool:
        """Is ``message`` about a running attempt of this job (not a dead one's)?"""
        return message.job_seq == self.job_seq and attempts.is_current(
            message.vertex_id, message.subtask_index, message.attempt
        )

    def _deploy(
        self,
        region: PipelinedRegion,
        inputs: dict[tuple[int, int], PartitionDescriptor],
        attempts: StageAttempts,
        assignment: Assignment,
    ) -> None:
        """BATCH: deploy the next attempt of ``assignment``'s subtasks, as one Stage,
        to the TaskManagers that run them (beside what runs there already)."""
        numbers = attempts.deploy(assignment)
        stage = Stage(
            len(self.stages), region.id, assignment, inputs, self.spill_dir.path,
            {subtask: number for subtask, number in numbers.items() if number},
        )
        self.stages.append(stage)
        self.cluster.broadcast(
            msg.Deploy(self.job_seq, self.payload, stage), to=set(assignment.values())
        )

    def _on_failure(
        self,
        region: PipelinedRegion,
        attempts: StageAttempts,
        failure: BaseException,
        failed: Assignment,
        backlog: list[object],
        subtasks_known: bool = True,
    ) -> None:
        """A failure during a stage of ``region`` that ended the attempts of ``failed``
        (subtask -> its TaskManager). When the strategies allow, ``failed`` runs again
        alone after the restart delay (a dead TaskManager replaced first, the failed
        subtasks' splits given back); their siblings keep running meanwhile.

        Raises:
            the failure: the job fails (no restart left, the failed subtasks' records
                reached the client, or a TaskManager could not be replaced).
            _RegionRestart: a restart that needs every running subtask cancelled.
        """
        cluster, restart = self.cluster, self._restart
        restart.notify_failure()
        if not restart.can_restart():
            raise failure
        lost = self._lost_producers(region, failure)
        full = restart.config.failover_strategy == "full"
        rerun, scope = regions_to_restart(self.regions, region.id, lost, full, subtasks_known)
        if scope.cancels_running:
            raise _RegionRestart(failure, rerun)
        if self._delivered.intersection(failed):
            raise failure  # its records reached the client already: a re-run would repeat them
        for index in cluster.dead_taskmanagers():
            cluster.replace_taskmanager(index, backlog.append)  # served after this
        if cluster.broken:
            raise failure
        if failed:  # else a TaskManager died that ran nothing of the stage
            self._delete_attempt_files(failed)
            self.source_coordinator.return_splits(set(failed))
            self._attempts[region.id] += 1
            attempts.schedule(failed, time.monotonic() + restart.backoff_s)

    def _delete_attempt_files(self, failed: Assignment) -> None:
        """Remove what the failed attempts wrote: a killed TaskManager could not (its
        partial partitions and sorted runs would otherwise stay, on tmpfs in memory,
        until the job ends). Names as the tasks make them (``attempt_partition_id``,
        ``sort_run_prefix``)."""
        spill_dir = self.spill_dir.path
        edges = self.deployment.execution_graph.job_graph.edges
        for vertex_id, subtask_index in failed:
            attempt = self._subtask_attempts[(vertex_id, subtask_index)]
            for edge in edges:
                if edge.source_vertex == vertex_id:
                    partition_id = attempt_partition_id(edge.id, subtask_index, attempt)
                    delete_partition(data_file_path(spill_dir, partition_id))
            delete_sort_runs(spill_dir, sort_run_prefix(vertex_id, subtask_index, attempt))

    def _lost_producers(self, region: PipelinedRegion, failure: BaseException) -> set[int]:
        """The regions whose partition ``region`` could not read (none for other errors).

        The partition is the one the error names; failing that, every input partition
        that is gone or has the wrong size; failing that (a checksum), every input."""
        if getattr(failure, "error_type", None) not in PARTITION_ERRORS:
            return set()
        job_graph = self.deployment.execution_graph.job_graph
        edges = {e.id: e for e in job_graph.edges}
        region_of = {v: r.id for r in self.regions for v in r.vertices}
        inputs = {
            key: d for key, d in self.partitions.items()
            if edges[key[0]].target_vertex in region.vertices
            and edges[key[0]].source_vertex not in region.vertices
        }
        text = str(failure)
        lost = [k for k, d in inputs.items() if d.path in text]
        lost = lost or [k for k, d in inputs.items() if not _partition_looks_intact(d)]
        lost = lost or list(inputs)
        return {region_of[edges[edge_id].source_vertex] for edge_id, _ in lost}

    def _unfinished_subtasks(self, region_ids: set[int]) -> set[Subtask]:
        """The subtasks of ``region_ids`` that have not finished."""
        vertices = self.deployment.execution_graph.job_graph.vertices
        return {
            (vertex_id, index)
            for region_id in region_ids
            for vertex_id in self.regions[region_id].vertices
            for index in range(vertices[vertex_id].parallelism)
            if (vertex_id, index) not in self._done[region_id]
        }

    def _discard_output(self, region: PipelinedRegion) -> None:
        """Forget ``region``'s finished subtasks and delete the partitions they wrote."""
        job_graph = self.deployment.execution_graph.job_graph
        out_edges = {e.id for e in job_graph.edges if e.source_vertex in region.vertices}
        for key in [k for k in self.partitions if k[0] in out_edges]:
            delete_partition(self.partitions.pop(key))
        self._done[region.id].clear()

    def _wait(self, seconds: float) -> None:
        """The restart delay, forwarding TaskManager output meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            for message in self.cluster.receive(left):
                self._handle_other(message)

    def region_stats(self) -> tuple[RegionStats, ...]:
        """Per region: attempts, and the counters of the subtasks that finished."""
        if not self.deployment.batch or self.regions is None:
            return ()
        job_graph = self.deployment.execution_graph.job_graph
        stats = []
        for region in self.regions:
            out_edges = {e.id for e in job_graph.edges if e.source_vertex in region.vertices}
            written = [d for k, d in self.partitions.items() if k[0] in out_edges]
            stats.append(RegionStats(
                region=region.id,
                name=" | ".join(job_graph.vertices[v].name for v in region.vertices),
                attempts=self._attempts.get(region.id, 0),
                records_in=sum(self._done.get(region.id, {}).values()),
                records_out=sum(sum(d.subpartition_records) for d in written),
                bytes_spilled=sum(d.total_bytes for d in written),
            ))
        return tuple(stats)

    def _failure(self, failed: msg.TaskFailed) -> JobExecutionError:
        where = (
            f"deploying on TaskManager {failed.tm_index} (unpickling the job's functions)"
            if failed.subtask_index < 0
            else f"operator {failed.operator_name!r} (subtask {failed.subtask_index + 1}/"
            f"{failed.parallelism} of task {failed.task_name!r}, TaskManager {failed.tm_index})"
        )
        error = JobExecutionError(
            f"Job {self.job_name!r} failed: {where} raised {failed.error_type}: "
            f"{failed.message}",
            job_name=self.job_name,
            operator_name=failed.operator_name,
            subtask_index=failed.subtask_index,
            error_type=failed.error_type,
        )
        error.__cause__ = RemoteTraceback(failed.traceback)
        return error

    def _replace_dead_taskmanagers(self) -> None:
        """After a failed job, fork replacements so that a shared cluster stays usable."""
        cluster = self.cluster
        if self.owns_cluster or cluster.runtime_dir is None:
            return  # stopped right after
        try:
            for index in cluster.dead_taskmanagers():
                cluster.replace_taskmanager(index, self._handle_other)
        except Exception:  # the job's own error matters more; the cluster stays broken
            pass

    @staticmethod
    def _handle_other(message: object) -> None:
        if isinstance(message, msg.Output):
            stream = sys.stdout if message.stream == "stdout" else sys.stderr
            stream.write(message.text)
            stream.flush()

    def _cancel(self) -> None:
        """Cancel on every live TaskManager and wait until each confirms."""
        cluster = self.cluster
        if cluster.runtime_dir is None or self.job_seq < 0:
            return
        try:
            cluster.broadcast(msg.Cancel(self.job_seq))
        except Exception:  # the control socket is gone: nothing left to cancel
            return
        waiting = set(cluster.live_taskmanagers())
        started = time.monotonic()
        interrupted = False
        while waiting:
            elapsed = time.monotonic() - started
            if elapsed >= CANCEL_TIMEOUT_S:
                cluster.kill_unresponsive()
                return
            if not interrupted and elapsed >= INTERRUPT_AFTER_S:
                # Busy in a user function: interrupt it, as Flink interrupts task threads.
                cluster.interrupt(waiting)
                interrupted = True
            wait = (INTERRUPT_AFTER_S if not interrupted else CANCEL_TIMEOUT_S) - elapsed
            try:
                messages = cluster.receive(max(wait, 0.0))
            except TaskManagerDied as died:
                waiting.discard(died.tm_index)
                continue
            except KeyboardInterrupt:
                cluster.kill_unresponsive()
                raise
            for message in messages:
                if isinstance(message, msg.Cancelled) and message.job_seq == self.job_seq:
                    waiting.discard(message.tm_index)
                else:
                    self._handle_other(message)



def _partition_looks_intact(descriptor: PartitionDescriptor) -> bool:
    """Both files exist and the data has the registered size (no checksum read)."""
    try:
        return (
            os.path.getsize(descriptor.path) == descriptor.total_bytes
            and os.path.exists(descriptor.index_path)
        )
    except OSError:
        return False
