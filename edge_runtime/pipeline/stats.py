"""Bounded sample recorders and percentiles for reports (no unbounded lists on a robot)."""

from __future__ import annotations

import threading

import numpy as np


class SampleBuffer:
    """Keeps the last `capacity` samples (ints, e.g. nanoseconds) in a preallocated ring."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._data = np.zeros(capacity, dtype=np.int64)
        self._count = 0
        self._lock = threading.Lock()

    def add(self, value: int) -> None:
        with self._lock:
            self._data[self._count % len(self._data)] = value
            self._count += 1

    def __len__(self) -> int:
        return self._count

    def values(self) -> np.ndarray:
        with self._lock:
            if self._count <= len(self._data):
                return self._data[: self._count].copy()
            start = self._count % len(self._data)
            return np.concatenate([self._data[start:], self._data[:start]])

    def percentiles_us(self, *qs: float) -> dict[str, float]:
        values = self.values()
        if len(values) == 0:
            return {f"p{q:g}": float("nan") for q in qs} | {"max": float("nan")}
        result = {f"p{q:g}": float(np.percentile(values, q)) / 1e3 for q in qs}
        result["max"] = float(values.max()) / 1e3
        return result
