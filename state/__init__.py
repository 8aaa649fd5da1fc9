"""State: key groups today; keyed, operator and broadcast state and their backends later.

Key classes and functions:
    - ``key_group_for``: a record key's key group, stable across processes and runs.
    - ``subtask_for_key_group``: the parallel subtask that owns a key group.
    - ``KeyGroupRange``: the contiguous key groups a subtask owns.

This package never imports the API layer (``minicluster.datastream``/``common``).
"""

from minicluster.state.key_groups import (
    DEFAULT_MAX_PARALLELISM,
    KeyGroupRange,
    UnsupportedKeyError,
    key_group_for,
    key_group_range_for_subtask,
    stable_hash,
    subtask_for_key,
    subtask_for_key_group,
)

__all__ = [
    "DEFAULT_MAX_PARALLELISM",
    "KeyGroupRange",
    "UnsupportedKeyError",
    "key_group_for",
    "key_group_range_for_subtask",
    "stable_hash",
    "subtask_for_key",
    "subtask_for_key_group",
]
