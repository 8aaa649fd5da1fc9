"""Checks on the watermark strategies a job passes to ``from_source``."""

from __future__ import annotations

from typing import Any

from minicluster.common.watermark_strategy import WatermarkStrategy


def check_supported_strategy(strategy: Any) -> None:
    if strategy is None:
        return
    if not isinstance(strategy, WatermarkStrategy):
        raise TypeError(
            f"from_source() takes a WatermarkStrategy, got {type(strategy).__name__}"
        )
    if strategy.generates_watermarks:
        raise NotImplementedError(
            f"{strategy!r}: event time is not supported yet; use "
            "WatermarkStrategy.no_watermarks()"
        )
