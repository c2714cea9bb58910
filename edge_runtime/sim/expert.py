"""The scripted expert: joint-space action chunks that bring the tool above the target.

The expert knows the true target position (it is privileged; the models it teaches only see
the camera). Inverse kinematics uses MuJoCo's own Jacobians (`mj_jacSite`) with damped least
squares on a scratch `MjData`, so the kinematics come from the MJCF and never from a
hand-written model. The goal asks for the tool point `reach_height_m` above the target with
the tool pointing down; IK always starts from the home pose, so every target maps to the same
(elbow-up) branch and the target -> joints map is a smooth function a model can learn.

A chunk is `chunk_length` joint targets spaced `dt_s` apart, moving from the current joints
straight toward the goal in joint space with every joint arriving together, at most
`max_velocity_rad_s` on the joint that moves most (`ramp_chunk`). The analytic ONNX policy
builds exactly the same ramp in-graph.

`collect_episodes` lives in `edge_runtime.sim.episodes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_runtime.sim.world import EE_SITE, SimWorld

DOWN = np.array([0.0, 0.0, -1.0])


def ramp_chunk(
    joints_rad: np.ndarray,
    goal_rad: np.ndarray,
    chunk_length: int,
    dt_s: float,
    max_velocity_rad_s: float,
) -> np.ndarray:
    """(chunk_length, J) targets from `joints_rad` toward `goal_rad`, synchronised, capped."""
    q = np.asarray(joints_rad, np.float64)
    delta = np.asarray(goal_rad, np.float64) - q
    largest = max(float(np.max(np.abs(delta))), 1e-6)
    reach = max_velocity_rad_s * dt_s * np.arange(1, chunk_length + 1)
    fraction = np.minimum(1.0, reach / largest)
    return q[None, :] + fraction[:, None] * delta[None, :]


class IkSolver:
    """Damped-least-squares IK for `ee_site` on a private `MjData` (never the live one)."""

    def __init__(
        self,
        world: SimWorld,
        orientation_weight: float = 0.3,
        damping: float = 0.02,
        iterations: int = 150,
        tolerance_m: float = 1e-4,
    ) -> None:
        mj = world._mj
        self._mj = mj
        self.model = world.model
        self.data = mj.MjData(world.model)
        self.site = world.model.site(EE_SITE).id
        self.qpos_adr = world._qpos_adr
        self.dof_adr = world._dof_adr
        self.limits = world.joint_limits()
        self.home = world.home_joints()
        self.orientation_weight = orientation_weight
        self.damping = damping
        self.iterations = iterations
        self.tolerance_m = tolerance_m
        nv = world.model.nv
        self._jacp = np.zeros((3, nv))
        self._jacr = np.zeros((3, nv))

    def forward(self, joints_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tool point position and tool axis (site z) for joint angles, from the MJCF."""
        self.data.qpos[self.qpos_adr] = joints_rad
        self._mj.mj_kinematics(self.model, self.data)
        self._mj.mj_comPos(self.model, self.data)
        pos = self.data.site_xpos[self.site].copy()
        axis = self.data.site_xmat[self.site].reshape(3, 3)[:, 2].copy()
        return pos, axis

    def solve(self, goal_m: np.ndarray, start_rad: np.ndarray | None = None) -> np.ndarray:
        """Joint angles putting the tool point at `goal_m`, tool pointing down, within limits."""
        q = (self.home if start_rad is None else np.asarray(start_rad, float)).copy()
        lo, hi = self.limits[:, 0], self.limits[:, 1]
        w = self.orientation_weight
        eye = np.eye(6) * self.damping**2
        for _ in range(self.iterations):
            pos, axis = self.forward(q)
            err_pos = np.asarray(goal_m, float) - pos
            err_rot = np.cross(axis, DOWN)
            if np.linalg.norm(err_pos) < self.tolerance_m and np.linalg.norm(err_rot) < 1e-3:
                break
            self._mj.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site)
            jac = np.vstack([self._jacp[:, self.dof_adr], w * self._jacr[:, self.dof_adr]])
            err = np.concatenate([err_pos, w * err_rot])
            dq = jac.T @ np.linalg.solve(jac @ jac.T + eye, err)
            q = np.clip(q + dq, lo, hi)
        return q

    def position_error_m(self, joints_rad: np.ndarray, goal_m: np.ndarray) -> float:
        return float(np.linalg.norm(self.forward(joints_rad)[0] - np.asarray(goal_m, float)))


@dataclass(frozen=True)
class ChunkSpec:
    """Shape and pace of action chunks (shared by the expert, the data and the bundles)."""

    chunk_length: int = 16
    dt_s: float = 0.02
    max_velocity_rad_s: float = 1.0


class ScriptedExpert:
    """Reads the true target from the world, solves IK once per target, emits ramp chunks."""

    def __init__(self, world: SimWorld, spec: ChunkSpec | None = None) -> None:
        self.world = world
        self.spec = spec or ChunkSpec()
        self.ik = IkSolver(world)
        self._cached: tuple[tuple[float, ...], np.ndarray] | None = None

    def goal_joints(self) -> np.ndarray:
        goal = self.world.goal_position()
        key = tuple(np.round(goal, 9))
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self.ik.solve(goal))
        return self._cached[1].copy()

    def action_chunk(self, joints_rad: np.ndarray | None = None) -> np.ndarray:
        """(chunk_length, J) float32 joint targets from the current (or given) joints."""
        q = self.world.joint_positions() if joints_rad is None else joints_rad
        s = self.spec
        chunk = ramp_chunk(q, self.goal_joints(), s.chunk_length, s.dt_s, s.max_velocity_rad_s)
        return chunk.astype(np.float32)


def run_expert_episode(
    world: SimWorld,
    expert: ScriptedExpert,
    seed: int,
    duration_s: float = 2.5,
    replan_period_s: float = 0.1,
    tolerance_m: float = 0.02,
) -> tuple[bool, float]:
    """One closed-loop expert episode without rendering: (success, final distance in m)."""
    world.reset(seed)
    spec = expert.spec
    steps_per_action = max(1, round(spec.dt_s / world.timestep_s))
    actions_per_plan = max(1, round(replan_period_s / spec.dt_s))
    t_end = world.time_s + duration_s
    while world.time_s < t_end - 1e-9:
        chunk = expert.action_chunk()
        for action in chunk[:actions_per_plan]:
            world.set_joint_targets(action)
            world.step(steps_per_action)
    return world.task_success(tolerance_m), world.distance_to_goal()
