"""`LoopSummary`: lateness, step time and missed periods of a fixed-rate loop, in bounded memory.

The control thread records one tick in a few hundred nanoseconds (three writes into
preallocated numpy rings under an uncontended lock), so a robot can run for days without the
statistics growing. Percentiles cover the newest `capacity` ticks; counts and the maximum
lateness cover the whole run. Readers on other threads (telemetry, the CLI) take a consistent
copy under the same lock.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

DEFAULT_CAPACITY = 1 << 16  # 65,536 ticks: 11 min at 100 Hz, 1.5 MB for the three rings


class LoopSummary:
    """Live statistics of one scheduler run. Times are stored in ns, reported in µs."""

    def __init__(self, period_ns: int, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be > 0 ticks, got {capacity}")
        self.period_ns = period_ns
        self.capacity = capacity
        self._lock = threading.Lock()
        self._lateness = np.zeros(capacity, dtype=np.int64)
        self._step = np.zeros(capacity, dtype=np.int64)
        self._overhead = np.zeros(capacity, dtype=np.int64)
        self._ticks = 0
        self._missed = 0
        self._overruns = 0
        self._max_lateness_ns = 0

    def record(self, lateness_ns: int, step_ns: int, overhead_ns: int, missed_before: int) -> None:
        """Control thread, once per tick: O(1), no allocation beyond small ints."""
        with self._lock:
            slot = self._ticks % self.capacity
            self._lateness[slot] = lateness_ns
            self._step[slot] = step_ns
            self._overhead[slot] = overhead_ns
            self._ticks += 1
            if missed_before:
                self._missed += missed_before
                self._overruns += 1
            if lateness_ns > self._max_lateness_ns:
                self._max_lateness_ns = lateness_ns

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without its lock, so a control process can hand its summary back."""
        with self._lock:
            state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def ticks(self) -> int:
        """Ticks executed so far."""
        return self._ticks

    @property
    def missed(self) -> int:
        """Whole periods skipped (deadlines no step was released at)."""
        return self._missed

    @property
    def overruns(self) -> int:
        """Ticks that came after at least one skipped period."""
        return self._overruns

    @property
    def max_lateness_ns(self) -> int:
        """Largest lateness of the whole run (not only the window)."""
        return self._max_lateness_ns

    def lateness_ns(self) -> np.ndarray:
        """Lateness of the newest ticks (at most `capacity`), oldest first; a copy."""
        return self._window(self._lateness)

    def step_ns(self) -> np.ndarray:
        """Time spent inside the step, same window as `lateness_ns()`."""
        return self._window(self._step)

    def overhead_ns(self) -> np.ndarray:
        """Scheduler time per tick outside the step and the wait (bookkeeping, stats)."""
        return self._window(self._overhead)

    def _window(self, ring: np.ndarray) -> np.ndarray:
        with self._lock:
            n = self._ticks
            if n <= self.capacity:
                return ring[:n].copy()
            cut = n % self.capacity
            return np.concatenate((ring[cut:], ring[:cut]))

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers for JSON and reports (µs, rounded to 0.1 µs)."""
        lateness = self.lateness_ns()
        return {
            "period_s": self.period_ns / 1e9,
            "rate_hz": round(1e9 / self.period_ns, 3),
            "ticks": self._ticks,
            "missed": self._missed,
            "overruns": self._overruns,
            "lateness_us": {**_percentiles_us(lateness), "max": _us(self._max_lateness_ns)},
            "step_us": _percentiles_us(self.step_ns(), with_max=True),
            "overhead_us": _percentiles_us(self.overhead_ns()),
            "window_ticks": int(lateness.size),
        }

    def __repr__(self) -> str:
        d = self.as_dict()
        late = d["lateness_us"]
        return (
            f"LoopSummary(ticks={d['ticks']}, missed={d['missed']}, lateness_us p50={late['p50']}"
            f" p99={late['p99']} max={late['max']})"
        )


def _us(value_ns: float) -> float:
    return round(float(value_ns) / 1e3, 1)


def _percentiles_us(values_ns: np.ndarray, with_max: bool = False) -> dict[str, float]:
    if values_ns.size == 0:
        out = {"p50": 0.0, "p99": 0.0}
        return {**out, "max": 0.0} if with_max else out
    p50, p99 = np.percentile(values_ns, [50, 99])
    out = {"p50": _us(p50), "p99": _us(p99)}
    if with_max:
        out["max"] = _us(values_ns.max())
    return out
