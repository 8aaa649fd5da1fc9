"""User function classes with PyFlink's names; public at ``minicluster.datastream.functions``.

Every operator accepts either a plain callable or an instance of the matching class
below; ``resolve_function`` turns both into the one callable the runtime calls per
record, and the runtime calls ``open(runtime_context)``/``close()`` on class instances
once per parallel subtask, as Flink does.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Iterable


class RuntimeContext:
    """What a function can learn about the parallel subtask running it."""

    def __init__(
        self,
        task_name: str,
        subtask_index: int,
        parallelism: int,
        max_parallelism: int,
        attempt_number: int = 0,
        job_parameters: dict[str, str] | None = None,
    ) -> None:
        self._task_name = task_name
        self._subtask_index = subtask_index
        self._parallelism = parallelism
        self._max_parallelism = max_parallelism
        self._attempt_number = attempt_number
        self._job_parameters = dict(job_parameters or {})

    def get_task_name(self) -> str:
        return self._task_name

    def get_number_of_parallel_subtasks(self) -> int:
        return self._parallelism

    def get_max_number_of_parallel_subtasks(self) -> int:
        return self._max_parallelism

    def get_index_of_this_subtask(self) -> int:
        return self._subtask_index

    def get_attempt_number(self) -> int:
        return self._attempt_number

    def get_task_name_with_subtasks(self) -> str:
        return f"{self._task_name} ({self._subtask_index + 1}/{self._parallelism})"

    def get_job_parameter(self, key: str, default_value: str) -> str:
        return self._job_parameters.get(key, default_value)


class Function(abc.ABC):  # noqa: B024 - PyFlink's base has no abstract method either
    """Base of all user function classes: ``open`` and ``close`` bracket a subtask's life."""

    def open(self, runtime_context: RuntimeContext) -> None:
        pass

    def close(self) -> None:
        pass


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


class ProcessFunction(Function):
    """Low-level per-record processing; ``process_element`` yields (or returns an
    iterable of) outputs."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> int | None:
            """The record's event timestamp, or None when it has none."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "ProcessFunction.Context") -> Iterable[Any] | None: ...


def resolve_function(function: object, kind: type[Function], method: str) -> Callable:
    """The per-record callable for ``function``: its ``method`` if it is a ``kind``,
    else the callable itself.

    Raises:
        TypeError: ``function`` is neither callable nor an instance of ``kind``.
    """
    if isinstance(function, kind):
        return getattr(function, method)
    if isinstance(function, Function) and hasattr(function, method):
        return getattr(function, method)
    if callable(function):
        return function
    raise TypeError(
        f"expected a callable or a {kind.__name__} (with {method}()), got "
        f"{type(function).__name__}: {function!r}"
    )


def open_function(function: object, runtime_context: RuntimeContext) -> None:
    if isinstance(function, Function):
        function.open(runtime_context)


def close_function(function: object) -> None:
    if isinstance(function, Function):
        function.close()


__all__ = [
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "KeySelector",
    "MapFunction",
    "NullByteKeySelector",
    "Partitioner",
    "ProcessFunction",
    "ReduceFunction",
    "RuntimeContext",
    "SinkFunction",
]
