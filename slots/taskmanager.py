"""The TaskManager process: one thread, one event loop over all of its subtasks.

    supervisor --Deploy/Start/Cancel--> control DEALER --+
                                                         |   run every runnable task
    peers --DATA/EVENT/CREDIT--> inbox PULL -------------+-> one batch each, flush
                                                         |   stdout, poll (block only
    task output, failures, results, <-- control DEALER <-+   when nothing can run)
    split requests (RequestSplit)

A task that has no input, whose output waits for credit, or (a split source) whose
request for a split is unanswered, is simply skipped: the loop never blocks on a
send, and blocks on ``poll`` only when no task can move, until a message (data,
credit or control, such as the ``AssignSplit`` answer) arrives.

A task that fails is reported (``TaskFailed``) and dropped. In STREAMING mode the
TaskManager drops the job's other tasks with it (the job fails, or its supervisor
cancels it anyway). In BATCH mode (``Deploy`` with a stage) the others keep running:
the supervisor may deploy the failed subtask again beside them (a ``Deploy`` while
tasks run adds its tasks; ``Start`` opens only the tasks not yet opened).

The process is forked by the supervisor *before* it creates any ZeroMQ context or
thread; everything here is created after the fork. Ctrl-C reaches the whole process
group, so TaskManagers ignore SIGINT and let the supervisor cancel them; if the
supervisor dies, the kernel sends SIGTERM (``PR_SET_PDEATHSIG``) and the TaskManager
removes the runtime folder on its way out.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass

import zmq

from minicluster.network.channels import OutputChannel
from minicluster.network.codec import DATA
from minicluster.network.data_plane import DataPlane
from minicluster.operators.provenance import record_suffix
from minicluster.slots import messages as msg
from minicluster.slots.stdio import ForwardedStream
from minicluster.slots.task_api import Invokable, TaskEnvironment

_PR_SET_PDEATHSIG = 1
INTERRUPT_SIGNAL = signal.SIGUSR1


class TaskInterrupted(BaseException):
    """Raised inside a running task when the supervisor interrupts it to cancel a job.

    A BaseException, so that a user's ``except Exception`` cannot swallow it."""


class TaskManagerTerminated(BaseException):
    """SIGTERM (the supervisor died): leave the loop, whatever a task was doing."""


_stepping = False


def _interrupt_task(signum: int, frame: object) -> None:
    if _stepping:
        raise TaskInterrupted()


def control_path(runtime_dir: str) -> str:
    return os.path.join(runtime_dir, "jobmanager.ctl")


@dataclass(frozen=True, slots=True)
class TaskManagerConfig:
    tm_index: int
    tm_count: int
    slots: int
    runtime_dir: str
    supervisor_pid: int
    initial_credit: int = 4

    def __post_init__(self) -> None:
        if not 0 <= self.tm_index < self.tm_count:
            raise ValueError(f"tm_index {self.tm_index} not in [0, {self.tm_count})")
        if self.slots < 1 or self.initial_credit < 1:
            raise ValueError("slots and initial_credit must be >= 1")


def run_taskmanager(config: TaskManagerConfig) -> None:
    """Process entry point: serve the supervisor until Shutdown or its death."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(INTERRUPT_SIGNAL, _interrupt_task)
    _die_with_parent()
    if os.getppid() != config.supervisor_pid:
        return  # the supervisor died before we could ask to follow it
    taskmanager = TaskManager(config)
    supervisor_gone = False
    try:
        taskmanager.run()
    except TaskManagerTerminated:  # the supervisor died (PDEATHSIG) or we were killed
        supervisor_gone = True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not abort cleanup
        try:
            taskmanager.close()
        finally:
            if supervisor_gone or os.getppid() != config.supervisor_pid:
                # the supervisor cannot clean up any more (SIGKILL, SIGTERM): its
                # runtime folder and the last BATCH job's spill folder go with us
                shutil.rmtree(config.runtime_dir, ignore_errors=True)
                if taskmanager.spill_dir is not None:
                    shutil.rmtree(taskmanager.spill_dir, ignore_errors=True)
            for stream in (sys.__stdout__, sys.__stderr__):
                stream.flush()
    # Leave now: multiprocessing's own exit handling would run Python code again, where
    # a late signal could interrupt it; everything is cleaned up.
    os._exit(0)


def _failure(job_seq: int, task: Invokable | None, tm_index: int,
             error: BaseException) -> msg.TaskFailed:
    """The report of ``error`` in ``task`` (None: while deploying), naming the operator
    that raised it if the chain said."""
    if task is None:
        name = operator = "(deployment)"
        vertex_id, subtask_index, attempt, parallelism = -1, -1, 0, 0
    else:
        name, operator = task.name, task.current_operator
        vertex_id, subtask_index, attempt = task.vertex_id, task.subtask_index, task.attempt
        parallelism = task.parallelism
    return msg.TaskFailed(
        job_seq=job_seq,
        task_name=name,
        operator_name=getattr(error, "_minicluster_operator", None) or operator,
        subtask_index=subtask_index,
        parallelism=parallelism,
        tm_index=tm_index,
        error_type=type(error).__name__,
        message=str(error) + record_suffix(error),  # "[record from PATH line N: ...]"
        traceback="".join(traceback.format_exception(error)),
        vertex_id=vertex_id,
        attempt=attempt,
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise TaskManagerTerminated()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's sentinel still works
        pass


class TaskManager:
    def __init__(self, config: TaskManagerConfig) -> None:
        self.config = config
        self.context = zmq.Context()
        self.data_plane = DataPlane(
            self.context, config.runtime_dir, config.tm_index, config.tm_count
        )
        self.control = self.context.socket(zmq.DEALER)
        self.control.setsockopt(zmq.LINGER, 1000)
        self.control.setsockopt(zmq.RECONNECT_IVL, 2)
        self.control.connect(f"ipc://{control_path(config.runtime_dir)}")
        self.poller = zmq.Poller()
        self.poller.register(self.data_plane.inbox, zmq.POLLIN)
        self.poller.register(self.control, zmq.POLLIN)
        self.tasks: list[Invokable] = []
        self._unopened: list[Invokable] = []  # deployed, waiting for Start
        #: BATCH (the job's Deploys carry stages): a failed task fails alone
        self._batch = False
        self._job_deployment: object | None = None  # the running job's, unpickled once
        self.client_channels: list[OutputChannel] = []
        self.job_seq = -1
        self.spill_dir: str | None = None  # the latest BATCH job's (see run_taskmanager)
        self.running = True
        self.stdout = ForwardedStream("stdout", self._flush_output)
        self.stderr = ForwardedStream("stderr", self._flush_output)
        sys.stdout, sys.stderr = self.stdout, self.stderr

    def run(self) -> None:
        # Batches create and drop many small tuples; the default gen-0 threshold (700)
        # makes the cyclic collector run every few records' worth of allocations and
        # re-scan everything alive. Records are rarely cyclic, so collect less often.
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        self._send(msg.Registered(self.config.tm_index, os.getpid(), self.config.slots))
        poll = self.poller.poll
        inbox, control = self.data_plane.inbox, self.control
        while self.running:
            worked = self._run_tasks() if self.tasks else False
            self._flush_output()
            if worked:  # busy: take whatever arrived without the cost of a poll
                self.data_plane.drain()
                self._handle_control()
                continue
            events = dict(poll(self._poll_timeout_ms()))
            if inbox in events:
                self.data_plane.drain()
            if control in events:
                self._handle_control()

    def _poll_timeout_ms(self) -> int | None:
        """Block until a message arrives or the next processing-time timer is due."""
        deadlines = [d for d in (t.next_timer_deadline() for t in self.tasks) if d is not None]
        if not deadlines:
            return None
        return max(0, min(deadlines) - int(time.time() * 1000))

    def _run_tasks(self) -> bool:
        """Give every task that can move one step, and fire due processing-time timers."""
        worked = False
        for task in list(self.tasks):
            if task.finished:  # reported once its last batches left (they may await credit)
                if not task.has_pending_output():
                    self.tasks.remove(task)
                    self._send_finished(task)
                continue
            if task.next_timer_deadline() is not None:
                if not self._guarded(task, task.fire_processing_timers):
                    return True
            if not task.is_runnable():
                continue
            worked = True
            if not self._guarded(task, task.step):
                return True
            if task.finished and not task.has_pending_output():
                self.tasks.remove(task)
                self._send_finished(task)
        return worked

    def _send_finished(self, task: Invokable) -> None:
        partitions = getattr(task, "result_partitions", ())
        self._send(msg.TaskFinished(self.job_seq, task.vertex_id, task.subtask_index,
                                    partitions, getattr(task, "records_in", 0), task.attempt))

    def _guarded(self, task: Invokable, action) -> bool:
        """Run ``action`` of ``task``; on an interrupt or a failure, drop the job's
        tasks (on a failure: report it; in BATCH mode drop only ``task``) and return
        False."""
        global _stepping
        try:
            _stepping = True
            try:
                action()
                if task.finished:
                    task.close()
            finally:
                _stepping = False
        except TaskInterrupted:  # the Cancel that caused it waits on the control socket
            self._drop_tasks()
            return False
        except TaskManagerTerminated:
            raise
        except BaseException as error:  # user code raised, even SystemExit: fail the job
            self._fail(task, error)
            return False
        return True

    def _fail(self, task: Invokable, error: BaseException) -> None:
        self._send(_failure(self.job_seq, task, self.config.tm_index, error))
        if self._batch:  # the other subtasks read and write their own partitions
            if task in self.tasks:
                self.tasks.remove(task)
            if task in self._unopened:
                self._unopened.remove(task)
            self._close_quietly(task)
        else:
            self._drop_tasks()

    def _drop_tasks(self) -> None:
        for task in self.tasks:
            self._close_quietly(task)
        self.tasks = []
        self._unopened = []

    @staticmethod
    def _close_quietly(task: Invokable) -> None:
        global _stepping
        try:
            _stepping = True  # user close() code: a cancel may interrupt it
            try:
                task.close()
            finally:
                _stepping = False
        except TaskManagerTerminated:
            raise
        except BaseException:  # closing after a failure must not mask the failure
            pass

    def _handle_control(self) -> None:
        while True:
            try:
                frame = self.control.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            message = pickle.loads(frame)
            if isinstance(message, msg.Deploy):
                self._deploy(message)
            elif isinstance(message, msg.Start):
                self._start(message.job_seq)
            elif isinstance(message, msg.AssignSplit):
                if message.job_seq == self.job_seq:
                    for task in self.tasks:
                        if (task.vertex_id, task.subtask_index, task.attempt) == (
                            message.vertex_id, message.subtask_index, message.attempt,
                        ):
                            task.add_split(message.split)
            elif isinstance(message, msg.CollectCredit):
                if message.job_seq == self.job_seq:
                    self.client_channels[message.channel_id].add_credit(message.credit)
            elif isinstance(message, msg.Cancel):
                self._drop_tasks()
                self._job_deployment = None
                self.data_plane.end_job(message.job_seq)
                self._send(msg.Cancelled(message.job_seq, self.config.tm_index))
            elif isinstance(message, msg.Release):
                self._drop_tasks()
                self._job_deployment = None
                self.data_plane.end_job(message.job_seq)
            elif isinstance(message, msg.Shutdown):
                self.running = False
                return

    def _deploy(self, message: msg.Deploy) -> None:
        next_stage = message.stage is not None and message.job_seq == self.job_seq
        if message.stage is not None:  # removed by whoever outlives the supervisor
            self.spill_dir = message.stage.spill_dir
        if not next_stage or self._job_deployment is None:
            self._drop_tasks()
            self.client_channels = []
            self._job_deployment = None
            self.job_seq = message.job_seq
            self._batch = message.stage is not None
            self.data_plane.start_job(message.job_seq)
        env = TaskEnvironment(
            tm_index=self.config.tm_index,
            job_seq=message.job_seq,
            data_plane=self.data_plane,
            open_client_channel=self._open_client_channel,
            initial_credit=self.config.initial_credit,
            request_split=self._request_split,
        )
        global _stepping
        try:  # unpickling runs user code (key selectors, partitioners): guard it
            _stepping = True
            try:
                if self._job_deployment is None:
                    self._job_deployment = pickle.loads(message.payload)
                deployment = self._job_deployment
                if message.stage is None:
                    tasks = deployment.create_tasks(env)
                else:  # BATCH: this stage's tasks, beside those still running
                    tasks = deployment.create_tasks(env, message.stage)
            finally:
                _stepping = False
        except TaskInterrupted:  # a Cancel follows, which drops the running tasks
            return
        except TaskManagerTerminated:
            raise
        except BaseException as error:  # the supervisor cancels, or fails the job
            self._send(_failure(self.job_seq, None, self.config.tm_index, error))
            return
        self.tasks.extend(tasks)
        self._unopened.extend(tasks)
        self._send(msg.Deployed(message.job_seq, self.config.tm_index, len(tasks)))

    def _start(self, job_seq: int) -> None:
        """Open the tasks deployed since the last Start (user functions open here)."""
        if job_seq != self.job_seq:
            return
        tasks, self._unopened = self._unopened, []
        for task in tasks:
            if task in self.tasks:  # a failure before it may have dropped it
                self._guarded(task, task.open)

    def _request_split(self, vertex_id: int, subtask_index: int, attempt: int) -> None:
        self._send(msg.RequestSplit(self.job_seq, vertex_id, subtask_index, attempt))

    def _open_client_channel(
        self, vertex_id: int, subtask_index: int, attempt: int
    ) -> OutputChannel:
        """A channel to the client (``execute_and_collect``), bounded by credit."""
        channel_id = len(self.client_channels)
        job_seq, tm_index = self.job_seq, self.config.tm_index

        def transport(kind: int, payload: object) -> None:
            if kind == DATA:
                self._send(msg.Collected(job_seq, tm_index, channel_id, payload,
                                         vertex_id, subtask_index, attempt))

        channel = OutputChannel(channel_id, self.config.initial_credit, transport)
        self.client_channels.append(channel)
        return channel

    def _send(self, message: object) -> None:
        self._flush_output()
        self.control.send(pickle.dumps(message, protocol=5))

    def _flush_output(self) -> None:
        for stream in (self.stdout, self.stderr):
            text = stream.take()
            if text:
                self.control.send(pickle.dumps(msg.Output(stream.name, text), protocol=5))

    def close(self) -> None:
        try:
            self._drop_tasks()
            self._flush_output()
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            self.control.close(linger=1000)
            self.data_plane.close()
            self.context.term()
