"""W1 of WORKLOADS.md on minicluster: word count over words.txt in BATCH mode.

Usage: python benchmarks/w1_job.py DATA_DIR OUT_DIR [PARALLELISM]
Reads ``DATA_DIR/words.txt`` with a FileSource, splits lines on spaces, keys by word,
sums ones (one final count per word, pre-combined before the shuffle), and writes
``word\\tcount`` lines with a FileSink into OUT_DIR. Prints ``JOB_WALL_S <seconds>``.
"""

import os
import shutil
import sys
import time

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSink, FileSource, StreamFormat


def words(line):
    return [(word, 1) for word in line.split()]


def main() -> None:
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    parallelism = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    shutil.rmtree(out_dir, ignore_errors=True)  # part files are uniquely named: start empty
    started = time.perf_counter()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), os.path.join(data_dir, "words.txt")
    ).process_static_file_set().build()
    (
        env.from_source(source, WatermarkStrategy.no_watermarks(), "words")
        .flat_map(words)
        .key_by(lambda pair: pair[0])
        .sum(1)
        .map(lambda pair: f"{pair[0]}\t{pair[1]}")
        .sink_to(FileSink.for_row_format(out_dir, Encoder.simple_string_encoder()).build())
    )
    env.execute("W1")
    print(f"JOB_WALL_S {time.perf_counter() - started:.6f}", flush=True)


if __name__ == "__main__":
    main()
