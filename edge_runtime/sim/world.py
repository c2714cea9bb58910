"""The simulated workspace: the MuJoCo arm of `arm.xml`, a red target on the table, and time.

Two ways to move time, never mixed on one world:

* **manual** (`realtime=False`, the default): only `step(n)` advances physics. Deterministic
  for a given seed and command sequence; used by tests, the scripted expert and data collection.
* **real time** (`realtime=True`): simulated time follows the monotonic clock. Every reader
  (the plant, the camera) calls `advance_to_wall()` first, which steps physics up to "now" in
  one `mj_step(..., nstep=n)` call, so nothing needs a thread; `start()` adds an optional
  background thread that does the same every `period_s` for when nobody is polling.

Threading: one lock guards `model`/`data`. It is held only while stepping or copying state,
never while rendering pixels. `mujoco.mj_step` releases the GIL while it runs (measured here:
another Python thread kept counting during a 1 s `nstep` call), so stepping under the lock
does not stall the control thread; only the Python around it does. The arm steps at
240k-380k steps/s on the dev machine (2 ms timestep); real time with the optional thread at
5 ms costs about 2.5% of a core, mostly the wake-ups.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MJCF_PATH = Path(__file__).with_name("arm.xml")
JOINT_NAMES: tuple[str, ...] = ("base_yaw", "shoulder_pitch", "elbow_pitch", "wrist_pitch")
CAMERA_NAME = "workspace_cam"
EE_SITE = "ee_site"
TARGET_BODY = "target"
HOME_KEY = "home"
# Real time never catches up more than this at once (e.g. after a debugger pause); the rest
# of the gap is skipped, so a stalled process never triggers a long burst of physics.
MAX_CATCH_UP_S = 0.25


def load_mujoco() -> Any:
    """Import mujoco with CPU (OSMesa) rendering unless the user picked another backend."""
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
    import mujoco

    return mujoco


@dataclass(frozen=True)
class TargetRegion:
    """Where targets are placed: an annulus sector in front of the arm, all reachable.

    Radius and yaw are measured from the arm's base axis; `height_m` is the target centre.
    """

    radius_m: tuple[float, float] = (0.15, 0.27)
    yaw_rad: tuple[float, float] = (-0.7, 0.7)
    height_m: float = 0.015

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        # Uniform in area, not in radius, so the far edge is not under-sampled.
        r2 = rng.uniform(self.radius_m[0] ** 2, self.radius_m[1] ** 2)
        yaw = rng.uniform(*self.yaw_rad)
        r = math.sqrt(r2)
        return np.array([r * math.cos(yaw), r * math.sin(yaw), self.height_m])

    def contains(self, position_m: np.ndarray) -> bool:
        """Whether a point (table plane; height ignored) lies in the sector targets come from."""
        x, y = float(position_m[0]), float(position_m[1])
        r, yaw = math.hypot(x, y), math.atan2(y, x)
        return (
            self.radius_m[0] <= r <= self.radius_m[1] and self.yaw_rad[0] <= yaw <= self.yaw_rad[1]
        )


class SimWorld:
    """The arm, the target and the clock. Thread-safe; see the module docstring."""

    def __init__(
        self,
        seed: int = 0,
        realtime: bool = False,
        region: TargetRegion | None = None,
        reach_height_m: float = 0.045,
        xml_path: str | Path = MJCF_PATH,
    ) -> None:
        mujoco = load_mujoco()
        self._mj = mujoco
        self.model = mujoco.MjModel.from_xml_path(str(xml_path))
        self.data = mujoco.MjData(self.model)
        # The actuators' gains as the model file gives them: a limp motor zeroes its own in
        # `model`, so every `MujocoPlant` (one per bus on a robot with several) engages from
        # these, whatever another plant on this world has done to the model already.
        self.actuator_gain = self.model.actuator_gainprm[:, 0].copy()
        self.actuator_bias = self.model.actuator_biasprm[:, :3].copy()
        self.lock = threading.RLock()
        self.realtime = realtime
        self.region = region or TargetRegion()
        # The task: bring the tool point this far above the target centre (hover over it).
        self.reach_height_m = reach_height_m
        self.joint_names = JOINT_NAMES
        self._qpos_adr = np.array([self.model.joint(n).qposadr[0] for n in JOINT_NAMES])
        self._dof_adr = np.array([self.model.joint(n).dofadr[0] for n in JOINT_NAMES])
        self._ee_site = self.model.site(EE_SITE).id
        self._mocap = int(self.model.body(TARGET_BODY).mocapid[0])
        self._home = self.model.key(HOME_KEY).id
        self._wall_anchor: tuple[float, float] = (time.monotonic(), 0.0)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.seed = seed
        self.reset(seed)

    # -- time -------------------------------------------------------------------------------
    @property
    def timestep_s(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def time_s(self) -> float:
        return float(self.data.time)

    def step(self, n: int = 1) -> None:
        """Advance physics by `n` timesteps (manual mode; deterministic)."""
        if n <= 0:
            return
        with self.lock:
            self._mj.mj_step(self.model, self.data, nstep=int(n))

    def advance_to_wall(self) -> None:
        """Real-time mode: step physics up to the monotonic clock; a no-op in manual mode."""
        if not self.realtime:
            return
        with self.lock:
            wall0, sim0 = self._wall_anchor
            behind_s = (sim0 + time.monotonic() - wall0) - self.data.time
            if behind_s > MAX_CATCH_UP_S:
                skipped = behind_s - MAX_CATCH_UP_S
                self._wall_anchor = (wall0 + skipped, sim0)
                log.debug("sim fell %.0f ms behind real time; skipping", skipped * 1000)
                behind_s = MAX_CATCH_UP_S
            n = int(behind_s / self.timestep_s)
            if n > 0:
                self._mj.mj_step(self.model, self.data, nstep=n)

    def start(self, period_s: float = 0.005) -> None:
        """Optional background physics thread for real-time mode (readers also advance)."""
        if not self.realtime:
            raise ValueError("SimWorld.start() needs realtime=True; manual worlds use step(n)")
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(period_s,), name="sim-physics", daemon=True
        )
        self._thread.start()

    def _run(self, period_s: float) -> None:
        while not self._stop.wait(period_s):
            self.advance_to_wall()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=2.0)

    # -- episode ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None, joints_rad: np.ndarray | None = None) -> np.ndarray:
        """Home pose (or `joints_rad`), a new seeded target; returns the target position."""
        if seed is not None:
            self.seed = seed
        rng = np.random.default_rng(self.seed)
        target = self.region.sample(rng)
        with self.lock:
            self._mj.mj_resetDataKeyframe(self.model, self.data, self._home)
            if joints_rad is not None:
                q = np.asarray(joints_rad, float)
                self.data.qpos[self._qpos_adr] = q
                self.data.ctrl[:] = q
            self.data.mocap_pos[self._mocap] = target
            self._mj.mj_forward(self.model, self.data)
            self._wall_anchor = (time.monotonic(), float(self.data.time))
        return target

    def set_target(self, position_m: np.ndarray) -> None:
        with self.lock:
            self.data.mocap_pos[self._mocap] = np.asarray(position_m, float)
            self._mj.mj_forward(self.model, self.data)

    # -- state ------------------------------------------------------------------------------
    def joint_limits(self) -> np.ndarray:
        """(J, 2) [min, max] radians from the MJCF, in `JOINT_NAMES` order."""
        ids = [self.model.joint(n).id for n in JOINT_NAMES]
        return np.array(self.model.jnt_range[ids], dtype=float)

    def home_joints(self) -> np.ndarray:
        return np.array(self.model.key_qpos[self._home][self._qpos_adr], dtype=float)

    def joint_positions(self) -> np.ndarray:
        with self.lock:
            return self.data.qpos[self._qpos_adr].copy()

    def joint_velocities(self) -> np.ndarray:
        with self.lock:
            return self.data.qvel[self._dof_adr].copy()

    def set_joint_targets(self, goal_rad: np.ndarray) -> None:
        """Position targets for the actuators (clipped to their control ranges)."""
        with self.lock:
            lo, hi = self.model.actuator_ctrlrange.T
            self.data.ctrl[:] = np.clip(np.asarray(goal_rad, float), lo, hi)

    def ee_position(self) -> np.ndarray:
        with self.lock:
            return self.data.site_xpos[self._ee_site].copy()

    def target_position(self) -> np.ndarray:
        with self.lock:
            return self.data.mocap_pos[self._mocap].copy()

    def goal_position(self) -> np.ndarray:
        """Where the tool point should go: `reach_height_m` above the target centre."""
        return self.target_position() + np.array([0.0, 0.0, self.reach_height_m])

    def distance_to_goal(self) -> float:
        return float(np.linalg.norm(self.ee_position() - self.goal_position()))

    def task_success(self, tolerance_m: float = 0.02) -> bool:
        return self.distance_to_goal() <= tolerance_m

    def camera_pose_cv(self, camera: str = CAMERA_NAME) -> np.ndarray:
        """4x4 world-from-camera transform in the OpenCV convention (x right, y down, z ahead).

        MuJoCo cameras look along their -z with y up; flipping y and z gives OpenCV's frame.
        This is the ground truth for eye-to-hand calibration in simulation.
        """
        with self.lock:
            cam = self.model.camera(camera).id
            rot = self.data.cam_xmat[cam].reshape(3, 3) @ np.diag([1.0, -1.0, -1.0])
            pose = np.eye(4)
            pose[:3, :3] = rot
            pose[:3, 3] = self.data.cam_xpos[cam]
        return pose

    def __enter__(self) -> SimWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
