"""The spill folder: where a cluster's blocking result partitions live.

    io.tmp.dirs set?  -> a new 0700 folder in the first of them with room
    else /dev/shm has room for twice the estimate and at least 1 GiB, and the machine's
         available memory holds twice the estimate (tmpfs pages are memory)?
         -> a 0700 folder there
    else  -> a 0700 folder in tempfile.gettempdir()

The estimate is the job's input size (``SourceCoordinator.input_bytes``: the bytes of
its files, about 9 bytes per number of a ``NumberSequenceSource``, 0 for in-memory
collections). It is a heuristic: a job that expands its data (a ``flat_map``, a join)
spills more than it reads; twice is the headroom, and the 1 GiB floor keeps small
``/dev/shm`` mounts (64 MB in a default Docker container) out. ``io.tmp.dirs`` puts
the spill folder on a disk of your choice.

One folder per cluster, private to the user like the runtime folder; ``cleanup()``
removes it with every partition in it when the job ends, fails or is cancelled.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Callable, Sequence

import psutil

#: /dev/shm must have at least this much free to be used, whatever the estimate
TMPFS_MIN_FREE = 1 << 30

__all__ = ["SpillDirectory", "create_spill_directory"]


class SpillDirectory:
    """A private (0700) folder for one cluster's spill files; ``cleanup()`` removes it.

    Attributes:
        path: the folder.
        on_tmpfs: True when it lives under ``/dev/shm`` (memory, not disk).
    """

    __slots__ = ("path", "on_tmpfs")

    def __init__(self, path: str, on_tmpfs: bool = False) -> None:
        self.path = path
        self.on_tmpfs = on_tmpfs

    def cleanup(self) -> None:
        """Remove the folder and everything in it; safe to call twice."""
        shutil.rmtree(self.path, ignore_errors=True)

    def __fspath__(self) -> str:
        return self.path

    def __enter__(self) -> SpillDirectory:
        return self

    def __exit__(self, *exc_info) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"SpillDirectory({self.path!r}{', tmpfs' if self.on_tmpfs else ''})"


def create_spill_directory(
    tmp_dirs: Sequence[str] = (),
    size_estimate: int = 0,
    *,
    shm_dir: str = "/dev/shm",
    disk_usage: Callable[[str], object] = shutil.disk_usage,
    available_memory: Callable[[], int] = lambda: psutil.virtual_memory().available,
) -> SpillDirectory:
    """Create the private folder where a cluster's partitions are spilled.

    The base folder is, in order: the first of ``tmp_dirs`` (Flink's ``io.tmp.dirs``,
    as the job's ``ExecutionConfig`` split it) with ``size_estimate`` bytes free
    (the first one if none has); else ``shm_dir`` (tmpfs: memory) when it exists, is
    writable, and both it and the available memory hold twice ``size_estimate``; else
    ``tempfile.gettempdir()``. The folder is created with mode 0700.
    """
    on_tmpfs = False
    if isinstance(tmp_dirs, str):
        raise TypeError(f"tmp_dirs is a sequence of folders, got the str {tmp_dirs!r}")
    candidates = list(tmp_dirs)
    if candidates:
        for candidate in candidates:
            os.makedirs(candidate, exist_ok=True)
        base = next(
            (d for d in candidates if disk_usage(d).free >= size_estimate), candidates[0]
        )
    elif (
        os.path.isdir(shm_dir) and os.access(shm_dir, os.W_OK | os.X_OK)
        and disk_usage(shm_dir).free >= max(2 * size_estimate, TMPFS_MIN_FREE)
        and available_memory() >= 2 * size_estimate
    ):
        base, on_tmpfs = shm_dir, True
    else:
        base = tempfile.gettempdir()
    path = tempfile.mkdtemp(prefix="minicluster-spill-", dir=base)
    os.chmod(path, 0o700)
    return SpillDirectory(path, on_tmpfs)
