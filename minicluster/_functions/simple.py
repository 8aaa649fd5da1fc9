"""The one-method functions of the basic transformations.

``map`` (``MapFunction``), ``flat_map``, ``filter``, ``reduce``, ``key_by``
(``KeySelector``), ``partition_custom`` (``Partitioner``) and ``add_sink``
(``SinkFunction``): each is called per record and sees only the record (``reduce``:
and the running result). A function that needs a timestamp, timers or side outputs
is a process function (``process.py``).
"""

from __future__ import annotations

import abc
from typing import Any, Iterable

from minicluster._functions.base import Function


class MapFunction(Function):
    @abc.abstractmethod
    def map(self, value: Any) -> Any: ...


class FlatMapFunction(Function):
    @abc.abstractmethod
    def flat_map(self, value: Any) -> Iterable[Any]: ...


class FilterFunction(Function):
    @abc.abstractmethod
    def filter(self, value: Any) -> bool: ...


class ReduceFunction(Function):
    @abc.abstractmethod
    def reduce(self, value1: Any, value2: Any) -> Any: ...


class KeySelector(Function):
    @abc.abstractmethod
    def get_key(self, value: Any) -> Any: ...


class NullByteKeySelector(KeySelector):
    """Every record gets the same key (used by operators that need a single key)."""

    def get_key(self, value: Any) -> Any:
        return 0


class Partitioner(Function):
    """``partition_custom``: choose a partition in ``[0, num_partitions)`` for a key."""

    @abc.abstractmethod
    def partition(self, key: Any, num_partitions: int) -> int: ...


class SinkFunction(Function):
    """A sink written in Python: ``invoke`` is called once per record."""

    @abc.abstractmethod
    def invoke(self, value: Any, context: Any) -> None: ...
