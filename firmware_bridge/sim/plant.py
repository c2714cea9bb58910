"""What simulated motors are attached to: a `ServoPlant`.

The simulated servo chain and the simulated MCU keep their protocol state (control table,
watchdog, sequence numbers) and delegate the physics to a plant: `FirstOrderPlant` here for
tests and benchmarks, or the MuJoCo arm (`edge_runtime.sim`) for the demo. Arrays are indexed
by motor order (the device's sorted ids).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import numpy as np


class ServoPlant(Protocol):
    def command(self, goal_rad: np.ndarray, torque_on: np.ndarray) -> None:
        """New goal positions; motors with torque off must go limp (ignore their goal)."""
        ...

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Present positions (rad), velocities (rad/s) and currents (A)."""
        ...


class FirstOrderPlant:
    """Each joint tracks its goal with a first-order lag of `time_constant_s`, rate-limited.

    Integrated lazily on every call from the elapsed monotonic time, so it needs no thread.
    Current is modelled as proportional to the tracking error (a stand-in for load).
    """

    def __init__(
        self,
        count: int,
        time_constant_s: float = 0.05,
        max_velocity_rad_s: float = 6.0,
        amps_per_rad: float = 0.8,
        initial_rad: np.ndarray | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.tau_s = time_constant_s
        self.max_velocity = max_velocity_rad_s
        self.amps_per_rad = amps_per_rad
        self.position = np.zeros(count) if initial_rad is None else np.array(initial_rad, float)
        self.velocity = np.zeros(count)
        self.goal = self.position.copy()
        self.torque_on = np.zeros(count, dtype=bool)
        self._last_s = time.monotonic()

    def _advance(self) -> None:
        now = time.monotonic()
        dt = min(now - self._last_s, 0.5)
        self._last_s = now
        if dt <= 0:
            return
        error = np.where(self.torque_on, self.goal - self.position, 0.0)
        alpha = 1.0 - np.exp(-dt / self.tau_s)
        step = np.clip(error * alpha, -self.max_velocity * dt, self.max_velocity * dt)
        self.position = self.position + step
        self.velocity = step / dt

    def command(self, goal_rad: np.ndarray, torque_on: np.ndarray) -> None:
        with self._lock:
            self._advance()
            self.goal = np.array(goal_rad, dtype=float)
            self.torque_on = np.array(torque_on, dtype=bool)

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            self._advance()
            current = np.where(self.torque_on, (self.goal - self.position) * self.amps_per_rad, 0.0)
            return self.position.copy(), self.velocity.copy(), current
