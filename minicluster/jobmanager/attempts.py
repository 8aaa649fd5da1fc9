"""The execution attempts of one stage's subtasks (Flink's ``Execution`` and
``ExecutionAttemptID``), as the supervisor tracks them. Pure: no processes here.

    schedule(wave, at=now) --due(now)--> deploy(assignment): each subtask's next
        attempt number, running on its TaskManager (its slot) until it
    TaskFinished (vertex, subtask, attempt) --> end(subtask)
    TaskFailed   (vertex, subtask, attempt) --> end(subtask): its slot is free again
    TaskManager i died                      --> lose(i): every attempt running there
    failed subtasks --schedule(them, at=now + restart delay)--> due(at) --> deploy ...
    done <-- nothing running, nothing waiting

A message about a subtask counts only while ``is_current`` says its attempt runs: a
late message of a killed or failed attempt (sent before it died, read after) is never
taken for its successor's. An attempt number counts the subtask's deployments over the
whole job (0 first; the counter is the job's, shared by its stages), so it also names
the attempt's spill files uniquely. A subtask deployed again goes back to the
TaskManager it ran on (a replacement takes a dead TaskManager's index), into the slot
its failed attempt freed, so a stage never holds more slots than it started with.
"""

from __future__ import annotations

from minicluster.jobmanager.scheduler import Assignment

Subtask = tuple[int, int]  # (vertex id, subtask index)


class StageAttempts:
    """The subtasks of one stage: the attempt running per subtask and where, and the
    failed ones waiting to be deployed again.

    Args:
        latest: the job's ``subtask -> latest attempt number``; updated here.
    """

    def __init__(self, latest: dict[Subtask, int]) -> None:
        self._latest = latest
        #: ``subtask -> (attempt, TaskManager)`` of the attempts deployed, not ended
        self.running: dict[Subtask, tuple[int, int]] = {}
        self._waiting: list[tuple[float, Assignment]] = []

    def schedule(self, assignment: Assignment, at: float) -> None:
        """Deploy ``assignment`` once the clock reaches ``at``."""
        if assignment:
            self._waiting.append((at, dict(assignment)))

    def due(self, now: float) -> Assignment:
        """The scheduled subtasks whose time has come (no longer waiting)."""
        ready: Assignment = {}
        later = []
        for at, assignment in self._waiting:
            if at <= now:
                ready.update(assignment)
            else:
                later.append((at, assignment))
        self._waiting = later
        return ready

    def timeout(self, now: float) -> float | None:
        """Seconds until the next scheduled deployment; None when none waits."""
        if not self._waiting:
            return None
        return max(0.0, min(at for at, _ in self._waiting) - now)

    def deploy(self, assignment: Assignment) -> dict[Subtask, int]:
        """Start the next attempt of every subtask of ``assignment``; their numbers."""
        numbers = {}
        for subtask, tm_index in sorted(assignment.items()):
            if subtask in self.running:
                raise ValueError(f"subtask {subtask} is deployed while an attempt of it runs")
            number = numbers[subtask] = self._latest.get(subtask, -1) + 1
            self._latest[subtask] = number
            self.running[subtask] = (number, tm_index)
        return numbers

    def is_current(self, vertex_id: int, subtask_index: int, attempt: int) -> bool:
        """Is this the running attempt of that subtask?"""
        running = self.running.get((vertex_id, subtask_index))
        return running is not None and running[0] == attempt

    def taskmanager_of(self, subtask: Subtask) -> int:
        return self.running[subtask][1]

    def end(self, subtask: Subtask) -> int:
        """The running attempt of ``subtask`` finished or failed; its TaskManager."""
        return self.running.pop(subtask)[1]

    def lose(self, tm_index: int) -> Assignment:
        """TaskManager ``tm_index`` died: the subtasks whose attempts died with it."""
        lost = {s: tm for s, (_, tm) in self.running.items() if tm == tm_index}
        for subtask in lost:
            del self.running[subtask]
        return lost

    @property
    def done(self) -> bool:
        """Every subtask finished: none runs, none waits to be deployed."""
        return not self.running and not self._waiting

    def __repr__(self) -> str:
        waiting = sorted(s for _, assignment in self._waiting for s in assignment)
        return f"StageAttempts(running {sorted(self.running)}, waiting {waiting})"
