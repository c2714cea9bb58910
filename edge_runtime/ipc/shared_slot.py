"""A latest-value slot for one fixed-shape array, shared between processes.

Why it exists: a control loop in its own process does not share a GIL with the inference
worker, so a worker thread holding the GIL (in Python code, in a C call that keeps it, or
while the OS has preempted it) can no longer delay a control tick (docs/perf/loop.md).

The reader never waits for the writer: `get()` tries the lock without blocking and, if the
writer holds it this instant, returns the value it read last time (a latest-value slot may
be one update old; it must never block the control thread). The lock is a POSIX semaphore,
which is also the memory barrier that makes the copy safe on ARM (Jetson), where a
lock-free sequence counter would need fences Python cannot express.

The writer's wait is bounded too (`put` gives up after `max_wait_s`): the reader may be a
process that was SIGKILLed while holding the lock, and a latest-value slot loses nothing
that matters by skipping one update. Names and their early unlinking: `edge_runtime.ipc.names`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_runtime.ipc.names import create_segment
from edge_runtime.ipc.shared_lock import SharedLock

_HEADER = 8  # int64 version counter before the data
PUT_WAIT_S = 0.05  # far above a reader's copy (µs): only a dead or frozen reader exceeds it


class SharedArraySlot:
    """`put(array)` in one process, `get() -> (array copy | None, version)` in another.

    Create it in the parent, pass it to a `multiprocessing` child as an argument (it pickles
    by shared-memory name), call `close()` in every process and `unlink()` once in the parent
    (as soon as every child has attached: the mappings stay valid).
    A structured dtype carries stamps with the data, e.g. an action chunk:
    `np.dtype([("t_obs_ns", "i8"), ("dt_ns", "i8"), ("actions", "f8", (16, 6))])`, shape `()`.
    """

    def __init__(self, shape: tuple[int, ...], dtype: Any = np.float64, tag: str = "slot") -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        nbytes = _HEADER + int(np.prod(self.shape)) * self.dtype.itemsize
        self._shm = create_segment(tag, nbytes)
        self._lock = SharedLock(tag)
        self._owner = True
        self.puts_skipped = 0
        self._attach()
        self._version[0] = 0

    def _attach(self) -> None:
        buf = self._shm.buf
        self._version = np.ndarray((1,), dtype=np.int64, buffer=buf, offset=0)
        self._data = np.ndarray(self.shape, dtype=self.dtype, buffer=buf, offset=_HEADER)
        self._last: np.ndarray | None = None
        self._last_version = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"shape": self.shape, "dtype": self.dtype, "shm": self._shm, "lock": self._lock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.shape = tuple(state["shape"])
        self.dtype = np.dtype(state["dtype"])
        self._shm = state["shm"]
        self._lock = state["lock"]
        self._owner = False
        self.puts_skipped = 0
        self._attach()

    def put(self, value: np.ndarray, max_wait_s: float = PUT_WAIT_S) -> bool:
        """Writer: copy `value` in (a few hundred ns for a chunk) and bump the version.

        False (and counted) when the lock stayed held for `max_wait_s`: the update is skipped.
        """
        array = np.asarray(value, dtype=self.dtype).reshape(self.shape)
        if not self._lock.acquire(True, max_wait_s):
            self.puts_skipped += 1
            return False
        try:
            self._data[...] = array
            self._version[0] += 1
        finally:
            self._lock.release()
        return True

    def get(self) -> tuple[np.ndarray | None, int]:
        """Reader: newest value (read-only) and its version; never blocks (module docstring)."""
        if self._lock.acquire(False):
            try:
                version = int(self._version[0])
                if version != self._last_version:
                    self._last = self._data.copy()
                    self._last.flags.writeable = False  # shared by every get() until the next
                    self._last_version = version
            finally:
                self._lock.release()
        return self._last, self._last_version

    def close(self) -> None:
        """Detach this process's mapping (idempotent)."""
        if self._shm is not None:
            self._version = self._data = None  # type: ignore[assignment]
            self._shm.close()

    def unlink(self) -> None:
        """Remove the names (creator, once every process has attached); idempotent."""
        if self._owner:
            self._owner = False
            self._shm.unlink()
            self._lock.unlink()
