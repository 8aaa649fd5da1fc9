"""What every source shares: whether it ends (Flink's ``Boundedness``).

A source says how it ends with ``get_boundedness()``; one without the method is
bounded (every built-in source but a ``FileSource`` that monitors its paths). The
environment reads it when a job is submitted: AUTOMATIC mode runs a job with an
unbounded source as STREAMING, and BATCH mode refuses one at once, before any
process starts (BATCH materialises every exchange, so it needs inputs that end).
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["Boundedness", "boundedness_of"]


class Boundedness(enum.Enum):
    """``BOUNDED``: the source ends once it read its input. ``CONTINUOUS_UNBOUNDED``:
    it runs until the job is cancelled (e.g. a ``FileSource`` watching for new files)."""

    BOUNDED = 0
    CONTINUOUS_UNBOUNDED = 1


def boundedness_of(source: Any) -> Boundedness:
    """``source.get_boundedness()``, BOUNDED when the source does not say."""
    get = getattr(source, "get_boundedness", None)
    if get is None:
        return Boundedness.BOUNDED
    boundedness = get()
    if not isinstance(boundedness, Boundedness):
        raise TypeError(
            f"{type(source).__name__}.get_boundedness() returned {boundedness!r}; it must "
            "return Boundedness.BOUNDED or Boundedness.CONTINUOUS_UNBOUNDED"
        )
    return boundedness
