"""Robot forward kinematics read from the robot's MJCF by MuJoCo itself.

Hand-eye accuracy is bounded by the robot poses fed to it, so they come from the same model
the simulator uses, parsed and evaluated by MuJoCo (`mj_kinematics`), never from a second,
hand-written chain that could silently disagree with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from calibration.geometry import invert, make_transform
from edge_runtime.errors import CalibrationError
from edge_runtime.file_hash import sha256_file


class RobotModel:
    """Evaluate `T_base_site` for joint positions given in motor order."""

    def __init__(
        self,
        mjcf: str | Path,
        ee_site: str = "ee_site",
        joint_names: list[str] | None = None,
        base_body: str = "base",
    ) -> None:
        import mujoco

        self.path = Path(mjcf)
        try:
            self.model = mujoco.MjModel.from_xml_path(str(self.path))
        except (ValueError, OSError) as exc:
            raise CalibrationError(
                f"MuJoCo cannot load the robot model {self.path} ({exc}); pass --mjcf with the "
                "robot's MJCF"
            ) from exc
        self.data = mujoco.MjData(self.model)
        self._mujoco = mujoco
        self.ee_site = ee_site
        self._site = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, ee_site)
        if self._site < 0:
            raise CalibrationError(f"{self.path} has no site named '{ee_site}'; pass --ee-site")
        self._base = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, base_body)
        if joint_names is None:
            hinge_or_slide = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
            joint_names = [
                self.model.joint(i).name
                for i in range(self.model.njnt)
                if int(self.model.jnt_type[i]) in hinge_or_slide
            ]
        self.joint_names = list(joint_names)
        self._qpos = []
        ranges = []
        for name in self.joint_names:
            jid = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, name)
            if jid < 0:
                raise CalibrationError(f"{self.path} has no joint named '{name}'")
            self._qpos.append(int(self.model.jnt_qposadr[jid]))
            limited = bool(self.model.jnt_limited[jid])
            ranges.append(self.model.jnt_range[jid] if limited else (-np.pi, np.pi))
        self.lower = np.array([r[0] for r in ranges], float)
        self.upper = np.array([r[1] for r in ranges], float)

    @property
    def name(self) -> str:
        return self.path.name

    def sha256(self) -> str:
        return sha256_file(self.path)

    def _evaluate(self, q: np.ndarray) -> None:
        q = np.asarray(q, float).reshape(-1)
        if q.shape[0] != len(self._qpos):
            raise CalibrationError(
                f"{len(q)} joint positions given but {self.name} has {len(self._qpos)} joints "
                f"({', '.join(self.joint_names)})"
            )
        self.data.qpos[:] = self.model.qpos0
        self.data.qpos[self._qpos] = q
        self._mujoco.mj_kinematics(self.model, self.data)

    def _base_pose(self) -> np.ndarray:
        if self._base < 0:
            return np.eye(4)
        return make_transform(self.data.xmat[self._base].reshape(3, 3), self.data.xpos[self._base])

    def fk(self, q: np.ndarray) -> np.ndarray:
        """`T_base_site`: the tool site in the base body's frame (world if no base body)."""
        self._evaluate(q)
        world_site = make_transform(
            self.data.site_xmat[self._site].reshape(3, 3), self.data.site_xpos[self._site]
        )
        return invert(self._base_pose()) @ world_site

    def lowest_point_m(self, q: np.ndarray, skip_bodies: int = 2) -> float:
        """Lowest body origin above the base (after `fk`-style evaluation), for clearance."""
        self._evaluate(q)
        base_z = self._base_pose()[2, 3]
        return float(np.min(self.data.xpos[skip_bodies:, 2]) - base_z)

    def camera_pose(self, camera: str) -> np.ndarray:
        """`T_base_camera` of a fixed MJCF camera, in OpenCV axes (x right, y down, z forward).

        MuJoCo cameras look along -z with y up, so the axes are flipped about x.
        """
        cid = self._mujoco.mj_name2id(self.model, self._mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if cid < 0:
            raise CalibrationError(f"{self.path} has no camera named '{camera}'")
        self._evaluate(np.zeros(len(self._qpos)))
        self._mujoco.mj_comPos(self.model, self.data)
        self._mujoco.mj_camlight(self.model, self.data)
        world = make_transform(self.data.cam_xmat[cid].reshape(3, 3), self.data.cam_xpos[cid])
        flip = np.diag([1.0, -1.0, -1.0, 1.0])
        return invert(self._base_pose()) @ world @ flip

    def info(self) -> dict[str, Any]:
        return {"model": self.name, "sha256": self.sha256(), "joints": self.joint_names}
