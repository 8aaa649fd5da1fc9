"""Restart strategies and failover-region selection, without processes."""

from __future__ import annotations

from minicluster.common.execution_config import ExecutionConfig
from minicluster.graph.regions import PipelinedRegion
from minicluster.jobmanager.failover import (
    FailoverScope,
    downstream_closure,
    regions_to_restart,
)
from minicluster.jobmanager.restart_strategy import RestartStrategy


def strategy_for(config: dict[str, str], now=None) -> RestartStrategy:
    parsed = ExecutionConfig.from_dict(config)
    return RestartStrategy(parsed) if now is None else RestartStrategy(parsed, now)


def test_default_is_none_and_never_restarts():
    strategy = strategy_for({})
    strategy.notify_failure()
    assert not strategy.can_restart()
    assert strategy.backoff_s == 0.0
    assert strategy.config.failover_strategy == "region"


def test_fixed_delay_allows_its_attempts_then_stops():
    strategy = strategy_for({
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "2",
        "restart-strategy.fixed-delay.delay": "1 s",
    })
    assert strategy.backoff_s == 1.0
    outcomes = []
    for _ in range(3):
        strategy.notify_failure()
        outcomes.append(strategy.can_restart())
    assert outcomes == [True, True, False]


def test_failure_rate_counts_failures_within_the_interval():
    now = [0.0]
    strategy = strategy_for({
        "restart-strategy.type": "failure-rate",
        "restart-strategy.failure-rate.max-failures-per-interval": "2",
        "restart-strategy.failure-rate.failure-rate-interval": "10 s",
        "restart-strategy.failure-rate.delay": "250 ms",
    }, lambda: now[0])
    assert strategy.backoff_s == 0.25
    strategy.notify_failure()
    strategy.notify_failure()
    assert strategy.can_restart()
    now[0] = 11.0  # both fell out of the window
    strategy.notify_failure()
    assert strategy.can_restart()
    strategy.notify_failure()
    strategy.notify_failure()
    assert not strategy.can_restart()


#   0 ==> 1 ==> 3
#   2 ========> 3
REGIONS = (
    PipelinedRegion(0, (0,), ()),
    PipelinedRegion(1, (1,), (0,)),
    PipelinedRegion(2, (2,), ()),
    PipelinedRegion(3, (3,), (1, 2)),
)


def test_a_subtask_failure_re_runs_the_failed_subtasks_alone():
    rerun, scope = regions_to_restart(REGIONS, 3, set(), full=False)
    assert (rerun, scope) == (set(), FailoverScope.FAILED_SUBTASKS)
    assert not scope.cancels_running


def test_a_failure_that_names_no_subtask_re_runs_the_unfinished_part_of_that_region():
    rerun, scope = regions_to_restart(REGIONS, 3, set(), full=False, subtasks_known=False)
    assert (rerun, scope) == (set(), FailoverScope.UNFINISHED_SUBTASKS)
    assert scope.cancels_running


def test_a_lost_partition_re_runs_its_producer_and_everything_downstream():
    assert downstream_closure(REGIONS, {0}) == {0, 1, 3}
    assert regions_to_restart(REGIONS, 1, {0}, full=False) == ({0, 1, 3}, FailoverScope.REGIONS)


def test_full_failover_re_runs_everything():
    rerun, scope = regions_to_restart(REGIONS, 3, set(), full=True)
    assert (rerun, scope) == ({0, 1, 2, 3}, FailoverScope.REGIONS)
    assert scope.cancels_running and str(scope) == "REGIONS"
