"""Timers in BATCH mode fire per key, as Flink's batch execution does: when a key's
records are all in (the next key starts, or the input ends), its event-time timers fire
with the watermark at +inf, then its processing-time timers (the wall clock never fires
them, even when due); the next key sees the watermark at -inf again. Timers registered
while a key's timers fire are ignored, with a warning (else a re-arming timer would
fire forever)."""

from __future__ import annotations

import pytest

from minicluster.common import Types
from minicluster.datastream import (
    KeyedProcessFunction,
    RuntimeExecutionMode,
    StreamExecutionEnvironment,
)
from minicluster.datastream.state import ValueStateDescriptor
from minicluster.network.events import MAX_WATERMARK, MIN_WATERMARK

LONG_AGO_MS = 1  # due at once: only the end of the key may fire it


class TimersPerKey(KeyedProcessFunction):
    """Counts a key's records; registers an event-time timer at the record's value and
    a processing-time timer that is due at once; the timers report the count and try
    to register more."""

    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value, ctx):
        key, at = value
        self.count.update((self.count.value() or 0) + 1)
        service = ctx.timer_service()
        service.register_event_time_timer(at)
        service.register_processing_time_timer(LONG_AGO_MS)
        yield ("element", key, service.current_watermark())

    def on_timer(self, timestamp, ctx):
        domain = ctx.time_domain().name
        watermark = ctx.timer_service().current_watermark()
        yield ("timer", ctx.get_current_key(), domain, self.count.value(), watermark)
        service = ctx.timer_service()
        service.register_event_time_timer(timestamp + 1)  # ignored: the service is quiesced
        service.register_processing_time_timer(timestamp + 60_000)  # (re-arming) ignored


RECORDS = [("a", 5), ("b", 30), ("a", 20), ("c", 1), ("b", 30), ("a", 20)]


def run(parallelism: int):
    # one record per batch: a key's records span several task steps
    env = StreamExecutionEnvironment.get_execution_environment({"minicluster.batch-size": "1"})
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    stream = (
        env.from_collection(RECORDS)
        .key_by(lambda record: record[0])
        .process(TimersPerKey())
    )
    return list(stream.execute_and_collect())


def test_timers_fire_at_the_end_of_each_key_in_both_domains(minicluster_cluster, capsys):
    out = run(1)

    keys_in_order = list(dict.fromkeys(r[1] for r in out))
    assert sorted(keys_in_order) == ["a", "b", "c"]
    expected_count = {"a": 3, "b": 2, "c": 1}
    expected = []
    for key in keys_in_order:  # each key: its elements, then its timers, then the next key
        count = expected_count[key]
        expected += [("element", key, MIN_WATERMARK)] * count
        event_timers = {"a": 2, "b": 1, "c": 1}[key]  # a: 5 and 20
        expected += [("timer", key, "EVENT_TIME", count, MAX_WATERMARK)] * event_timers
        expected += [("timer", key, "PROCESSING_TIME", count, MAX_WATERMARK)]
    assert out == expected
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if "timers registered then are ignored" in line]
    assert len(warnings) == 1, "one warning per operator"


@pytest.mark.parametrize("parallelism", [2, 4])
def test_every_key_fires_its_timers_at_any_parallelism(minicluster_cluster, parallelism):
    out = run(parallelism)

    timers = sorted(r for r in out if r[0] == "timer")
    assert timers == sorted(
        [("timer", "a", "EVENT_TIME", 3, MAX_WATERMARK)] * 2
        + [("timer", "b", "EVENT_TIME", 2, MAX_WATERMARK)]
        + [("timer", "c", "EVENT_TIME", 1, MAX_WATERMARK)]
        + [("timer", k, "PROCESSING_TIME", n, MAX_WATERMARK) for k, n in
           (("a", 3), ("b", 2), ("c", 1))]
    )
