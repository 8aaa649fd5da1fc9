"""Credit-based flow control bounds memory when the consumer is slower than the producer.

    TaskManager 0                                  TaskManager 1
    numbers (p=1) -> Map: pad to ~110 B  -REBALANCE->  Sink: ~5 us busy work per record
                     (notes when it emits                (notes its first and last
                      its last record)                    record)

300,000 records of ~110 bytes are ~33 MB on the wire; the source produces them in
well under a second while the sink needs a few seconds. With credit (4 batches per
channel) the source is throttled to the sink's pace and neither TaskManager grows; as
a control, the same job with practically unlimited credit piles the data up in the
sink's TaskManager and lets the source finish early, which shows the measurement can
see what backpressure prevents.
"""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource
from minicluster.jobmanager.cluster import MiniCluster

RECORDS = 300_000
PADDING = "x" * 100
SINK_WORK_S = 5e-6
MB = 1 << 20


class RssSampler:
    """Samples the RSS of some processes from a background thread until stopped."""

    def __init__(self, pids, interval_s=0.02):
        self.processes = [psutil.Process(pid) for pid in pids]
        self.interval_s = interval_s
        self.peaks = [p.memory_info().rss for p in self.processes]
        self.baseline = list(self.peaks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval_s):
            for i, process in enumerate(self.processes):
                self.peaks[i] = max(self.peaks[i], process.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def growth_mb(self):
        return [(peak - base) / MB for peak, base in zip(self.peaks, self.baseline)]


def run_job(records, times_path):
    """numbers -> pad (TaskManager 0) -REBALANCE-> slow sink (TaskManager 1)."""
    last = records - 1
    times_path = str(times_path)

    def pad(value):
        if value == last:
            with open(times_path, "a") as file:
                file.write(f"source_last {time.monotonic()!r}\n")
        return f"{value:010d}{PADDING}"

    seen = [0]

    def slow_sink(value):
        count = seen[0] = seen[0] + 1
        if count == 1:
            with open(times_path, "a") as file:
                file.write(f"sink_first {time.monotonic()!r}\n")
        deadline = time.perf_counter() + SINK_WORK_S
        while time.perf_counter() < deadline:
            pass
        if count == records:
            with open(times_path, "a") as file:
                file.write(f"sink_last {time.monotonic()!r}\n")

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    (
        env.from_source(NumberSequenceSource(0, last), WatermarkStrategy.no_watermarks(), "numbers")
        .map(pad)
        .rebalance()
        .add_sink(slow_sink)
        .slot_sharing_group("sink")  # its own slot: slot 1, on TaskManager 1
    )
    env.execute("slow sink")
    with open(times_path) as file:
        return {name: float(value) for name, value in (line.split() for line in file)}


def source_progress(times):
    """When the source emitted its last record, as a fraction of the sink's run."""
    sink_run = times["sink_last"] - times["sink_first"]
    return (times["source_last"] - times["sink_first"]) / sink_run


@pytest.mark.parametrize(
    "credit,bounded", [(4, True), (1_000_000, False)], ids=["credit-4", "control-unbounded"]
)
def test_slow_sink_throttles_the_source_and_bounds_memory(tmp_path, credit, bounded):
    cluster = MiniCluster(taskmanagers=2, slots_per_taskmanager=1, buffers_per_channel=credit)
    with cluster, cluster.activate():
        run_job(20_000, tmp_path / "warm-up.txt")  # imports, allocator arenas
        with RssSampler(cluster.taskmanager_pids) as sampler:
            started = time.monotonic()
            times = run_job(RECORDS, tmp_path / "times.txt")
            took = time.monotonic() - started

    growth = sampler.growth_mb()
    progress = source_progress(times)
    assert took >= RECORDS * SINK_WORK_S  # the sink's busy work alone
    if bounded:
        assert max(growth) < 15, f"RSS growth per TaskManager {growth} MB"
        # The source could not run ahead: it emitted its last record near the end.
        assert progress > 0.8, f"source finished at {progress:.0%} of the sink's run"
    else:
        # ~33 MB of records queue up in the sink's TaskManager; the source is done
        # long before the sink.
        assert growth[1] > 30, f"RSS growth per TaskManager {growth} MB"
        assert progress < 0.5, f"source finished at {progress:.0%} of the sink's run"
