"""Monotonic clocks in integer nanoseconds.

The control loop reads time only through a `Clock`, so tests inject a `SimClock` and check
scheduler logic (deadlines, skipped periods, lateness) deterministically, without sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Monotonic time in nanoseconds."""
        ...

    def sleep_until_ns(self, deadline_ns: int) -> None:
        """Return at (or just after) `deadline_ns`. Never returns early."""
        ...


class MonotonicClock:
    """`time.monotonic_ns` with a coarse sleep (the scheduler adds the final spin)."""

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def sleep_until_ns(self, deadline_ns: int) -> None:
        remaining = deadline_ns - time.monotonic_ns()
        if remaining > 0:
            time.sleep(remaining / 1e9)


class SimClock:
    """A clock that only moves when told to; `sleep_until_ns` jumps straight to the deadline.

    `step_cost_ns` advances the clock on every `now_ns()` read, so a test can model work that
    takes time. Thread-safe, so a test can share one clock between threads.
    """

    def __init__(self, start_ns: int = 0, step_cost_ns: int = 0) -> None:
        self._now_ns = start_ns
        self._step_cost_ns = step_cost_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            self._now_ns += self._step_cost_ns
            return self._now_ns

    def sleep_until_ns(self, deadline_ns: int) -> None:
        with self._lock:
            self._now_ns = max(self._now_ns, deadline_ns)

    def advance_ns(self, delta_ns: int) -> None:
        with self._lock:
            self._now_ns += delta_ns
