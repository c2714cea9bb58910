"""Depth check: does the depth stream agree with the board plane the color stream sees?

The board pose from the color image (ChArUco + PnP with calibrated intrinsics) is accurate to
well under a millimetre at arm's length, so it is the reference: every depth pixel inside the
board should lie on that plane. The mean difference along the viewing ray is the depth bias,
the spread around a plane fitted to the depth points is its noise. RealSense D4xx cameras
drift with temperature and knocks; a bias or noise above the tolerance (a percentage of the
distance) means "run RealSense's on-chip self-calibration", which the artifact flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.board import BoardSpec, detect
from calibration.handeye import board_pose
from edge_runtime.calibration_artifacts import DEPTH, Device, build_document
from edge_runtime.errors import CalibrationError
from edge_runtime.sensors.base import Frame

SELF_CAL_ADVICE = (
    "run the RealSense on-chip self-calibration (RealSense Viewer > More > On-Chip Calibration, "
    "or rs-on-chip-calib), then run `edgerun calibrate depth` again"
)


@dataclass(frozen=True)
class DepthResult:
    distance_m: float
    bias_mm: float
    rms_mm: float
    plane_fit_rms_mm: float
    valid_fraction: float
    frames: int
    tolerance_pct: float

    @property
    def needs_self_calibration(self) -> bool:
        limit_mm = self.tolerance_pct / 100 * self.distance_m * 1000
        return abs(self.bias_mm) > limit_mm or self.plane_fit_rms_mm > limit_mm

    def document(self, serial: str = "") -> dict[str, Any]:
        quality = {
            "bias_mm": self.bias_mm,
            "rms_mm": self.rms_mm,
            "distance_m": self.distance_m,
            "needs_self_calibration": self.needs_self_calibration,
            "valid_fraction": self.valid_fraction,
            "frames": self.frames,
        }
        data = {
            "distance_m": self.distance_m,
            "bias_mm": self.bias_mm,
            "rms_mm": self.rms_mm,
            "plane_fit_rms_mm": self.plane_fit_rms_mm,
            "tolerance_pct": self.tolerance_pct,
            "needs_self_calibration": self.needs_self_calibration,
        }
        device = Device(camera_serial=serial)
        return build_document(DEPTH.name, DEPTH.version, device, quality, data)


def _board_mask(
    spec: BoardSpec,
    pose: np.ndarray,
    matrix: np.ndarray,
    coeffs: np.ndarray,
    shape: tuple[int, ...],
) -> np.ndarray:
    import cv2

    width_m, height_m = spec.size_m
    inset = spec.square_m * 0.5  # stay off the board's edge, where depth mixes with background
    outline = np.array(
        [
            [inset, inset, 0],
            [width_m - inset, inset, 0],
            [width_m - inset, height_m - inset, 0],
            [inset, height_m - inset, 0],
        ],
        np.float64,
    )
    rvec, _ = cv2.Rodrigues(pose[:3, :3])
    pixels, _ = cv2.projectPoints(outline, rvec, pose[:3, 3], matrix, coeffs)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(pixels.reshape(-1, 2)).astype(np.int32), 1)
    return mask.astype(bool)


def measure_frame(
    frame: Frame, spec: BoardSpec, matrix: np.ndarray, coeffs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """(depth errors m, depth points (N,3) m, valid fraction) for one frame."""
    import cv2

    pose = board_pose(detect(frame.color, spec), matrix, coeffs)
    if pose is None:
        raise CalibrationError(
            "the board is not visible in the color image; hold it flat, 0.4-1.0 m in front of "
            "the camera, fully in view"
        )
    depth = frame.depth_m()
    mask = _board_mask(spec, pose, matrix, coeffs, depth.shape)
    rows, cols = np.nonzero(mask)
    measured = depth[rows, cols].astype(np.float64)
    valid = measured > 0
    if valid.sum() < 200:
        raise CalibrationError(
            f"only {int(valid.sum())} depth pixels on the board; check the depth stream is on and "
            "aligned to color, and the board is within the depth range"
        )
    pixels = np.stack([cols[valid], rows[valid]], axis=1).astype(np.float64).reshape(-1, 1, 2)
    rays = cv2.undistortPoints(pixels, matrix, coeffs).reshape(-1, 2)
    rays = np.concatenate([rays, np.ones((len(rays), 1))], axis=1)
    normal, origin = pose[:3, 2], pose[:3, 3]
    expected = (normal @ origin) / (rays @ normal)
    z = measured[valid]
    return z - expected, rays * z[:, None], float(valid.mean())


def check_depth(
    frames: list[Frame],
    spec: BoardSpec,
    matrix: np.ndarray,
    coeffs: np.ndarray,
    tolerance_pct: float = 1.0,
) -> DepthResult:
    if not frames:
        raise CalibrationError("no frames to check; is the camera streaming?")
    errors, fits, distances, valid = [], [], [], []
    for frame in frames:
        error, points, fraction = measure_frame(frame, spec, matrix, coeffs)
        errors.append(error)
        centred = points - points.mean(axis=0)
        normal = np.linalg.svd(centred, full_matrices=False)[2][-1]
        fits.append(float(np.sqrt(np.mean((centred @ normal) ** 2))))
        distances.append(float(np.median(points[:, 2])))
        valid.append(fraction)
    every = np.concatenate(errors)
    return DepthResult(
        distance_m=float(np.median(distances)),
        bias_mm=float(np.mean(every) * 1000),
        rms_mm=float(np.sqrt(np.mean(every**2)) * 1000),
        plane_fit_rms_mm=float(np.median(fits) * 1000),
        valid_fraction=float(np.mean(valid)),
        frames=len(frames),
        tolerance_pct=tolerance_pct,
    )
