"""Perturbations of the arm and the task: the world stops obeying the commands it used to.

Each is a real change of the MuJoCo physics (or of what reaches the servos), applied at a
seeded onset and undone exactly at the end of the episode. Magnitudes are chosen so the
change is plainly out of the nominal distribution yet physically plausible for a desk arm;
docs/perturbations.md gives the reasoning and the policy's baseline under each.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from edge_runtime.sim.perturbation_base import (
    MOTION_ONSET_S,
    OnsetPerturbation,
    choose_moving_joint,
)
from edge_runtime.sim.world import JOINT_NAMES, SimWorld


class TargetMoved(OnsetPerturbation):
    """The part is pushed: the target jumps 4-8 cm across the table, staying reachable."""

    name = "target_moved"
    is_fault = True

    def __init__(
        self,
        jump_m: tuple[float, float] = (0.04, 0.08),
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.jump_m = jump_m
        self.new_target_m = np.zeros(3)
        self.distance_m = 0.0

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        start = world.target_position()
        self.distance_m = float(rng.uniform(*self.jump_m))
        headings = rng.uniform(0.0, 2.0 * math.pi, 32)
        steps = np.stack([np.cos(headings), np.sin(headings), np.zeros_like(headings)], axis=1)
        candidates = start + self.distance_m * steps
        inside = [c for c in candidates if world.region.contains(c)]
        # Some heading stays in the 12 cm x 80 degree sector for any start; the fallback is
        # for pathological regions only: the jump toward the sector's centre.
        self.new_target_m = inside[0] if inside else self._toward_centre(world, start)

    def _toward_centre(self, world: SimWorld, start: np.ndarray) -> np.ndarray:
        r = float(np.mean(world.region.radius_m))
        yaw = float(np.mean(world.region.yaw_rad))
        centre = np.array([r * math.cos(yaw), r * math.sin(yaw), start[2]])
        direction = (centre - start) / max(float(np.linalg.norm(centre - start)), 1e-9)
        return start + self.distance_m * direction

    def apply(self, world: SimWorld) -> None:
        self.edits.set(world.data, "mocap_pos", world._mocap, self.new_target_m)

    def describe(self) -> dict[str, float | str]:
        return {"jump_m": self.distance_m}


class BlockedJoint(OnsetPerturbation):
    """Something blocks a joint that still has far to go: it stops dead where it is.

    A stiff joint-equality lock (arm.xml `lock_<joint>`) holds it within about a milliradian
    while its servo keeps pushing with full torque, as a real servo does against an obstacle.
    `duration_s` releases it after that long (None: for the rest of the episode).
    """

    name = "blocked_joint"
    is_fault = True
    onset_window_s = MOTION_ONSET_S

    def __init__(
        self,
        duration_s: float | None = None,
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.duration_s = duration_s  # the base class undoes the lock after it
        self.joint = 0

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        self.joint = choose_moving_joint(world, rng)

    def apply(self, world: SimWorld) -> None:
        lock = int(world.model.equality(f"lock_{JOINT_NAMES[self.joint]}").id)
        adr = world._qpos_adr[self.joint]
        # A one-joint equality holds qpos - qpos0 at polycoef[0] (eq_data[0]).
        angle = float(world.data.qpos[adr] - world.model.qpos0[adr])
        self.edits.set(world.model, "eq_data", (lock, 0), angle)
        self.edits.set(world.data, "eq_active", lock, 1)

    def describe(self) -> dict[str, float | str]:
        described: dict[str, float | str] = {"joint": JOINT_NAMES[self.joint]}
        if self.duration_s is not None:
            described["duration_s"] = self.duration_s
        return described


class StalledJoint(OnsetPerturbation):
    """A servo loses most of its gain (kp x 0.1-0.25): it lags and sags under gravity.

    Stands for a servo in thermal derating or with a wrong gain written to it. The P-only
    servo's steady-state error is torque / kp, so the shoulder's few millimetres of nominal
    droop become centimetres. Damping (kv) is kept, so the joint is also sluggish.
    """

    name = "stalled_joint"
    is_fault = True
    onset_window_s = MOTION_ONSET_S

    def __init__(
        self,
        gain_factor: tuple[float, float] = (0.1, 0.25),
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.gain_factor = gain_factor
        self.joint = 0
        self.factor = 1.0

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        self.joint = choose_moving_joint(world, rng)
        self.factor = float(rng.uniform(*self.gain_factor))

    def apply(self, world: SimWorld) -> None:
        actuator = int(world.model.actuator(JOINT_NAMES[self.joint]).id)
        kp = float(world.model.actuator_gainprm[actuator, 0])
        # A position actuator is force = kp * ctrl - kp * q - kv * qdot.
        self.edits.set(world.model, "actuator_gainprm", (actuator, 0), kp * self.factor)
        self.edits.set(world.model, "actuator_biasprm", (actuator, 1), -kp * self.factor)

    def describe(self) -> dict[str, float | str]:
        return {"joint": JOINT_NAMES[self.joint], "gain_factor": self.factor}


class Friction(OnsetPerturbation):
    """Every joint's gearbox drags: dry friction 30-60% of its servo's torque, damping x5-10.

    Friction is set relative to each servo's torque limit (the wrist's is half the others'),
    so every joint still moves, but with a dead band of frictionloss / kp (about 0.02-0.03 rad)
    and slower.
    """

    name = "friction"
    is_fault = True
    onset_window_s = MOTION_ONSET_S

    def __init__(
        self,
        torque_fraction: tuple[float, float] = (0.3, 0.6),
        damping_factor: tuple[float, float] = (5.0, 10.0),
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.torque_fraction = torque_fraction
        self.damping_factor = damping_factor
        self.fraction = 0.0
        self.damping = 1.0

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        self.fraction = float(rng.uniform(*self.torque_fraction))
        self.damping = float(rng.uniform(*self.damping_factor))

    def apply(self, world: SimWorld) -> None:
        model = world.model
        for joint, dof in zip(JOINT_NAMES, world._dof_adr):
            limit = float(np.max(np.abs(model.actuator_forcerange[model.actuator(joint).id])))
            self.edits.set(model, "dof_frictionloss", dof, self.fraction * limit)
            self.edits.set(model, "dof_damping", dof, self.damping * model.dof_damping[dof])

    def describe(self) -> dict[str, float | str]:
        return {"torque_fraction": self.fraction, "damping_factor": self.damping}


class ActionDelay(OnsetPerturbation):
    """Targets reach the servos 60-160 ms late (a congested bus, a starved serial thread).

    A FIFO between the controller and the servos: each target is released `delay_s` after it
    was commanded; until then the servos keep the last released one. The controller still
    sees what it commanded (`Observation.executed_rad`), as the real robot would.
    """

    name = "action_delay"
    is_fault = True
    onset_window_s = MOTION_ONSET_S

    def __init__(
        self,
        delay_range_s: tuple[float, float] = (0.06, 0.16),
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.delay_range_s = delay_range_s
        self.delay_s = 0.0
        self._queue: deque[tuple[float, np.ndarray]] = deque()
        self._released = np.zeros(len(JOINT_NAMES))

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        self.delay_s = float(rng.uniform(*self.delay_range_s))

    def apply(self, world: SimWorld) -> None:
        self._queue.clear()
        self._released = world.data.ctrl.copy()  # what the servos were last sent

    def filter_target(self, world: SimWorld, time_s: float, target_rad: np.ndarray) -> np.ndarray:
        self._queue.append((time_s, target_rad))
        while self._queue and self._queue[0][0] + self.delay_s <= time_s + 1e-9:
            self._released = self._queue.popleft()[1]
        return self._released

    def describe(self) -> dict[str, float | str]:
        return {"delay_s": self.delay_s}
