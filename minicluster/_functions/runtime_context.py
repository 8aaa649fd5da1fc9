"""``RuntimeContext``: what a user function learns about the parallel subtask running it.

The runtime builds one per subtask and hands it to ``Function.open``. A keyed operator
binds a copy to its own state backend (``with_keyed_state``), which is why the state
getters work only in functions applied after ``key_by()``. It has a module of its own
because operators and tests build contexts without needing any function class.
"""

from __future__ import annotations

import copy
from typing import Any


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

    # -- keyed state (only on a KeyedStream) ------------------------------------------

    _keyed_state: Any = None

    def with_keyed_state(self, backend: Any) -> "RuntimeContext":
        """A copy of this context whose state getters use ``backend`` (one per keyed
        operator, so two keyed operators in a chain keep their state apart)."""
        bound = copy.copy(self)
        bound._keyed_state = backend
        return bound

    def _state(self, descriptor: Any, kind: str) -> Any:
        if self._keyed_state is None:
            raise RuntimeError(
                f"keyed state ({getattr(descriptor, 'name', descriptor)!r}) can only be used "
                "on a keyed stream, i.e. in a function applied after key_by()"
            )
        if getattr(descriptor, "kind", None) != kind:
            raise TypeError(
                f"get_{kind}_state() needs a {kind.capitalize()}StateDescriptor, got {descriptor!r}"
                if kind != "value"
                else f"get_state() needs a ValueStateDescriptor, got {descriptor!r}"
            )
        return self._keyed_state.get_state(descriptor)

    def get_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "value")

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "list")

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "map")

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "reducing")

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor, "aggregating")
