"""W2 of WORKLOADS.md on minicluster: event-time tumbling windows over events.csv.

Usage: python benchmarks/w2_job.py DATA_DIR OUT_DIR [PARALLELISM]
Reads ``DATA_DIR/events.csv`` (``ts_ms,key,value``), assigns timestamps from the first
field with a bounded out-of-orderness of 2 s, keys by the key, sums value and counts
per 10 s tumbling window, and writes ``key\\twindow_end\\tsum\\tcount`` lines to one part
file per subtask in OUT_DIR. Prints ``JOB_WALL_S <seconds>`` (environment through
``execute()``).
"""

import os
import sys
import time

from minicluster.common import Duration, Time, WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.functions import (
    AggregateFunction,
    ProcessWindowFunction,
    SinkFunction,
)
from minicluster.datastream.window import TumblingEventTimeWindows


def parse(line):
    ts, key, value = line.split(",")
    return int(ts), key, int(value)


class SumAndCount(AggregateFunction):
    def create_accumulator(self):
        return [0, 0]

    def add(self, value, accumulator):
        accumulator[0] += value[2]
        accumulator[1] += 1
        return accumulator

    def get_result(self, accumulator):
        return accumulator

    def merge(self, a, b):
        return [a[0] + b[0], a[1] + b[1]]


class WithWindowEnd(ProcessWindowFunction):
    def process(self, key, context, elements):
        for total, count in elements:
            yield f"{key}\t{context.window().end}\t{total}\t{count}"


class PartFileSink(SinkFunction):
    """One part file per subtask (a stand-in until the FileSink exists)."""

    def __init__(self, directory):
        self.directory = directory

    def open(self, runtime_context):
        index = runtime_context.get_index_of_this_subtask()
        self.file = open(os.path.join(self.directory, f"part-{index}"), "w")

    def invoke(self, value, context):
        self.file.write(value + "\n")

    def close(self):
        self.file.close()


def main() -> None:
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    parallelism = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    os.makedirs(out_dir, exist_ok=True)
    started = time.perf_counter()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_seconds(2)
    ).with_timestamp_assigner(lambda event, record_ts: event[0])
    (
        env.read_text_file(os.path.join(data_dir, "events.csv"))
        .map(parse)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(lambda event: event[1])
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .aggregate(SumAndCount(), window_function=WithWindowEnd())
        .add_sink(PartFileSink(out_dir))
    )
    env.execute("W2")
    print(f"JOB_WALL_S {time.perf_counter() - started:.6f}", flush=True)


if __name__ == "__main__":
    main()
