"""Restart strategies (Flink's ``RestartBackoffTimeStrategy``), read from the config.

    restart-strategy.type = none          the first failure fails the job (default)
                          = fixed-delay   at most ``attempts`` restarts, ``delay`` apart
                          = failure-rate  fail once more than ``max-failures-per-interval``
                                          failures fall within ``failure-rate-interval``
    jobmanager.execution.failover-strategy = region (default) | full

The strategy is pure: the supervisor tells it about each failure
(``notify_failure``), then asks ``can_restart()`` and ``backoff_s``. Time comes from an
injected clock, so the failure-rate window is tested without sleeping. Only BATCH jobs
restart; a STREAMING job fails on its first failure whatever the strategy says.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

TYPE_KEY = "restart-strategy.type"
FIXED_ATTEMPTS_KEY = "restart-strategy.fixed-delay.attempts"
FIXED_DELAY_KEY = "restart-strategy.fixed-delay.delay"
RATE_MAX_KEY = "restart-strategy.failure-rate.max-failures-per-interval"
RATE_INTERVAL_KEY = "restart-strategy.failure-rate.failure-rate-interval"
RATE_DELAY_KEY = "restart-strategy.failure-rate.delay"
FAILOVER_KEY = "jobmanager.execution.failover-strategy"

_UNITS_MS = {
    "": 1, "ms": 1, "milli": 1, "millis": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "min": 60_000, "m": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_duration_ms(key: str, raw: str) -> int:
    """Flink's duration syntax: ``"0 ms"``, ``"1 s"``, ``"2 min"``; a bare number is ms."""
    match = _DURATION.match(raw.lower())
    if match is None or match.group(2) not in _UNITS_MS:
        raise ValueError(
            f"configuration {key}={raw!r} is not a duration; write e.g. '0 ms', '1 s' "
            "or '1 min'"
        )
    return int(float(match.group(1)) * _UNITS_MS[match.group(2)])


def _count(config: dict[str, str], key: str, default: int, minimum: int) -> int:
    raw = config.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"configuration {key}={raw!r} is not an integer") from None
    if value < minimum:
        raise ValueError(f"configuration {key}={raw!r} must be >= {minimum}")
    return value


def _duration(config: dict[str, str], key: str, default_ms: int) -> int:
    raw = config.get(key)
    return default_ms if raw is None else parse_duration_ms(key, raw)


@dataclass(frozen=True, slots=True)
class RestartStrategyConfig:
    """The validated ``restart-strategy.*`` and failover-strategy settings.

    Attributes:
        type: ``none``, ``fixed-delay`` or ``failure-rate``.
        attempts: fixed-delay: how many restarts at most.
        max_failures: failure-rate: failures allowed within ``interval_ms``.
        interval_ms: failure-rate: the sliding window.
        delay_ms: pause before each restart.
        failover: ``region`` (re-run what must re-run) or ``full`` (everything).
    """

    type: str = "none"
    attempts: int = 1
    max_failures: int = 1
    interval_ms: int = 60_000
    delay_ms: int = 0
    failover: str = "region"

    def __post_init__(self) -> None:
        if self.type not in ("none", "fixed-delay", "failure-rate"):
            raise ValueError(
                f"configuration {TYPE_KEY}={self.type!r} is not a restart strategy; "
                "use none, fixed-delay or failure-rate"
            )
        if self.failover not in ("region", "full"):
            raise ValueError(
                f"configuration {FAILOVER_KEY}={self.failover!r} is not a failover "
                "strategy; use region or full"
            )
        if self.attempts < 0 or self.max_failures < 1 or self.interval_ms < 1 or self.delay_ms < 0:
            raise ValueError(f"invalid restart strategy settings: {self}")

    @classmethod
    def from_config(cls, config: dict[str, str]) -> "RestartStrategyConfig":
        """Read and validate; an error names the offending key."""
        kind = config.get(TYPE_KEY, "none").strip().lower()
        aliases = {"disable": "none", "off": "none", "no_restart": "none",
                   "fixeddelay": "fixed-delay", "failurerate": "failure-rate"}
        kind = aliases.get(kind, kind)
        failover = config.get(FAILOVER_KEY, "region").strip().lower()
        if kind not in ("none", "fixed-delay", "failure-rate"):
            cls(type=kind)  # raises, naming the key
        if kind == "fixed-delay":
            return cls(
                type=kind,
                attempts=_count(config, FIXED_ATTEMPTS_KEY, 1, 0),
                delay_ms=_duration(config, FIXED_DELAY_KEY, 0),
                failover=failover,
            )
        if kind == "failure-rate":
            return cls(
                type=kind,
                max_failures=_count(config, RATE_MAX_KEY, 1, 1),
                interval_ms=_duration(config, RATE_INTERVAL_KEY, 60_000) or 1,
                delay_ms=_duration(config, RATE_DELAY_KEY, 0),
                failover=failover,
            )
        return cls(type=kind, failover=failover)

    def create(self, now: Callable[[], float] = time.monotonic) -> "RestartStrategy":
        return RestartStrategy(self, now)


class RestartStrategy:
    """One job's restart bookkeeping (the running logic of a ``RestartStrategyConfig``)."""

    def __init__(self, config: RestartStrategyConfig, now: Callable[[], float]) -> None:
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
        if config.type == "fixed-delay":
            return self.failures <= config.attempts
        if config.type == "failure-rate":
            horizon = self._now() - config.interval_ms / 1000
            while self._failure_times and self._failure_times[0] < horizon:
                self._failure_times.popleft()
            return len(self._failure_times) <= config.max_failures
        return False

    @property
    def backoff_s(self) -> float:
        return self.config.delay_ms / 1000

    def __repr__(self) -> str:
        return f"RestartStrategy({self.config.type}, {self.failures} failures)"
