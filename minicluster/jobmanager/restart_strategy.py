"""Restart strategies (Flink's ``RestartBackoffTimeStrategy``), from the job's settings.

    restart-strategy.type = none          the first failure fails the job (default)
                          = fixed-delay   at most ``attempts`` restarts, ``delay`` apart
                          = failure-rate  fail once more than ``max-failures-per-interval``
                                          failures fall within ``failure-rate-interval``
    jobmanager.execution.failover-strategy = region (default) | full

The keys are parsed and validated with the rest of the job's configuration when it is
submitted (``ExecutionConfig``). The strategy is pure: the supervisor tells it about
each failure (``notify_failure``), then asks ``can_restart()`` and ``backoff_s``. Time
comes from an injected clock, so the failure-rate window is tested without sleeping.
Only BATCH jobs restart; a STREAMING job fails on its first failure whatever the
strategy says.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

from minicluster.common.execution_config import ExecutionConfig


class RestartStrategy:
    """One job's restart bookkeeping, following its ``ExecutionConfig``.

    Args:
        config: the job's configuration (``restart_strategy`` and its settings).
        now: the clock, in seconds.
    """

    def __init__(
        self, config: ExecutionConfig, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._now = now
        self.failures = 0
        self._failure_times: deque[float] = deque()

    def notify_failure(self) -> None:
        self.failures += 1
        self._failure_times.append(self._now())

    def can_restart(self) -> bool:
        """After ``notify_failure``: may the job restart once more?"""
        config = self.config
        if config.restart_strategy == "fixed-delay":
            return self.failures <= config.fixed_delay_attempts
        if config.restart_strategy == "failure-rate":
            horizon = self._now() - config.failure_rate_interval_ms / 1000
            while self._failure_times and self._failure_times[0] < horizon:
                self._failure_times.popleft()
            return len(self._failure_times) <= config.failure_rate_max_failures
        return False

    @property
    def backoff_s(self) -> float:
        """The pause before a restart."""
        config = self.config
        if config.restart_strategy == "fixed-delay":
            return config.fixed_delay_ms / 1000
        if config.restart_strategy == "failure-rate":
            return config.failure_rate_delay_ms / 1000
        return 0.0

    def __repr__(self) -> str:
        return f"RestartStrategy({self.config.restart_strategy}, {self.failures} failures)"
