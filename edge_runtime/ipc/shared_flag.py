"""A flag in shared memory: any process sets it and reads it, without a lock.

The stop between the runtime and the control process used to be a `multiprocessing.Event`,
whose `is_set()` takes a process-shared lock. The control process asks it every tick; had
it been SIGKILLed inside that call, the lock would stay held forever and the runtime's
`set()` on its way to the backup torque-off would hang. One byte that one side writes and
the other reads needs no lock: a stale read costs at most one more period.
"""

from __future__ import annotations

from typing import Any

from edge_runtime.ipc.names import create_segment


class SharedFlag:
    """`set()` / `is_set()` / `clear()` across processes; pickles by name for a spawned child.

    After `close()` the flag reads as set: a process that has let go of the stop flag is
    stopping anyway.
    """

    def __init__(self, tag: str = "flag") -> None:
        self._shm: Any = create_segment(tag, 8)
        self._buf: Any = self._shm.buf
        self._buf[0] = 0
        self._owner = True

    def __getstate__(self) -> dict[str, Any]:
        return {"shm": self._shm}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._shm = state["shm"]
        self._buf = self._shm.buf
        self._owner = False

    def set(self) -> None:
        if self._buf is not None:
            self._buf[0] = 1

    def clear(self) -> None:
        if self._buf is not None:
            self._buf[0] = 0

    def is_set(self) -> bool:
        return self._buf is None or self._buf[0] != 0

    def close(self) -> None:
        """Detach this process's mapping; idempotent."""
        if self._buf is not None:
            self._buf = None
            self._shm.close()

    def unlink(self) -> None:
        """Remove the name (creator, once every process has attached); idempotent."""
        if self._owner:
            self._owner = False
            self._shm.unlink()
