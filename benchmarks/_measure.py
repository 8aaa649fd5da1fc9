"""Run a command as a child process: wall time from outside, peak RSS of its process tree.

``measure(argv)`` times the whole process (``Popen`` to exit) and samples, from a
thread in this process every ``interval`` seconds, the sum of the RSS of the child and
all its descendants (forked TaskManagers included); the peak sample is reported.
``peak_rss_probe(commands)`` is that separate untimed run per command, sampled every
2 ms, for processes too short for 50 ms sampling to see their peak.
``interleave(commands, runs)`` runs several commands round by round, rotating their
order each round, so that noise on a shared machine falls on all of them alike.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_INTERVAL_S = 0.05
# One sample (walking /proc for the tree) costs about 1 ms of CPU: too much to do every
# few ms during a timed run on 2 cores, but needed to see the short-lived TaskManagers
# of a 0.15 s process; so short processes get a separate, untimed, fine-sampled run.
PROBE_INTERVAL_S = 0.002


@dataclass
class Measurement:
    wall_s: float
    peak_rss_bytes: int
    stdout: str

    def reported(self, key: str) -> float | None:
        """The float printed by the child on a line ``KEY <value>``, if any."""
        for line in self.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return float(parts[1])
        return None


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            pass
    return total


def measure(argv: list[str], cwd: str | None = None, interval: float = SAMPLE_INTERVAL_S) -> Measurement:
    peak = 0
    stop = threading.Event()

    def sample(pid: int) -> None:
        nonlocal peak
        try:
            process = psutil.Process(pid)
        except psutil.Error:
            return
        while True:
            peak = max(peak, _tree_rss(process))
            if stop.wait(interval):
                return

    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = threading.Thread(target=sample, args=(child.pid,), daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with status {child.returncode}:\n{stderr.strip()}"
        )
    return Measurement(wall, peak, stdout)


def interleave(
    commands: dict[str, list[str]],
    runs: int,
    cwd: str | None = None,
    warmup: dict[str, list[str]] | None = None,
    progress=None,
) -> dict[str, list[Measurement]]:
    """``runs`` measurements of each command, one of each per round, order rotated.

    ``warmup`` commands (default: the commands themselves) run once first, unmeasured,
    so that the first measured run does not pay for cold bytecode and page caches.
    """
    for argv in (warmup if warmup is not None else commands).values():
        measure(argv, cwd)
    labels = list(commands)
    results: dict[str, list[Measurement]] = {label: [] for label in labels}
    for round_index in range(runs):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            results[label].append(measure(commands[label], cwd))
        if progress is not None:
            progress(round_index + 1, runs)
    return results


def peak_rss_probe(commands: dict[str, list[str]], cwd: str | None = None) -> dict[str, int]:
    """Peak tree RSS of one untimed run of each command, sampled every 2 ms."""
    return {
        label: measure(argv, cwd, interval=PROBE_INTERVAL_S).peak_rss_bytes
        for label, argv in commands.items()
    }
