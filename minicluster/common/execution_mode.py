"""``RuntimeExecutionMode`` (PyFlink's ``pyflink.datastream.RuntimeExecutionMode``).

Chosen with ``env.set_runtime_mode(mode)`` or the configuration key
``execution.runtime-mode`` (``STREAMING``, ``BATCH`` or ``AUTOMATIC``, any case; parsed
by ``execution_config.py``); the default is STREAMING, as in Flink. AUTOMATIC means
BATCH when every source of the job is bounded (``get_boundedness()``, see
``common/boundedness.py``), else STREAMING. It lives in ``common`` because the
runtime reads the resolved mode from the job's ``ExecutionConfig``; the API exports it
as ``minicluster.datastream.RuntimeExecutionMode``.
"""

from __future__ import annotations

import enum


class RuntimeExecutionMode(enum.Enum):
    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2

    def __str__(self) -> str:
        return self.name

    def resolve(self, all_sources_bounded: bool) -> RuntimeExecutionMode:
        """STREAMING or BATCH: what the job actually runs as."""
        if self is RuntimeExecutionMode.AUTOMATIC:
            return RuntimeExecutionMode.BATCH if all_sources_bounded else RuntimeExecutionMode.STREAMING
        return self


__all__ = ["RuntimeExecutionMode"]
