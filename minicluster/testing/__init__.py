"""Testing helpers for job code: a reusable cluster and order-insensitive checks.

Key pieces:
    - pytest fixtures (installed automatically with the package, see ``plugin``):
      ``minicluster_session_cluster`` (one cluster per test session),
      ``minicluster_cluster`` (that cluster, active for one test) and ``stream_env``
      (a fresh environment whose ``execute()`` runs on it).
    - ``assert_equal_unordered(actual, expected)``: equal as multisets, reporting the
      missing and the unexpected records.
"""

from minicluster.testing.assertions import assert_equal_unordered

__all__ = ["assert_equal_unordered"]
