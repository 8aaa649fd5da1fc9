"""User function classes (PyFlink's ``pyflink.datastream.functions``).

The classes live in the ``minicluster._functions`` package (one module per family) so
that the runtime operators can use them without importing the DataStream API; this
module is their public address and exports exactly that package's ``__all__``.
"""

from minicluster import _functions
from minicluster._functions import *  # noqa: F403 - the public names, listed once

__all__ = list(_functions.__all__)
