"""Connectors (PyFlink's ``pyflink.datastream.connectors``).

Modules:
    - ``number_seq``: ``NumberSequenceSource``.
"""

from minicluster.datastream.connectors.number_seq import NumberSequenceSource

__all__ = ["NumberSequenceSource"]
