"""``RuntimeExecutionMode`` (PyFlink's ``pyflink.datastream.RuntimeExecutionMode``).

Chosen with ``env.set_runtime_mode(mode)`` or the configuration key
``execution.runtime-mode`` (``STREAMING``, ``BATCH`` or ``AUTOMATIC``, any case);
the default is STREAMING, as in Flink. AUTOMATIC means BATCH when every source of the
job is bounded (``get_boundedness()``, see ``boundedness.py``), else STREAMING.
"""

from __future__ import annotations

import enum

CONFIG_KEY = "execution.runtime-mode"


class RuntimeExecutionMode(enum.Enum):
    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def from_config(config: dict[str, str]) -> RuntimeExecutionMode:
        raw = config.get(CONFIG_KEY)
        if raw is None:
            return RuntimeExecutionMode.STREAMING
        try:
            return RuntimeExecutionMode[raw.strip().upper()]
        except KeyError:
            raise ValueError(
                f"{CONFIG_KEY}={raw!r} is not one of STREAMING, BATCH, AUTOMATIC"
            ) from None

    def resolve(self, all_sources_bounded: bool) -> RuntimeExecutionMode:
        """STREAMING or BATCH: what the job actually runs as."""
        if self is RuntimeExecutionMode.AUTOMATIC:
            return RuntimeExecutionMode.BATCH if all_sources_bounded else RuntimeExecutionMode.STREAMING
        return self


__all__ = ["RuntimeExecutionMode"]
