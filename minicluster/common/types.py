"""``Row`` and ``RowKind`` under PyFlink's module path, ``pyflink.common.types``.

PyFlink programs often write ``from pyflink.common.types import Row``; this module
lets them keep that line with only the package renamed. ``Row`` lives in ``row``.
"""

from minicluster.common.row import Row, RowKind

__all__ = ["Row", "RowKind"]
