"""What the simulated servos saw on the wire: every goal and torque write they accepted.

A witness outside the runtime: a fault campaign judges the runtime by what reached the
motors (a goal outside the limits, a step faster than the configured velocity, torque left
on), not by what the runtime says it sent. The servos also record what they did on their own:
a bus watchdog stop (goal := present, torque stays on: the arm holds) and a hardware-error
shutdown (torque off).

Entries are `(t_ns, servo_id, kind, value)` on CLOCK_MONOTONIC, which every process of the
machine shares, so they compare directly with the runtime's stamps:
- "goal": the goal position the servo accepted, in ticks;
- "torque": torque enable after a write, 0 or 1;
- "watchdog": the bus watchdog expired and the servo stopped where it was (value 1);
- "shutdown": a hardware error turned torque off (value: the Hardware Error Status bits).
"""

from __future__ import annotations

import threading
import time
from collections import deque

Entry = tuple[int, int, str, int]
KINDS = ("goal", "torque", "watchdog", "shutdown")


class ServoWitness:
    """A bounded, thread-safe record of entries; `since(n)` returns the ones after the n-th."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.count = 0  # entries recorded so far (the oldest are dropped past `capacity`)

    def record(self, servo_id: int, kind: str, value: int) -> None:
        with self._lock:
            self._entries.append((time.monotonic_ns(), servo_id, kind, int(value)))
            self.count += 1

    def since(self, count: int) -> list[Entry]:
        """Entries recorded after the first `count` (those still held)."""
        with self._lock:
            held = len(self._entries)
            skip = max(0, held - (self.count - count))
            return list(self._entries)[skip:]
