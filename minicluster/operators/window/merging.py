"""``MergingWindowSet``: the session windows of one key and where their state lives.

With merging windows (sessions) a pane's contents do not move when windows merge:
the set maps each in-flight window to a *state window*, the namespace under which its
contents are stored. When windows merge, the result keeps one of the merged windows'
state window and the others' state is merged into it (``merge_namespaces``), so a merge
costs one state merge, not a copy of every element. As Flink's ``MergingWindowSet``.

    add_window(new) --assigner.merge_windows--> {merge_result: merged windows}
       for each merge: mapping[result] = state window of one merged window
                       merge_function(result, merged, that state window,
                                      the other merged state windows)
       a new window that merged with nothing maps to itself

The mapping is kept in keyed state (one dict per key), so it lives in the key's key
group like everything else the operator stores.
"""

from __future__ import annotations

from typing import Any, Callable

MergeFunction = Callable[[Any, list, Any, list], None]


class MergingWindowSet:
    __slots__ = ("assigner", "mapping")

    def __init__(self, assigner: Any, mapping: dict) -> None:
        self.assigner = assigner
        self.mapping = mapping  # window -> state window

    def get_state_window(self, window: Any) -> Any:
        return self.mapping.get(window)

    def retire_window(self, window: Any) -> None:
        if self.mapping.pop(window, None) is None:
            raise KeyError(f"window {window!r} is not in the in-flight window set")

    def add_window(self, new_window: Any, merge_function: MergeFunction) -> Any:
        """Add ``new_window``, merging as the assigner says; returns the window the new
        one ended up in (itself, or the result of a merge)."""
        mapping = self.mapping
        merges: list[tuple[Any, list]] = []
        self.assigner.merge_windows(
            [*mapping, new_window], _Collect(merges)
        )
        result_window = new_window
        merged_new_window = False
        for merge_result, merged_windows in merges:
            merged_windows = list(merged_windows)
            if new_window in merged_windows:
                merged_windows.remove(new_window)
                merged_new_window = True
                result_window = merge_result
            # keep the state window of one of the merged windows
            target_state_window = mapping.get(merged_windows[0])
            merged_state_windows = []
            for window in merged_windows:
                state_window = mapping.pop(window, None)
                if state_window is not None:
                    merged_state_windows.append(state_window)
            mapping[merge_result] = target_state_window
            if target_state_window in merged_state_windows:
                merged_state_windows.remove(target_state_window)
            # a new window that lies inside one existing window brings no state to merge
            if not (len(merged_windows) == 1 and merged_windows[0] == merge_result):
                merge_function(
                    merge_result, merged_windows, target_state_window, merged_state_windows
                )
        if not merges or (result_window == new_window and not merged_new_window):
            mapping[result_window] = result_window
        return result_window


class _Collect:
    __slots__ = ("merges",)

    def __init__(self, merges: list) -> None:
        self.merges = merges

    def merge(self, to_be_merged: Any, merge_result: Any) -> None:
        self.merges.append((merge_result, list(to_be_merged)))
