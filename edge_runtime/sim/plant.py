"""The MuJoCo arm as a `ServoPlant`: what the simulated Dynamixel chain drives.

`command` sets the position actuators' targets; a motor with torque off goes limp (its
actuator's gain and damping are zeroed, so gravity takes the link, as on a real servo).
`measure` reads joint positions and velocities and turns actuator torque into a motor current
with an XM430-W350-like torque constant (about 1.8 N·m/A: 4.1 N·m stall at 2.3 A).

In a real-time world both calls first bring physics up to the wall clock, so the servo chain
always reports the arm as it is "now". Arrays are in the order of `joint_names`.
"""

from __future__ import annotations

import numpy as np

from edge_runtime.sim.world import JOINT_NAMES, SimWorld

NM_PER_AMP = 1.8


class MujocoPlant:
    """`firmware_bridge.sim.plant.ServoPlant` backed by a `SimWorld`."""

    def __init__(self, world: SimWorld, joint_names: tuple[str, ...] | list[str] = JOINT_NAMES):
        model = world.model
        self.world = world
        self.joint_names = tuple(joint_names)
        unknown = [n for n in self.joint_names if n not in JOINT_NAMES]
        if unknown:
            raise ValueError(
                f"joints {unknown} are not in the simulated arm; its joints are "
                f"{', '.join(JOINT_NAMES)}"
            )
        joint_ids = {int(model.joint(n).id): n for n in self.joint_names}
        # The actuator driving each joint, found through its transmission, not by name.
        by_joint = {int(model.actuator_trnid[a, 0]): a for a in range(model.nu)}
        self._act = np.array([by_joint[j] for j in joint_ids])
        self._qpos = np.array([model.joint(n).qposadr[0] for n in self.joint_names])
        self._dof = np.array([model.joint(n).dofadr[0] for n in self.joint_names])
        self._gain = world.actuator_gain[self._act]
        self._bias = world.actuator_bias[self._act]
        self._torque_on = np.ones(len(self.joint_names), dtype=bool)
        self.set_torque(np.zeros(len(self.joint_names), dtype=bool))

    @property
    def torque_on(self) -> np.ndarray:
        """Which motors are engaged now (a copy)."""
        return self._torque_on.copy()

    def set_torque(self, torque_on: np.ndarray) -> None:
        """Engage (stiff) or release (limp) each motor; a real servo powers up limp."""
        torque_on = np.asarray(torque_on, dtype=bool)
        if np.array_equal(torque_on, self._torque_on):
            return
        model = self.world.model
        with self.world.lock:
            scale = torque_on.astype(float)
            model.actuator_gainprm[self._act, 0] = self._gain * scale
            model.actuator_biasprm[self._act, :3] = self._bias * scale[:, None]
            self._torque_on = torque_on.copy()

    def command(self, goal_rad: np.ndarray, torque_on: np.ndarray) -> None:
        goal = np.asarray(goal_rad, dtype=float)
        if goal.shape != (len(self.joint_names),):
            raise ValueError(f"expected {len(self.joint_names)} goals, got shape {goal.shape}")
        self.world.advance_to_wall()
        with self.world.lock:
            self.set_torque(torque_on)
            lo, hi = self.world.model.actuator_ctrlrange[self._act].T
            self.world.data.ctrl[self._act] = np.clip(goal, lo, hi)

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.world.advance_to_wall()
        data = self.world.data
        with self.world.lock:
            position = data.qpos[self._qpos].copy()
            velocity = data.qvel[self._dof].copy()
            torque = data.actuator_force[self._act].copy()
        return position, velocity, torque / NM_PER_AMP
