"""The pipeline benchmark's cluster job: numbers -> map -> key_by -> sum -> discard, p=2.

Usage: python benchmarks/pipeline_job.py RECORDS [BATCH_SIZE]
Prints ``JOB_WALL_S <seconds>``: environment creation through ``execute()`` returning
(cluster start, the job, cluster stop), excluding interpreter start and imports.
"""

import sys
import time

from minicluster.common import WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.number_seq import NumberSequenceSource


def main() -> None:
    n = int(sys.argv[1])
    config = {"minicluster.batch-size": sys.argv[2]} if len(sys.argv) > 2 else None
    started = time.perf_counter()
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(2)
    (
        env.from_source(NumberSequenceSource(0, n - 1), WatermarkStrategy.no_watermarks(), "numbers")
        .map(lambda x: (x % 1000, 1))
        .key_by(lambda t: t[0])
        .sum(1)
        .add_sink(lambda v: None)
    )
    env.execute("pipeline")
    print(f"JOB_WALL_S {time.perf_counter() - started:.6f}", flush=True)


if __name__ == "__main__":
    main()
