"""``Encoder``: how a row-format ``FileSink`` turns a record into bytes (``pyflink.common``).

PyFlink offers one row encoder, ``Encoder.simple_string_encoder()`` (Flink's
``SimpleStringEncoder``): the record's string form followed by a newline, in a
charset. Ours writes ``str(value) + "\\n"``; a value whose string holds newlines
becomes several lines, as in Flink.
"""

from __future__ import annotations

import codecs

__all__ = ["Encoder"]


class Encoder:
    """Encodes records for a row-format file sink.

    Build one with :meth:`simple_string_encoder`. The sink calls ``encode_batch`` once
    per batch (the fast path) and ``encode`` per record only when a rolling policy may
    cut a part file inside the batch.
    """

    def __init__(self, charset_name: str = "UTF-8") -> None:
        try:
            codecs.lookup(charset_name)
        except LookupError:
            raise ValueError(
                f"Encoder: unknown charset {charset_name!r}; use a Python codec name "
                "such as 'UTF-8' or 'ISO-8859-1'"
            ) from None
        self.charset_name = charset_name

    @staticmethod
    def simple_string_encoder(charset_name: str = "UTF-8") -> Encoder:
        """Each record as ``str(record)`` plus ``"\\n"``, encoded with ``charset_name``."""
        return Encoder(charset_name)

    def encode(self, value: object) -> bytes:
        """The bytes of one record, its line terminator included."""
        return (str(value) + "\n").encode(self.charset_name)

    def encode_batch(self, values: list) -> bytes:
        """The bytes of a whole batch: the concatenation of ``encode`` of each value."""
        if not values:
            return b""
        return ("\n".join(map(str, values)) + "\n").encode(self.charset_name)

    def __repr__(self) -> str:
        return f"Encoder.simple_string_encoder({self.charset_name!r})"
