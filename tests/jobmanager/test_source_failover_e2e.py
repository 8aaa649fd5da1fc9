"""A re-run split-source subtask reads its splits again (Flink's ``addSplitsBack``).

    words file --FileSource (p=2, many splits)--> flat_map (kills its TaskManager once,
    mid-input) ==HASH==> sum -> FileSink

The killed subtask had taken splits from the enumerator; when its region re-runs,
``SourceCoordinator.return_splits`` gives them back, so every line is counted once.
"""

from __future__ import annotations

import collections
import os
import signal

from minicluster.common import Encoder, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors._file_splits import (
    FileSourceSplit,
    StaticFileSplitEnumerator,
)
from minicluster.datastream.connectors.file_system import FileSink, FileSource, StreamFormat
from minicluster.jobmanager.source_coordinator import SourceCoordinator
from minicluster.slots import messages as msg


def test_return_splits_hands_a_re_run_subtasks_splits_out_again_first():
    splits = [FileSourceSplit(str(i), "/f", i * 10, 10) for i in range(4)]
    coordinator = SourceCoordinator({7: StaticFileSplitEnumerator(splits)})

    def ask(subtask):
        return coordinator.assign(msg.RequestSplit(1, 7, subtask)).split

    assert [ask(0), ask(1), ask(0)] == [splits[0], splits[1], splits[2]]
    coordinator.return_splits({(7, 0)})
    assert [ask(1), ask(1), ask(1), ask(1)] == [splits[0], splits[2], splits[3], None]
    coordinator.return_splits({(7, 0)})  # nothing more was given to subtask 0
    assert ask(0) is None


def test_a_killed_source_subtask_re_reads_its_splits(tmp_path):
    lines = [" ".join(f"w{(i * 7 + j) % 13}" for j in range(i % 5 + 1)) for i in range(3000)]
    (tmp_path / "words.txt").write_text("\n".join(lines) + "\n")
    expected = collections.Counter(word for line in lines for word in line.split())
    marker = str(tmp_path / "killed")
    seen = [0]

    def words_then_die(line):
        seen[0] += 1
        if seen[0] == 500:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return [(word, 1) for word in line.split()]

    env = StreamExecutionEnvironment.get_execution_environment({
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "2",
        "restart-strategy.fixed-delay.delay": "0 ms",
        "minicluster.batch-size": "64",
        "minicluster.source.file.split-size": "2048",  # many splits per subtask
    })
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), str(tmp_path / "words.txt")
    ).process_static_file_set().build()
    out = tmp_path / "out"
    (
        env.from_source(source, WatermarkStrategy.no_watermarks(), "words")
        .flat_map(words_then_die)
        .key_by(lambda pair: pair[0])
        .sum(1)
        .map(lambda pair: f"{pair[0]}\t{pair[1]}")
        .sink_to(FileSink.for_row_format(str(out), Encoder.simple_string_encoder()).build())
    )
    env.execute("source failover")
    assert os.path.exists(marker)
    counted = {}
    for name in os.listdir(out):
        if not name.startswith("."):
            for row in (out / name).read_text().splitlines():
                word, count = row.split("\t")
                assert word not in counted
                counted[word] = int(count)
    assert counted == dict(expected)
