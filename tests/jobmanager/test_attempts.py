"""StageAttempts: which attempt of each subtask runs where, without processes."""

from __future__ import annotations

import pytest

from minicluster.jobmanager.attempts import StageAttempts

A, B, C = (5, 0), (5, 1), (5, 2)  # (vertex, subtask)


def test_a_wave_deploys_first_attempts_and_is_done_when_all_ended():
    latest = {}
    attempts = StageAttempts(latest)
    attempts.schedule({A: 0, B: 1}, at=10.0)
    assert attempts.timeout(now=9.5) == 0.5
    assert attempts.due(now=9.5) == {}
    assert attempts.due(now=10.0) == {A: 0, B: 1}
    assert attempts.timeout(now=10.0) is None
    assert attempts.deploy({A: 0, B: 1}) == {A: 0, B: 0}
    assert attempts.is_current(5, 0, 0) and attempts.taskmanager_of(B) == 1
    assert attempts.end(A) == 0
    assert not attempts.done
    attempts.end(B)
    assert attempts.done and latest == {A: 0, B: 0}


def test_a_failed_subtask_runs_again_after_its_delay_as_the_next_attempt():
    attempts = StageAttempts({})
    attempts.deploy({A: 0, B: 1})
    failed = {A: attempts.end(A)}  # TaskFailed of A's attempt 0, on TaskManager 0
    attempts.schedule(failed, at=3.0)
    assert not attempts.done  # A waits; B runs
    assert attempts.due(now=2.0) == {} and attempts.timeout(now=2.0) == 1.0
    assert attempts.deploy(attempts.due(now=3.0)) == {A: 1}
    assert not attempts.is_current(5, 0, 0)  # a late message of the failed attempt
    assert attempts.is_current(5, 0, 1) and attempts.taskmanager_of(A) == 0


def test_a_dead_taskmanager_loses_exactly_the_attempts_it_ran():
    attempts = StageAttempts({})
    attempts.deploy({A: 0, B: 1, C: 0})
    attempts.end(C)  # finished before the TaskManager died
    assert attempts.lose(0) == {A: 0}
    assert attempts.lose(0) == {}
    assert sorted(attempts.running) == [B]
    assert not attempts.is_current(5, 0, 0)


def test_attempt_numbers_count_over_the_job_not_the_stage():
    latest = {}
    first = StageAttempts(latest)
    first.deploy({A: 0})
    first.end(A)
    second = StageAttempts(latest)  # the region re-runs after a cancel
    assert second.deploy({A: 1}) == {A: 1}


def test_deploying_a_subtask_whose_attempt_still_runs_is_refused():
    attempts = StageAttempts({})
    attempts.deploy({A: 0})
    with pytest.raises(ValueError, match=r"subtask \(5, 0\) is deployed while an attempt"):
        attempts.deploy({A: 1})
