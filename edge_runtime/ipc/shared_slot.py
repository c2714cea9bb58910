"""A latest-value slot for one fixed-shape array, shared between processes.

Why it exists: a control loop in its own process does not share a GIL with the inference
worker, so a worker thread holding the GIL (in Python code, in a C call that keeps it, or
while the OS has preempted it) can no longer delay a control tick (docs/perf/loop.md).

The reader never waits for the writer: `get()` tries the lock without blocking and, if the
writer holds it this instant, returns the value it read last time (a latest-value slot may
be one update old; it must never block the control thread). The lock is a POSIX semaphore,
which is also the memory barrier that makes the copy safe on ARM (Jetson), where a
lock-free sequence counter would need fences Python cannot express.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing import shared_memory
from typing import Any

import numpy as np

_HEADER = 8  # int64 version counter before the data


class SharedArraySlot:
    """`put(array)` in one process, `get() -> (array copy | None, version)` in another.

    Create it in the parent, pass it to a `multiprocessing` child as an argument (it pickles
    by shared-memory name), call `close()` in every process and `unlink()` once in the parent.
    A structured dtype carries stamps with the data, e.g. an action chunk:
    `np.dtype([("t_obs_ns", "i8"), ("dt_ns", "i8"), ("actions", "f8", (16, 6))])`, shape `()`.
    """

    def __init__(self, shape: tuple[int, ...], dtype: Any = np.float64, ctx: Any = None) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        nbytes = _HEADER + int(np.prod(self.shape)) * self.dtype.itemsize
        self._shm = shared_memory.SharedMemory(create=True, size=nbytes)
        self._lock = (ctx or mp.get_context("spawn")).Lock()
        self._owner = True
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
        self._attach()

    def put(self, value: np.ndarray) -> None:
        """Writer: copy `value` in (a few hundred ns for a chunk) and bump the version."""
        array = np.asarray(value, dtype=self.dtype).reshape(self.shape)
        with self._lock:
            self._data[...] = array
            self._version[0] += 1

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
        """Free the shared memory (the creating process, once, after every close)."""
        if self._owner:
            self._owner = False
            self._shm.unlink()
