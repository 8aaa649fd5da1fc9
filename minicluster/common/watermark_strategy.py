"""``WatermarkStrategy`` (PyFlink's ``pyflink.common.watermark_strategy``).

Only ``no_watermarks()`` exists so far: event time, timestamp assigners and watermark
generators arrive with the stateful streaming work. Until then a job that asks for
them fails at once with a clear error rather than silently running without event time.
"""

from __future__ import annotations


class WatermarkStrategy:
    def __init__(self, kind: str) -> None:
        self._kind = kind

    @staticmethod
    def no_watermarks() -> "WatermarkStrategy":
        """Records carry no event time and no watermarks are generated."""
        return WatermarkStrategy("no_watermarks")

    @property
    def generates_watermarks(self) -> bool:
        return self._kind != "no_watermarks"

    def __repr__(self) -> str:
        return f"WatermarkStrategy.{self._kind}()"


__all__ = ["WatermarkStrategy"]
