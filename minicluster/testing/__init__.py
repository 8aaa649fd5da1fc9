"""Testing helpers for job code: a reusable cluster and order-insensitive checks.

Key pieces:
    - pytest fixtures (installed automatically with the package, see ``plugin``):
      ``minicluster_session_cluster`` (one cluster per test session),
      ``minicluster_cluster`` (that cluster, active for one test) and ``stream_env``
      (a fresh environment whose ``execute()`` runs on it).
    - ``assert_equal_unordered(actual, expected)``: equal as multisets, reporting the
      missing and the unexpected records.
    - ``TestStream``: a source with scripted records, timestamps, watermarks and
      idleness (``TestStream.builder()``, ``TimestampedValue``), after Beam's.
"""

from minicluster.testing.assertions import assert_equal_unordered
from minicluster.testing.test_stream import TestStream, TestStreamBuilder, TimestampedValue

__all__ = ["TestStream", "TestStreamBuilder", "TimestampedValue", "assert_equal_unordered"]
