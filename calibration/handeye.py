"""Hand-eye calibration: every OpenCV method, the most self-consistent one kept.

Inputs are pairs of `T_base_gripper` (from forward kinematics of the measured joints) and
`T_camera_board` (from the board seen in the image). In-hand (camera on the gripper) solves
`T_gripper_camera`; to-hand (camera fixed, board held by the gripper) solves `T_base_camera`
by handing OpenCV the inverted robot poses, as its documentation prescribes.

Consistency is what we can measure without ground truth: with the solved camera pose, every
pair implies the pose of the thing that should not move (board in gripper for to-hand, board
in base for in-hand). Their spread, in mm and degrees, is the residual; the method with the
smallest spread wins. Rotation diversity decides whether the problem is solvable at all: with
rotations about one axis only, translation along that axis is unobservable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.geometry import invert, make_transform, matrix_to_axis_angle, rotation_angle_deg
from edge_runtime.calibration_artifacts import HANDEYE, Device, build_document
from edge_runtime.errors import CalibrationError

METHODS = ("TSAI", "PARK", "HORAUD", "ANDREFF", "DANIILIDIS")
MODES = ("in-hand", "to-hand")
MIN_POSES = 5
MIN_ROTATION_DEG = 2.0  # below this between every pair, the problem is degenerate
DIVERSE_ANGLE_DEG = 30.0
DIVERSE_AXIS_SPREAD = 0.25


@dataclass(frozen=True)
class Diversity:
    """How much the gripper rotated: largest relative angle and how many axes it used."""

    max_angle_deg: float
    axis_spread: float  # 2nd singular value / 1st of the relative-rotation axes; 0 = one axis

    @property
    def warnings(self) -> list[str]:
        notes = []
        if self.max_angle_deg < DIVERSE_ANGLE_DEG:
            notes.append(
                f"the gripper rotated at most {self.max_angle_deg:.0f} degrees between poses; "
                f"use poses at least {DIVERSE_ANGLE_DEG:.0f} degrees apart"
            )
        if self.axis_spread < DIVERSE_AXIS_SPREAD:
            notes.append(
                "the gripper rotated about nearly one axis only; add poses that tilt the tool "
                "about a second axis, or the camera position along that axis is guesswork"
            )
        return notes


def rotation_diversity(base_gripper: list[np.ndarray]) -> Diversity:
    axes, angles = [], []
    for i in range(len(base_gripper)):
        for j in range(i + 1, len(base_gripper)):
            relative = base_gripper[i][:3, :3].T @ base_gripper[j][:3, :3]
            vector = matrix_to_axis_angle(relative)
            angle = float(np.linalg.norm(vector))
            angles.append(np.degrees(angle))
            if np.degrees(angle) > MIN_ROTATION_DEG:
                # Express the axis in the base frame so axes of different pairs compare.
                axes.append(base_gripper[i][:3, :3] @ (vector / angle))
    if len(axes) < 2:
        return Diversity(max(angles, default=0.0), 0.0)
    singular = np.linalg.svd(np.array(axes), compute_uv=False)
    return Diversity(float(max(angles)), float(singular[1] / singular[0]))


@dataclass(frozen=True)
class HandEyeResult:
    mode: str
    transform: np.ndarray
    method: str
    translation_mm: float
    rotation_deg: float
    per_pose_mm: np.ndarray
    per_pose_deg: np.ndarray
    methods: dict[str, dict[str, float]]
    diversity: Diversity
    warnings: list[str] = field(default_factory=list)

    def document(
        self,
        robot_model: str,
        ee_site: str,
        motor_ids: list[int],
        serial: str = "",
    ) -> dict[str, Any]:
        quality = {
            "translation_mm": self.translation_mm,
            "rotation_deg": self.rotation_deg,
            "poses": len(self.per_pose_mm),
            "max_rotation_deg": self.diversity.max_angle_deg,
            "axis_spread": self.diversity.axis_spread,
            "methods": self.methods,
            "warnings": self.warnings,
        }
        data = {
            "mode": self.mode,
            "transform": self.transform.tolist(),
            "parent_frame": "gripper" if self.mode == "in-hand" else "base",
            "method": self.method,
            "robot_model": robot_model,
            "ee_site": ee_site,
        }
        device = Device(camera_serial=serial, motor_ids=tuple(motor_ids))
        return build_document(HANDEYE.name, HANDEYE.version, device, quality, data)


def _fixed_poses(
    mode: str, transform: np.ndarray, grippers: list[np.ndarray], boards: list[np.ndarray]
) -> list[np.ndarray]:
    """Per pair, the implied pose of what must stay fixed (board in gripper / board in base)."""
    if mode == "to-hand":
        return [invert(g) @ transform @ b for g, b in zip(grippers, boards)]
    return [g @ transform @ b for g, b in zip(grippers, boards)]


def _spread(poses: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each pose from their mean pose: (mm, degrees)."""
    translations = np.array([p[:3, 3] for p in poses])
    mean_t = translations.mean(axis=0)
    u, _, vt = np.linalg.svd(sum(p[:3, :3] for p in poses))
    mean_r = u @ np.diag([1, 1, np.linalg.det(u @ vt)]) @ vt
    mm = np.linalg.norm(translations - mean_t, axis=1) * 1000
    deg = np.array([rotation_angle_deg(mean_r.T @ p[:3, :3]) for p in poses])
    return mm, deg


def solve_handeye(
    base_gripper: list[np.ndarray],
    camera_board: list[np.ndarray],
    mode: str = "to-hand",
    methods: tuple[str, ...] = METHODS,
) -> HandEyeResult:
    import cv2

    if mode not in MODES:
        raise CalibrationError(f"hand-eye mode must be 'in-hand' or 'to-hand', got {mode!r}")
    if len(base_gripper) != len(camera_board):
        raise CalibrationError(
            f"{len(base_gripper)} robot poses but {len(camera_board)} board poses; every robot "
            "pose needs the board seen from it"
        )
    if len(base_gripper) < MIN_POSES:
        raise CalibrationError(
            f"only {len(base_gripper)} poses with the board in view (need {MIN_POSES}, 12 or more "
            "recommended); add poses or check that the board is visible from each"
        )
    diversity = rotation_diversity(base_gripper)
    if diversity.max_angle_deg < MIN_ROTATION_DEG:
        raise CalibrationError(
            f"the poses are degenerate: the gripper rotated at most {diversity.max_angle_deg:.1f} "
            "degrees between them; use poses that tilt and turn the tool by 20-45 degrees"
        )
    robot = base_gripper if mode == "in-hand" else [invert(g) for g in base_gripper]
    r_robot = [g[:3, :3] for g in robot]
    t_robot = [g[:3, 3] for g in robot]
    r_board = [b[:3, :3] for b in camera_board]
    t_board = [b[:3, 3] for b in camera_board]
    scores: dict[str, dict[str, float]] = {}
    best: tuple[float, str, np.ndarray, np.ndarray, np.ndarray] | None = None
    for name in methods:
        try:
            rotation, translation = cv2.calibrateHandEye(
                r_robot, t_robot, r_board, t_board, method=getattr(cv2, f"CALIB_HAND_EYE_{name}")
            )
        except cv2.error:
            continue
        transform = make_transform(rotation, translation)
        if not np.all(np.isfinite(transform)) or abs(np.linalg.det(rotation) - 1) > 1e-3:
            continue
        mm, deg = _spread(_fixed_poses(mode, transform, base_gripper, camera_board))
        t_rms, r_rms = float(np.sqrt(np.mean(mm**2))), float(np.sqrt(np.mean(deg**2)))
        scores[name] = {"translation_mm": t_rms, "rotation_deg": r_rms}
        # 1 mm of spread weighs like 0.1 degree (at 0.5 m, 0.1 degree moves a point ~1 mm).
        score = t_rms + 10 * r_rms
        if best is None or score < best[0]:
            best = (score, name, transform, mm, deg)
    if best is None:
        raise CalibrationError(
            "no OpenCV hand-eye method produced a solution; the poses are degenerate — add "
            "poses that rotate the tool about two different axes"
        )
    _, name, transform, mm, deg = best
    return HandEyeResult(
        mode=mode,
        transform=transform,
        method=name,
        translation_mm=scores[name]["translation_mm"],
        rotation_deg=scores[name]["rotation_deg"],
        per_pose_mm=mm,
        per_pose_deg=deg,
        methods=scores,
        diversity=diversity,
        warnings=diversity.warnings,
    )


def board_pose(
    detection: Any, matrix: np.ndarray, coeffs: np.ndarray, min_corners: int = 6
) -> np.ndarray | None:
    """`T_camera_board` from one detection with known intrinsics (None if too few corners)."""
    import cv2

    if detection.count < min_corners:
        return None
    ok, rvec, tvec = cv2.solvePnP(
        detection.object_points, detection.image_points, matrix, coeffs, flags=cv2.SOLVEPNP_IPPE
    )
    if not ok:
        return None
    rvec, tvec = cv2.solvePnPRefineLM(
        detection.object_points, detection.image_points, matrix, coeffs, rvec, tvec
    )
    rotation, _ = cv2.Rodrigues(rvec)
    return make_transform(rotation, tvec.reshape(3))
