"""MiniCluster: the supervisor that forks TaskManagers and runs jobs on them.

    client process (supervisor)                      TaskManager processes
    MiniCluster.start():  mkdtemp 0700 runtime dir
                          fork TM 0..n-1  ------------>  run_taskmanager(config)
                          zmq ROUTER jobmanager.ctl  <--  DEALER: Registered
    JobRun (one job):     Deploy -> Deployed, Start, <--  Output / Collected /
                          Cancel -> Cancelled, Release    TaskFinished / TaskFailed
    replace_taskmanager(i):  fork TM i again  -------->  run_taskmanager(config)
                          (a dead one; the ROUTER   <--  Registered (new routing id)
                          learns its routing id)
    MiniCluster.stop():   Shutdown, join, rmtree runtime dir

The supervisor lives in the client process, as Flink's MiniCluster lives in the
client JVM. It forks every TaskManager *before* it creates its own ZeroMQ context, and
waits in one ``poll`` over its control socket and the TaskManagers' death sentinels,
so a killed TaskManager is noticed at once without sleep-polling.

A cluster can be used for one job (``env.execute()`` with no active cluster starts
and stops one) or kept running and reused by every job submitted while it is active
(``with cluster.activate(): ...``, as the pytest fixture does).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import time
from typing import Callable, Iterable, Iterator

import zmq

from minicluster.common.execution_config import ExecutionConfig
from minicluster.errors import ClusterError
from minicluster.slots import messages as msg
from minicluster.slots.taskmanager import (
    INTERRUPT_SIGNAL,
    TaskManagerConfig,
    control_path,
    run_taskmanager,
)

_FORK = multiprocessing.get_context("fork")
_ACTIVE: list["MiniCluster"] = []

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 5.0


def active_cluster() -> "MiniCluster | None":
    """The cluster that ``env.execute()`` submits to, if one is active."""
    return _ACTIVE[-1] if _ACTIVE else None


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "is unresponsive"
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


class TaskManagerDied(Exception):
    """Internal: raised out of ``MiniCluster.receive`` when a TaskManager's sentinel fires."""

    def __init__(self, tm_index: int, pid: int, exitcode: int | None) -> None:
        self.tm_index, self.pid, self.exitcode = tm_index, pid, exitcode
        super().__init__(f"TaskManager {tm_index} (pid {pid}) {describe_exit(exitcode)}")


class MiniCluster:
    """A supervisor and its TaskManager processes on this machine.

    Args:
        taskmanagers: number of TaskManager processes (``taskmanager.count``).
        slots_per_taskmanager: slots each offers (``taskmanager.numberOfTaskSlots``).
        buffers_per_channel: credit per channel, in batches
            (``taskmanager.network.memory.buffers-per-channel``).
    """

    def __init__(
        self,
        taskmanagers: int | None = None,
        slots_per_taskmanager: int = 1,
        buffers_per_channel: int = 4,
    ) -> None:
        self.taskmanager_count = (os.cpu_count() or 1) if taskmanagers is None else taskmanagers
        self.slots_per_taskmanager = slots_per_taskmanager
        self.buffers_per_channel = buffers_per_channel
        if self.taskmanager_count < 1 or slots_per_taskmanager < 1 or buffers_per_channel < 1:
            raise ValueError(
                "taskmanager.count, taskmanager.numberOfTaskSlots and "
                "buffers-per-channel must all be >= 1"
            )
        self.runtime_dir: str | None = None
        self.broken: str | None = None
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._routing_ids: dict[int, bytes] = {}
        self._sentinels: dict[int, int] = {}
        self._deaths: dict[int, str] = {}  # TaskManager -> how it died (until replaced)
        self._context: zmq.Context | None = None
        self._router: zmq.Socket | None = None
        self._poller: zmq.Poller | None = None
        self._job_seq = 0
        self.running_job: str | None = None

    @classmethod
    def from_configuration(cls, config: ExecutionConfig) -> "MiniCluster":
        """The embedded cluster of a job that runs without an active cluster."""
        return cls(
            taskmanagers=config.taskmanager_count,
            slots_per_taskmanager=config.slots_per_taskmanager,
            buffers_per_channel=config.buffers_per_channel,
        )

    # -- lifecycle ----------------------------------------------------------------

    @property
    def total_slots(self) -> int:
        return self.taskmanager_count * self.slots_per_taskmanager

    @property
    def taskmanager_pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def start(self) -> "MiniCluster":
        if self.runtime_dir is not None:
            raise ClusterError("the cluster is already started")
        self.runtime_dir = tempfile.mkdtemp(prefix="minicluster-")  # mode 0700
        atexit.register(self.stop)  # a script that never stops its cluster still cleans up
        try:
            for index in range(self.taskmanager_count):
                self._fork_taskmanager(index)
            # Only now, with every TaskManager forked, does this process own ZeroMQ state.
            self._context = zmq.Context()
            self._router = self._context.socket(zmq.ROUTER)
            self._router.setsockopt(zmq.LINGER, 0)
            self._router.bind(f"ipc://{control_path(self.runtime_dir)}")
            self._poller = zmq.Poller()
            self._poller.register(self._router, zmq.POLLIN)
            for index, sentinel in self._sentinels.items():
                self._poller.register(sentinel, zmq.POLLIN)
            self._await_registration()
        except BaseException:
            self.stop()
            raise
        return self

    def _fork_taskmanager(self, index: int) -> None:
        process = self._spawn_taskmanager(index)
        self._processes.append(process)
        self._sentinels[index] = process.sentinel

    def _spawn_taskmanager(self, index: int) -> multiprocessing.process.BaseProcess:
        config = TaskManagerConfig(
            tm_index=index,
            tm_count=self.taskmanager_count,
            slots=self.slots_per_taskmanager,
            runtime_dir=self.runtime_dir,
            supervisor_pid=os.getpid(),
            initial_credit=self.buffers_per_channel,
        )
        # daemon: if the client exits without stop(), multiprocessing terminates the
        # TaskManagers instead of waiting for them forever.
        process = _FORK.Process(
            target=run_taskmanager,
            args=(config,),
            name=f"minicluster-TaskManager-{index}",
            daemon=True,
        )
        process.start()
        return process

    def replace_taskmanager(
        self, index: int, on_message: Callable[[object], None] | None = None
    ) -> None:
        """Fork a new TaskManager ``index`` in place of a dead one; wait until it registered.

        The replacement runs ``run_taskmanager`` exactly as the first one did: it binds
        the same inbox path (peers' PUSH sockets reconnect to it by themselves) and
        sends ``Registered``, from which the ROUTER learns its new routing id. Unlike
        at ``start()``, this process already owns a ZeroMQ context and its I/O
        threads when it forks: the child inherits that memory but never touches it
        (it creates its own context, and leaves with ``os._exit``, so no finalizer of
        an inherited socket runs). Messages other TaskManagers send meanwhile go to
        ``on_message``. A cluster marked broken by this TaskManager's death is usable
        again afterwards.

        Raises:
            ClusterError: the cluster is not started, the TaskManager is alive, or
                the replacement did not register.
        """
        if self._router is None:
            raise ClusterError("the cluster is not started")
        old = self._processes[index]
        if old.is_alive():
            raise ClusterError(f"TaskManager {index} (pid {old.pid}) is alive")
        old.join(1.0)
        sentinel = self._sentinels.pop(index, None)
        if sentinel is not None:  # died, but no receive() has noticed yet
            self._poller.unregister(sentinel)
        self._routing_ids.pop(index, None)
        process = self._spawn_taskmanager(index)
        self._processes[index] = process
        self._sentinels[index] = process.sentinel
        self._poller.register(process.sentinel, zmq.POLLIN)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while index not in self._routing_ids:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ClusterError(
                    f"the replacement of TaskManager {index} did not register within "
                    f"{STARTUP_TIMEOUT_S:.0f} s"
                )
            for message in self.receive(remaining):
                if not isinstance(message, msg.Registered) and on_message is not None:
                    on_message(message)
        if self.broken is not None and self.broken == self._deaths.pop(index, None):
            self.broken = None

    def _await_registration(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while len(self._routing_ids) < self.taskmanager_count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ClusterError(
                    f"only {len(self._routing_ids)} of {self.taskmanager_count} "
                    f"TaskManagers registered within {STARTUP_TIMEOUT_S:.0f} s"
                )
            try:
                for message in self.receive(remaining):
                    if not isinstance(message, msg.Registered):
                        raise ClusterError(f"unexpected message during start-up: {message}")
            except TaskManagerDied as died:
                raise ClusterError(f"{died} during start-up") from None

    def stop(self) -> None:
        """Shut every TaskManager down, then remove the runtime folder. Idempotent."""
        atexit.unregister(self.stop)
        if self._router is not None:
            for routing_id in self._routing_ids.values():
                with contextlib.suppress(zmq.ZMQError):
                    self._router.send_multipart(
                        [routing_id, pickle.dumps(msg.Shutdown())], zmq.NOBLOCK
                    )
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self._processes:
            if process.is_alive():
                process.kill()
                process.join(SHUTDOWN_TIMEOUT_S)
        self._processes.clear()
        self._sentinels.clear()
        self._routing_ids.clear()
        self._deaths.clear()
        if self._router is not None:
            self._router.close(0)
            self._router = None
        if self._context is not None:
            self._context.term()
            self._context = None
        if self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None

    def __enter__(self) -> "MiniCluster":
        return self.start() if self.runtime_dir is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def activate(self) -> Iterator["MiniCluster"]:
        """Make ``env.execute()`` submit to this cluster inside the ``with`` block; a
        cluster that ``activate`` had to start is stopped again at the end."""
        started_here = self.runtime_dir is None
        if started_here:
            self.start()
        _ACTIVE.append(self)
        try:
            yield self
        finally:
            _ACTIVE.remove(self)
            if started_here:
                self.stop()

    # -- messaging (used by JobRun) -----------------------------------------------

    def begin_job(self, job_name: str) -> int:
        """Reserve the cluster for one job and return its sequence number.

        A cluster runs one job at a time; a second submission while a job runs (for
        instance while an ``execute_and_collect`` iterator is still open) is refused
        rather than silently displacing the first.
        """
        if self.broken:
            raise ClusterError(f"the cluster is no longer usable: {self.broken}")
        if self._router is None:
            raise ClusterError("the cluster is not started")
        if self.running_job is not None:
            raise ClusterError(
                f"cannot run job {job_name!r}: the cluster is still running job "
                f"{self.running_job!r} (one job at a time); let it finish, or close its "
                "execute_and_collect() iterator first"
            )
        self.running_job = job_name
        self._job_seq += 1
        return self._job_seq

    def end_job(self) -> None:
        self.running_job = None

    def send(self, tm_index: int, message: object) -> None:
        self._router.send_multipart(
            [self._routing_ids[tm_index], pickle.dumps(message, protocol=5)]
        )

    def broadcast(self, message: object, to: Iterable[int] | None = None) -> None:
        """Send ``message``, pickled once, to every live TaskManager (or those of ``to``)."""
        frame = pickle.dumps(message, protocol=5)
        indices = self._routing_ids if to is None else sorted(to)
        for index in indices:
            self._router.send_multipart([self._routing_ids[index], frame])

    def receive(self, timeout_s: float | None) -> list[object]:
        """Wait up to ``timeout_s`` (None: forever) for control messages.

        Raises:
            TaskManagerDied: a TaskManager process ended.
        """
        timeout = None if timeout_s is None else max(0, int(timeout_s * 1000))
        events = dict(self._poller.poll(timeout))
        messages = self._drain_router() if self._router in events else []
        for index, sentinel in list(self._sentinels.items()):
            if sentinel in events:
                # What the TaskManager sent before it died (its output, its failure)
                # is delivered first; the death comes with the next receive.
                if messages:
                    return messages
                self._on_taskmanager_death(index)
        return messages

    def _drain_router(self) -> list[object]:
        messages = []
        while True:
            try:
                routing_id, frame = self._router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return messages
            message = pickle.loads(frame)
            if isinstance(message, msg.Registered):
                self._routing_ids[message.tm_index] = routing_id
            messages.append(message)

    def _on_taskmanager_death(self, index: int) -> None:
        process = self._processes[index]
        process.join(1.0)
        self._poller.unregister(self._sentinels.pop(index))
        self._routing_ids.pop(index, None)
        died = TaskManagerDied(index, process.pid, process.exitcode)
        self.broken = self._deaths[index] = str(died)
        raise died

    def dead_taskmanagers(self) -> list[int]:
        """TaskManagers whose death was noticed and that were not replaced yet."""
        return sorted(self._deaths)

    def live_taskmanagers(self) -> list[int]:
        return sorted(self._routing_ids)

    def interrupt(self, tm_indices: set[int]) -> None:
        """Interrupt whatever task code these TaskManagers are running."""
        for index in tm_indices:
            process = self._processes[index]
            if process.is_alive():
                os.kill(process.pid, INTERRUPT_SIGNAL)

    def kill_unresponsive(self) -> None:
        """Last resort when TaskManagers do not answer a cancel (stuck in user code)."""
        for process in self._processes:
            if process.is_alive():
                process.kill()
        self.broken = "TaskManagers did not respond to a cancel and were killed"
