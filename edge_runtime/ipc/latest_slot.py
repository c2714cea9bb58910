"""A latest-value slot: writers replace, readers take the newest without waiting.

This is how the control thread reads camera frames and observations without ever blocking on
a producer: a lock held for a pointer swap, never across I/O.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None
        self._version = 0
        self._changed = threading.Condition(self._lock)

    def put(self, value: T) -> None:
        with self._lock:
            self._value = value
            self._version += 1
            self._changed.notify_all()

    def get(self) -> tuple[T | None, int]:
        """The newest value (or None) and its version number; never blocks on a producer."""
        with self._lock:
            return self._value, self._version

    def wait_newer(self, version: int, timeout_s: float) -> tuple[T | None, int]:
        """For consumers that may wait (the inference worker): block until version > `version`."""
        with self._lock:
            self._changed.wait_for(lambda: self._version > version, timeout=timeout_s)
            return self._value, self._version
