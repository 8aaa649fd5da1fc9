"""Order-insensitive equality that says what is missing and what is unexpected."""

from __future__ import annotations

from collections import Counter
from typing import Iterable


def assert_equal_unordered(actual: Iterable[object], expected: Iterable[object]) -> None:
    """Assert ``actual`` and ``expected`` hold the same records, counting repeats.

    Raises:
        AssertionError: listing (up to 10 of) the missing and the unexpected records.
    """
    have, want = Counter(actual), Counter(expected)
    if have == want:
        return
    missing = list((want - have).elements())
    unexpected = list((have - want).elements())
    raise AssertionError(
        f"records differ: {len(missing)} missing {missing[:10]!r}, "
        f"{len(unexpected)} unexpected {unexpected[:10]!r}"
    )
