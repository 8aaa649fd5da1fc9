"""``RuntimeExecutionMode`` (PyFlink's ``pyflink.datastream.RuntimeExecutionMode``),
defined in ``minicluster.common.execution_mode`` beside the configuration that
carries it to the runtime."""

from minicluster.common.execution_mode import RuntimeExecutionMode

__all__ = ["RuntimeExecutionMode"]
