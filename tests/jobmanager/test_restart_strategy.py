"""Restart strategies and failover-region selection, without processes."""

from __future__ import annotations

import pytest

from minicluster.graph.regions import PipelinedRegion
from minicluster.jobmanager.failover import (
    FailoverScope,
    downstream_closure,
    regions_to_restart,
)
from minicluster.jobmanager.restart_strategy import RestartStrategyConfig, parse_duration_ms


def test_default_is_none_and_never_restarts():
    strategy = RestartStrategyConfig.from_config({}).create()
    strategy.notify_failure()
    assert not strategy.can_restart()
    assert strategy.config.failover == "region"


def test_fixed_delay_allows_its_attempts_then_stops():
    config = RestartStrategyConfig.from_config({
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "2",
        "restart-strategy.fixed-delay.delay": "1 s",
    })
    strategy = config.create()
    assert strategy.backoff_s == 1.0
    outcomes = []
    for _ in range(3):
        strategy.notify_failure()
        outcomes.append(strategy.can_restart())
    assert outcomes == [True, True, False]


def test_failure_rate_counts_failures_within_the_interval():
    now = [0.0]
    strategy = RestartStrategyConfig.from_config({
        "restart-strategy.type": "failure-rate",
        "restart-strategy.failure-rate.max-failures-per-interval": "2",
        "restart-strategy.failure-rate.failure-rate-interval": "10 s",
    }).create(lambda: now[0])
    strategy.notify_failure()
    strategy.notify_failure()
    assert strategy.can_restart()
    now[0] = 11.0  # both fell out of the window
    strategy.notify_failure()
    assert strategy.can_restart()
    strategy.notify_failure()
    strategy.notify_failure()
    assert not strategy.can_restart()


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"restart-strategy.type": "often"}, "restart-strategy.type='often'"),
        ({"restart-strategy.type": "fixed-delay",
          "restart-strategy.fixed-delay.attempts": "two"},
         "restart-strategy.fixed-delay.attempts='two' is not an integer"),
        ({"restart-strategy.type": "fixed-delay",
          "restart-strategy.fixed-delay.delay": "soon"},
         "restart-strategy.fixed-delay.delay='soon' is not a duration"),
        ({"jobmanager.execution.failover-strategy": "some"},
         "jobmanager.execution.failover-strategy='some'"),
    ],
)
def test_bad_settings_name_the_key(config, match):
    with pytest.raises(ValueError, match=match):
        RestartStrategyConfig.from_config(config)


def test_durations_follow_flinks_syntax():
    assert [parse_duration_ms("k", v) for v in ("0 ms", "1 s", "2min", "250")] == [
        0, 1000, 120_000, 250,
    ]


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
