"""Summaries of repeated measurements, a plain-text table and the ``RESULT`` line."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Summary:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> "Summary":
        return cls(statistics.median(values), min(values), max(values))


def mb(n_bytes: float) -> str:
    """Mebibytes, one decimal."""
    return f"{n_bytes / 2**20:.1f}"


def table(header: list[str], rows: list[list[object]]) -> str:
    cells = [header] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for index, row in enumerate(cells):
        lines.append("  ".join(
            value.ljust(width) if column == 0 else value.rjust(width)
            for column, (value, width) in enumerate(zip(row, widths))
        ))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def result_line(name: str, figures: dict[str, object]) -> str:
    return "RESULT " + name + " " + " ".join(f"{key}={_cell(value)}" for key, value in figures.items())


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0 or abs(value) >= 1000:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}"
    return str(value)
