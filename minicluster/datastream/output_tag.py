"""``OutputTag`` (PyFlink's ``pyflink.datastream.output_tag``)."""

from minicluster._output_tag import OutputTag

__all__ = ["OutputTag"]
