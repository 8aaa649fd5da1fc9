"""RuntimeExecutionMode: configuration and the choice of BATCH execution."""

import pytest

from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment


def test_streaming_is_the_default_and_the_mode_is_configurable():
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.get_runtime_mode() is RuntimeExecutionMode.STREAMING
    env.set_runtime_mode(RuntimeExecutionMode.AUTOMATIC)
    assert env.get_runtime_mode() is RuntimeExecutionMode.AUTOMATIC
    configured = StreamExecutionEnvironment.get_execution_environment(
        {"execution.runtime-mode": "batch"}
    )
    assert configured.get_runtime_mode() is RuntimeExecutionMode.BATCH


def test_automatic_resolves_by_boundedness():
    assert RuntimeExecutionMode.AUTOMATIC.resolve(True) is RuntimeExecutionMode.BATCH
    assert RuntimeExecutionMode.AUTOMATIC.resolve(False) is RuntimeExecutionMode.STREAMING
    assert RuntimeExecutionMode.STREAMING.resolve(True) is RuntimeExecutionMode.STREAMING


def test_a_bad_mode_is_refused():
    env = StreamExecutionEnvironment.get_execution_environment({"execution.runtime-mode": "fast"})
    with pytest.raises(ValueError, match="is not one of STREAMING, BATCH, AUTOMATIC"):
        env.get_runtime_mode()
    with pytest.raises(TypeError, match="takes a RuntimeExecutionMode"):
        env.set_runtime_mode("BATCH")


@pytest.mark.parametrize("mode", [RuntimeExecutionMode.BATCH, RuntimeExecutionMode.AUTOMATIC])
def test_batch_and_automatic_run_stage_by_stage(mode):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(mode)
    env.set_parallelism(2)
    stream = env.from_collection([1, 2, 3]).key_by(lambda v: v % 2).reduce(lambda a, b: a + b)
    # AUTOMATIC resolves to BATCH (every source is bounded): one result per key.
    assert sorted(stream.execute_and_collect()) == [2, 4]
