"""``minicluster run`` as a user runs it: the console script in a subprocess.

Each run gets a private, short ``TMPDIR`` so the test can check that the run left no
runtime folder behind without racing other clusters under ``/tmp``.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from minicluster.state import subtask_for_key

MAIN = Path(__file__).resolve().parents[2]  # /work/main
WORD_COUNT = MAIN / "examples" / "word_count.py"
PRINTED_PAIR = re.compile(r"([1-9]\d*)> (\(.*\))")


@pytest.fixture
def run_cli():
    cli = shutil.which("minicluster")
    assert cli, "the minicluster console script is not installed"
    tmpdir = tempfile.mkdtemp(prefix="mc-cli-")

    def run(*args, timeout=60):
        env = {**os.environ, "TMPDIR": tmpdir, "NO_COLOR": "1", "COLUMNS": "200"}
        result = subprocess.run(
            [cli, *map(str, args)], cwd=MAIN, env=env, capture_output=True, text=True,
            timeout=timeout,
        )
        assert os.listdir(tmpdir) == [], "the run left its runtime folder behind"
        return result

    yield run
    shutil.rmtree(tmpdir, ignore_errors=True)


def plain(text):
    """Help and error text without the box drawing and line wrapping of the terminal UI."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def example_words(lines):
    """The example's own tokenizer, to compute the expected counts."""
    namespace = {}
    exec(compile(WORD_COUNT.read_text(), str(WORD_COUNT), "exec"), namespace)
    return [word for line in lines for word, _ in namespace["split"](line)]


def parse_printed_pairs(stdout):
    """``{word: [(subtask prefix, running count), ...]}`` from ``N> (word, count)`` lines."""
    printed = defaultdict(list)
    for line in stdout.splitlines():
        match = PRINTED_PAIR.fullmatch(line)
        assert match, f"unexpected output line {line!r}"
        word, count = ast.literal_eval(match.group(2))
        printed[word].append((int(match.group(1)), count))
    return printed


def assert_word_counts(stdout, words, parallelism):
    expected = Counter(words)
    printed = parse_printed_pairs(stdout)
    assert set(printed) == set(expected)
    for word, n in expected.items():
        prefixes = {prefix for prefix, _ in printed[word]}
        # One running count per occurrence, 1..n, all printed by the key's subtask.
        assert [count for _, count in printed[word]] == list(range(1, n + 1)), word
        assert prefixes == {subtask_for_key(word, parallelism, 128) + 1}, word


# -- help ---------------------------------------------------------------------------


def test_help_explains_the_tool(run_cli):
    result = run_cli("--help")

    assert result.returncode == 0
    text = plain(result.stdout)
    assert "Usage: minicluster" in text
    assert "run Run JOB.py on an embedded cluster" in text


def test_run_help_documents_parallelism_and_definitions(run_cli):
    result = run_cli("run", "--help")

    assert result.returncode == 0
    text = plain(result.stdout)
    assert "Usage: minicluster run" in text
    assert "--parallelism -p" in text and "parallelism.default" in text
    assert "--define -D" in text and "key=value" in text
    assert "after `--`" in text


# -- running the example ------------------------------------------------------------


def test_word_count_example_prints_prefixed_running_counts(run_cli):
    result = run_cli("run", "examples/word_count.py", "-p", "2", "-D", "taskmanager.count=2")

    assert result.returncode == 0, result.stderr
    namespace = {}
    exec(compile(WORD_COUNT.read_text(), str(WORD_COUNT), "exec"), namespace)
    assert_word_counts(result.stdout, example_words(namespace["TEXT"]), 2)
    assert parse_printed_pairs(result.stdout)["to"][-1][1] == 6  # "To be, or not to be", ...
    assert result.stderr == ""


def test_job_arguments_after_double_dash_reach_the_script(run_cli, tmp_path):
    lines = ["the cat sat on the mat", "", "The Cat, the hat!", "mat " * 40]
    source = tmp_path / "input.txt"
    source.write_text("\n".join(lines))

    result = run_cli(
        "run", WORD_COUNT, "-p", "3", "-D", "taskmanager.count=3", "--", "--input", source
    )

    assert result.returncode == 0, result.stderr
    assert_word_counts(result.stdout, example_words(lines), 3)


# -- errors -------------------------------------------------------------------------


def test_definition_without_equals_sign_is_rejected(run_cli):
    result = run_cli("run", "examples/word_count.py", "-D", "bad")

    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "Invalid value for -D: 'bad' is not key=value (e.g. -D "
        "taskmanager.numberOfTaskSlots=2)" in plain(result.stderr)
    )


FAILING_JOB = '''
from minicluster.datastream import StreamExecutionEnvironment


def check_positive(value):
    if value < 0:
        raise ValueError(f"negative value {value}")
    return value


env = StreamExecutionEnvironment.get_execution_environment()
env.from_collection([1, 2, -3, 4]).map(check_positive).name("Check").print()
env.execute("checker")
'''


def test_failing_job_exits_1_with_the_error_and_the_user_traceback(run_cli, tmp_path):
    script = tmp_path / "failing_job.py"
    script.write_text(FAILING_JOB)
    raise_line = 1 + FAILING_JOB.splitlines().index(
        '        raise ValueError(f"negative value {value}")'
    )

    result = run_cli("run", script, "-p", "2", "-D", "taskmanager.count=2")

    assert result.returncode == 1
    stderr = result.stderr
    assert f'File "{script}", line {raise_line}, in check_positive' in stderr
    assert "ValueError: negative value -3" in stderr
    assert re.search(
        r"^Error: Job 'checker' failed: operator 'Check' \(subtask 1/2 of task "
        r"'Check -> Print to Std\. Out', TaskManager 0\) raised ValueError: "
        r"negative value -3$",
        stderr,
        re.MULTILINE,
    ), stderr
    # The traceback comes before the one-line summary, which is the last line.
    assert stderr.index("in check_positive") < stderr.index("Error: Job")
    assert stderr.rstrip("\n").splitlines()[-1].startswith("Error: Job 'checker' failed")


def test_parallelism_beyond_the_default_cluster_fails_with_not_enough_slots(run_cli):
    # The default cluster has one 1-slot TaskManager per CPU.
    cpus = os.cpu_count() or 1
    parallelism = max(8, cpus + 1)

    result = run_cli("run", "examples/word_count.py", "-p", parallelism)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: job 'word count' needs {parallelism} slots (per slot sharing group: "
        f"'default': {parallelism}) but the cluster has {cpus} ({cpus} TaskManagers x 1 "
        "slots); lower the parallelism or raise taskmanager.numberOfTaskSlots / "
        "taskmanager.count\n"
    )


def test_missing_job_script_is_reported(run_cli, tmp_path):
    result = run_cli("run", tmp_path / "nope.py")

    assert result.returncode == 2
    assert "nope.py" in plain(result.stderr) and "does not exist" in plain(result.stderr)
