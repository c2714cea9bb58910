"""A ring of fixed-dtype records in shared memory: one writer process, one reader process.

The control process appends one record per tick; the runtime process drains them for the
observers (recorder, reports). The writer never waits more than `max_wait_s` for the lock: a
record it cannot place in time is counted as dropped rather than delaying a tick, and a
reader that falls more than `capacity` records behind loses the oldest (also counted).
The reader's wait is bounded as well: a writer SIGKILLed while holding the lock must not
hang the runtime on its way to the backup torque-off (a drain then returns nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_runtime.ipc.names import create_segment
from edge_runtime.ipc.shared_lock import SharedLock

_HEADER = 16  # int64 records written, int64 records dropped by the writer
DRAIN_WAIT_S = 0.5  # far above a tick's append (µs): only a dead or frozen writer exceeds it


class SharedRing:
    def __init__(self, capacity: int, dtype: Any, tag: str = "ring") -> None:
        self.capacity = int(capacity)
        self.dtype = np.dtype(dtype)
        size = _HEADER + self.capacity * self.dtype.itemsize
        self._shm = create_segment(tag, size)
        self._lock = SharedLock(tag)
        self._owner = True
        self._attach()
        self._counters[:] = 0

    def _attach(self) -> None:
        self._counters = np.ndarray((2,), np.int64, buffer=self._shm.buf, offset=0)
        self._data = np.ndarray((self.capacity,), self.dtype, buffer=self._shm.buf, offset=_HEADER)
        self._read = 0
        self.reader_dropped = 0

    def __getstate__(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "dtype": self.dtype,
            "shm": self._shm,
            "lock": self._lock,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.capacity = state["capacity"]
        self.dtype = np.dtype(state["dtype"])
        self._shm = state["shm"]
        self._lock = state["lock"]
        self._owner = False
        self._attach()

    def append(self, record: np.ndarray, max_wait_s: float = 0.0002) -> bool:
        """Writer: store one record (a 0-d array of `dtype`); False when it had to be dropped."""
        if not self._lock.acquire(True, max_wait_s):
            self._counters[1] += 1
            return False
        try:
            written = int(self._counters[0])
            self._data[written % self.capacity] = record
            self._counters[0] = written + 1
        finally:
            self._lock.release()
        return True

    def drain(self, max_wait_s: float = DRAIN_WAIT_S) -> np.ndarray:
        """Reader: every record since the last drain, oldest first (a copy); none when the
        lock stayed held for `max_wait_s`."""
        if not self._lock.acquire(True, max_wait_s):
            return np.zeros(0, self.dtype)
        try:
            written = int(self._counters[0])
            pending = written - self._read
            if pending > self.capacity:
                self.reader_dropped += pending - self.capacity
                self._read = written - self.capacity
                pending = self.capacity
            start = self._read % self.capacity
            indices = (start + np.arange(pending)) % self.capacity
            records = self._data[indices].copy()
            self._read = written
        finally:
            self._lock.release()
        return records

    @property
    def writer_dropped(self) -> int:
        return int(self._counters[1])

    def close(self) -> None:
        if self._shm is not None:
            self._counters = self._data = None  # type: ignore[assignment]
            self._shm.close()

    def unlink(self) -> None:
        """Remove the names (creator, once every process has attached); idempotent."""
        if self._owner:
            self._owner = False
            self._shm.unlink()
            self._lock.unlink()
