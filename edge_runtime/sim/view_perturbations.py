"""Perturbations of what the camera sees: a bumped camera, a hand in the view, the lights.

All three change the MuJoCo scene itself (camera pose, an opaque body, light colours), never
only the pixels, so colour and depth stay consistent the way a real RGB-D camera's do: a bumped
camera shifts both, a hand is near in depth, and light changes colour but not one depth value.
"""

from __future__ import annotations

import numpy as np

from edge_runtime.sim.perturbation_base import OnsetPerturbation
from edge_runtime.sim.world import CAMERA_NAME, SimWorld

OCCLUDER = "occluder"  # arm.xml: a hand-sized plate, alpha 0 (not drawn) until placed
LAMP = "lamp"  # arm.xml: a warm desk lamp, switched off
KEY_LIGHT = "key"


def _unit_vector(rng: np.random.Generator) -> np.ndarray:
    """A direction uniform on the sphere."""
    v = rng.normal(size=3)
    return v / max(float(np.linalg.norm(v)), 1e-12)


class CameraBump(OnsetPerturbation):
    """Someone knocks the camera: it moves 5-12 mm and turns 1.5-3 degrees, and stays so.

    At the 0.5-0.9 m working distance 2 degrees move the image of the target by about
    2-3 cm - as much as the task's tolerance - so a policy that trusts the picture misses.
    The extrinsic calibration no longer holds; the surprise monitor should stop the arm.
    """

    name = "camera_bump"
    is_fault = True

    def __init__(
        self,
        shift_m: tuple[float, float] = (0.005, 0.012),
        tilt_deg: tuple[float, float] = (1.5, 3.0),
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.shift_range_m = shift_m
        self.tilt_range_deg = tilt_deg
        self.shift_m = np.zeros(3)
        self.axis = np.array([0.0, 0.0, 1.0])
        self.tilt_deg = 0.0

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        self.shift_m = _unit_vector(rng) * rng.uniform(*self.shift_range_m)
        self.axis = _unit_vector(rng)
        self.tilt_deg = float(rng.uniform(*self.tilt_range_deg))

    def apply(self, world: SimWorld) -> None:
        mj, model = world._mj, world.model
        cam = int(model.camera(CAMERA_NAME).id)
        turn = np.zeros(4)
        mj.mju_axisAngle2Quat(turn, self.axis, np.deg2rad(self.tilt_deg))
        quat = np.zeros(4)
        mj.mju_mulQuat(quat, turn, model.cam_quat[cam].copy())  # world-frame turn in place
        self.edits.set(model, "cam_pos", cam, model.cam_pos[cam] + self.shift_m)
        self.edits.set(model, "cam_quat", cam, quat / np.linalg.norm(quat))

    def describe(self) -> dict[str, float | str]:
        return {"shift_m": float(np.linalg.norm(self.shift_m)), "tilt_deg": self.tilt_deg}


class Occlusion(OnsetPerturbation):
    """A hand (an opaque 8 x 10 cm plate) passes 0.2-0.35 m in front of the camera.

    It is aimed at a point within 5 cm of the target, so it hides the part (in all of 60
    episodes checked) and 8-24% of the image (median 13%), and leaves again after 0.5-1.0 s
    (`duration_s`; None keeps it for the rest of the episode).
    """

    name = "occlusion"
    is_fault = True

    def __init__(
        self,
        distance_m: tuple[float, float] = (0.2, 0.35),
        aim_offset_m: float = 0.05,
        duration_s: tuple[float, float] | None = (0.5, 1.0),
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.distance_range_m = distance_m
        self.aim_offset_m = aim_offset_m
        self.duration_range_s = duration_s
        self.aim_m = np.zeros(3)
        self.distance_m = 0.0
        self.spin_rad = 0.0

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        radius = self.aim_offset_m * np.sqrt(rng.uniform())  # uniform in the disc
        heading = rng.uniform(0.0, 2.0 * np.pi)
        offset = radius * np.array([np.cos(heading), np.sin(heading), 0.0])
        self.aim_m = world.target_position() + offset
        self.distance_m = float(rng.uniform(*self.distance_range_m))
        self.spin_rad = float(rng.uniform(0.0, np.pi))
        span = self.duration_range_s  # the base class takes the hand away after duration_s
        self.duration_s = None if span is None else float(rng.uniform(*span))

    def apply(self, world: SimWorld) -> None:
        model, data = world.model, world.data
        cam = int(model.camera(CAMERA_NAME).id)
        eye = data.cam_xpos[cam].copy()
        view = (self.aim_m - eye) / np.linalg.norm(self.aim_m - eye)
        # The plate faces the camera: its z along the line of sight, spun about it.
        cam_axes = data.cam_xmat[cam].reshape(3, 3)
        c, s = np.cos(self.spin_rad), np.sin(self.spin_rad)
        x = c * cam_axes[:, 0] + s * cam_axes[:, 1]
        x -= view * float(x @ view)
        x /= np.linalg.norm(x)
        rotation = np.stack([x, np.cross(view, x), view], axis=1)
        quat = np.zeros(4)
        world._mj.mju_mat2Quat(quat, rotation.reshape(-1))
        body = int(model.body(OCCLUDER).id)
        self.edits.set(model, "body_pos", body, eye + self.distance_m * view)
        self.edits.set(model, "body_quat", body, quat)
        self.edits.set(model, "geom_rgba", (int(model.geom(OCCLUDER).id), 3), 1.0)

    def describe(self) -> dict[str, float | str]:
        described: dict[str, float | str] = {"distance_m": self.distance_m}
        if self.duration_s is not None:
            described["duration_s"] = self.duration_s
        return described


class Lighting(OnsetPerturbation):
    """The room light dims to 60-85% or brightens to 115-135%, tinted +-15% per colour
    channel, and half the time a warm desk lamp switches on beside the table.

    Geometry is untouched, so depth stays identical to the last value; only colour changes.
    Not a fault: the arm should carry on (the surprise monitor must not stop for it).
    """

    name = "lighting"
    is_fault = False

    def __init__(
        self,
        dim: tuple[float, float] = (0.6, 0.85),
        bright: tuple[float, float] = (1.15, 1.35),
        tint: float = 0.15,
        lamp_probability: float = 0.5,
        onset_window_s: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(onset_window_s)
        self.dim, self.bright, self.tint = dim, bright, tint
        self.lamp_probability = lamp_probability
        self.scale = np.ones(3)
        self.lamp = False

    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        brighter = bool(rng.uniform() < 0.5)
        factor = rng.uniform(*(self.bright if brighter else self.dim))
        self.scale = factor * rng.uniform(1.0 - self.tint, 1.0 + self.tint, 3)
        self.lamp = bool(rng.uniform() < self.lamp_probability)

    def apply(self, world: SimWorld) -> None:
        model = world.model
        key = int(model.light(KEY_LIGHT).id)
        self.edits.set(model, "light_diffuse", key, model.light_diffuse[key] * self.scale)
        for part in ("ambient", "diffuse"):
            path = f"vis.headlight.{part}"
            self.edits.set(
                model, path, slice(None), getattr(model.vis.headlight, part) * self.scale
            )
        if self.lamp:
            self.edits.set(model, "light_active", int(model.light(LAMP).id), True)

    def describe(self) -> dict[str, float | str]:
        return {"brightness": float(np.mean(self.scale)), "lamp": "on" if self.lamp else "off"}
