"""Slow, supervised moves for calibration: interpolate, keep feeding the servo watchdog.

Calibration moves are rare and slow, so they use a plain sleep-paced loop (not the runtime's
scheduler). Goals are streamed every `period_s` both while moving and while holding, because
the servos' bus watchdog (armed on enable) stops a motor that hears nothing for ~100 ms.
Positions are calibrated joint angles; `offsets_rad` (raw = calibrated + offset) converts
them for the bus when the joint calibration is kept host-side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from edge_runtime.errors import CalibrationError
from firmware_bridge.base import JointState, MotorBus

log = logging.getLogger(__name__)
STALL_S = 1.0


class Mover:
    def __init__(
        self,
        bus: MotorBus,
        offsets_rad: np.ndarray | None = None,
        max_velocity_rad_s: float = 0.6,
        period_s: float = 0.02,
        tolerance_rad: float = 0.01,
    ) -> None:
        self.bus = bus
        self.offsets = (
            np.zeros(len(bus.motor_ids)) if offsets_rad is None else np.asarray(offsets_rad)
        )
        self.max_velocity = max_velocity_rad_s
        self.period_s = period_s
        self.tolerance = tolerance_rad

    def read(self, attempts: int = 5) -> tuple[np.ndarray, JointState]:
        """Calibrated joint positions and the raw state; refuses a partial read.

        A lost packet is retried (a calibration session must not die on one glitch); only a
        motor that stays silent for every attempt is an error.
        """
        for _ in range(attempts):
            state = self.bus.read_state()
            if state.ok:
                return state.positions_rad - self.offsets, state
            time.sleep(self.period_s)
        missing = ", ".join(f"{i}: {e}" for i, e in sorted(state.errors.items()))
        raise CalibrationError(
            f"motors did not answer {attempts} reads in a row ({missing or 'NaN positions'}); "
            "check cables and power"
        )

    def move_to(self, goal: np.ndarray, timeout_s: float = 20.0) -> np.ndarray:
        """Interpolate from the present position to `goal`, then wait until within tolerance.

        If the motors stop short and stay still for `STALL_S`, the likeliest cause is the bus
        watchdog: the host went quiet (a paused laptop, a busy CPU) and the servos stopped and
        now refuse goals. Torque is re-enabled once (which holds the present position and
        re-arms the watchdog) and the move is interpolated again from where the arm stands,
        never jumped; a second stall is reported.
        """
        goal = np.asarray(goal, float)
        for attempt in range(2):
            start, _ = self.read()
            span = float(np.max(np.abs(goal - start)))
            steps = max(1, int(np.ceil(span / (self.max_velocity * self.period_s))))
            for k in range(1, steps + 1):
                self.bus.write_goal(start + (goal - start) * k / steps + self.offsets)
                time.sleep(self.period_s)
            reached = self.settle(goal, timeout_s, stall_s=STALL_S if attempt == 0 else None)
            if reached is not None:
                return reached
            log.warning("motors stalled short of their goal; re-enabling torque and retrying")
            self.bus.enable()
        raise AssertionError("unreachable: the second settle raises instead of returning None")

    def settle(
        self, goal: np.ndarray, timeout_s: float, stall_s: float | None = None
    ) -> np.ndarray | None:
        """Stream `goal` until within tolerance; None if stalled for `stall_s` (when given)."""
        deadline = time.monotonic() + timeout_s
        last_moved, previous = time.monotonic(), None
        while True:
            self.bus.write_goal(goal + self.offsets)
            present, _ = self.read()
            if np.max(np.abs(present - goal)) <= self.tolerance:
                return present
            now = time.monotonic()
            if previous is None or np.max(np.abs(present - previous)) > self.tolerance / 4:
                last_moved, previous = now, present
            if stall_s is not None and now - last_moved > stall_s:
                return None
            if now > deadline:
                worst = int(np.argmax(np.abs(present - goal)))
                raise CalibrationError(
                    f"motor {self.bus.motor_ids[worst]} stopped {abs(present - goal)[worst]:.3f} "
                    f"rad from its goal after {timeout_s:.0f} s; check for an obstacle or load, "
                    "then retry"
                )
            time.sleep(self.period_s)

    def wait_still(
        self, goal: np.ndarray, still_rad: float = 0.0005, timeout_s: float = 3.0
    ) -> np.ndarray:
        """Hold `goal` until two reads `period_s` apart agree within `still_rad`.

        A position servo creeps toward its goal for a while after it is "within tolerance";
        an image taken then would be paired with joint angles a few milliradians off, which at
        arm's length is millimetres of hand-eye error.
        """
        previous, _ = self.read()
        deadline = time.monotonic() + timeout_s
        while True:
            self.bus.write_goal(np.asarray(goal) + self.offsets)
            time.sleep(self.period_s)
            present, _ = self.read()
            if np.max(np.abs(present - previous)) <= still_rad or time.monotonic() > deadline:
                return present
            previous = present

    def hold(
        self, goal: np.ndarray, seconds: float, until: Callable[[], bool] | None = None
    ) -> None:
        """Keep commanding `goal` for `seconds` (or until `until()`), feeding the watchdog."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.bus.write_goal(np.asarray(goal) + self.offsets)
            if until is not None and until():
                return
            time.sleep(self.period_s)
