"""Semaphores two processes share, under our own names (`ipc.names`), unlinkable early.

`multiprocessing.Lock` and `Event` name their semaphores `/mp-<random>` (no owner, so nothing
can tell a dead run's from a live one's) and register them with a resource tracker that dies
with its process group. These wrap the same C semaphore (`_multiprocessing.SemLock`, what
`multiprocessing.Lock` is made of: same speed) under `edgerun-<pid>-...` names that the
creator unlinks once the other process has attached.

Why not `multiprocessing.Event` for signals: its `set()` waits for every process sleeping in
`wait()` to acknowledge; a waiter that was SIGKILLed never does, so the setter hangs forever.
That is how the simulated arm outlived a killed `edgerun demo`: its frame loop hung in
`set()` and never saw its parent go. `SharedSignal.set()` never waits.

A process can die holding a lock: callers across processes bound their waits (`acquire`
with a timeout), so a dead peer costs a skipped update, never a hang.
"""

from __future__ import annotations

import _multiprocessing
import contextlib
from typing import Any

from edge_runtime.ipc.names import new_name

_SEMAPHORE = 1  # multiprocessing.synchronize.SEMAPHORE: a counting semaphore


class SharedLock:
    """A lock shared between processes (pickles by name: pass it to a spawned child)."""

    def __init__(self, tag: str = "lock", value: int = 1) -> None:
        self.name = "/" + new_name(tag)
        self._sem = _multiprocessing.SemLock(_SEMAPHORE, value, 1, self.name, False)
        self._owner = True

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "handle": self._sem.handle}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        self._sem = _multiprocessing.SemLock._rebuild(state["handle"], _SEMAPHORE, 1, self.name)
        self._owner = False

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return self._sem.acquire(block, timeout)

    def release(self) -> None:
        self._sem.release()

    def __enter__(self) -> bool:
        return self._sem.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._sem.release()

    def unlink(self) -> None:
        """Remove the name (creator, once every process has attached); idempotent."""
        if self._owner:
            self._owner = False
            with contextlib.suppress(FileNotFoundError):
                _multiprocessing.sem_unlink(self.name)


class SharedSignal(SharedLock):
    """ "Something new": one process `set()`s (never waits), another `wait()`s and consumes it.

    A binary semaphore: sets that come while nobody waited collapse into one, like an
    event that the waiter clears on waking.
    """

    def __init__(self, tag: str = "signal") -> None:
        super().__init__(tag, value=0)

    def set(self) -> None:
        with contextlib.suppress(ValueError):  # already set: nothing to add
            self._sem.release()

    def wait(self, timeout_s: float) -> bool:
        """True when set (and consumed) within `timeout_s`."""
        return self._sem.acquire(True, timeout_s)

    def clear(self) -> None:
        while self._sem.acquire(False):
            pass
