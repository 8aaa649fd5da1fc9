"""``Function``, the base of every user function class, and how the runtime calls one.

Every operator accepts either a plain callable or an instance of the matching class;
``resolve_function`` turns both into the one callable the runtime calls per record,
and ``open_function``/``close_function`` call ``open(runtime_context)``/``close()`` on
class instances once per parallel subtask, as Flink does (a plain callable has no life
cycle). The helpers sit next to ``Function`` because they are the one place that tells
the two kinds apart.
"""

from __future__ import annotations

import abc
from typing import Callable

from minicluster._functions.runtime_context import RuntimeContext


class Function(abc.ABC):  # noqa: B024 - PyFlink's base has no abstract method either
    """Base of all user function classes: ``open`` and ``close`` bracket a subtask's life."""

    def open(self, runtime_context: RuntimeContext) -> None:
        pass

    def close(self) -> None:
        pass


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
