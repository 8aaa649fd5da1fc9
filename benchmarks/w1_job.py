"""W1 of WORKLOADS.md on minicluster: word count over words.txt in BATCH mode.

Usage: python benchmarks/w1_job.py DATA_DIR OUT_DIR [PARALLELISM] [--kill-after-lines N]

Reads ``DATA_DIR/words.txt`` with a FileSource, splits lines on spaces, keys by word,
sums ones (one final count per word, pre-combined before the shuffle), and writes
``word\\tcount`` lines with a FileSink into OUT_DIR. Prints ``JOB_WALL_S <seconds>``.

``--kill-after-lines N`` measures failover (issue 4): the job runs with
``restart-strategy.type: fixed-delay`` (3 attempts, no delay), and the first subtask
of the word splitter to reach its N-th line SIGKILLs its own TaskManager, once over
all subtasks and attempts (a marker file in a fresh temporary folder remembers). The
output must still be the failure-free one.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSink, FileSource, StreamFormat

RESTART = {
    "restart-strategy.type": "fixed-delay",
    "restart-strategy.fixed-delay.attempts": "3",
    "restart-strategy.fixed-delay.delay": "0 ms",
}


def words(line):
    return [(word, 1) for word in line.split()]


class WordsThenDie:
    """``words``, except that the subtask that reaches line ``kill_after`` first (over
    every subtask and attempt: whoever creates ``marker``) kills its TaskManager."""

    def __init__(self, kill_after: int, marker: str) -> None:
        self.kill_after = kill_after
        self.marker = marker
        self.lines = 0

    def __call__(self, line):
        self.lines += 1
        if self.lines == self.kill_after and _first_time(self.marker):
            os.kill(os.getpid(), signal.SIGKILL)
        return [(word, 1) for word in line.split()]


def _first_time(marker: str) -> bool:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("out_dir")
    parser.add_argument("parallelism", nargs="?", type=int, default=2)
    parser.add_argument("--kill-after-lines", type=int, default=None, metavar="N",
                        help="kill one TaskManager once, at a splitter subtask's N-th line")
    args = parser.parse_args()
    shutil.rmtree(args.out_dir, ignore_errors=True)  # part files are uniquely named
    started = time.perf_counter()
    marker_dir = None
    config = {}
    split = words
    if args.kill_after_lines is not None:
        marker_dir = tempfile.mkdtemp(prefix="w1-failover-")
        split = WordsThenDie(args.kill_after_lines, os.path.join(marker_dir, "killed"))
        config = RESTART
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(args.parallelism)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), os.path.join(args.data_dir, "words.txt")
    ).process_static_file_set().build()
    (
        env.from_source(source, WatermarkStrategy.no_watermarks(), "words")
        .flat_map(split)
        .key_by(lambda pair: pair[0])
        .sum(1)
        .map(lambda pair: f"{pair[0]}\t{pair[1]}")
        .sink_to(FileSink.for_row_format(args.out_dir, Encoder.simple_string_encoder()).build())
    )
    try:
        env.execute("W1")
        if marker_dir is not None and not os.path.exists(os.path.join(marker_dir, "killed")):
            sys.exit("w1_job: --kill-after-lines: no subtask reached that line; nothing was killed")
    finally:
        if marker_dir is not None:
            shutil.rmtree(marker_dir, ignore_errors=True)
    print(f"JOB_WALL_S {time.perf_counter() - started:.6f}", flush=True)


if __name__ == "__main__":
    main()
