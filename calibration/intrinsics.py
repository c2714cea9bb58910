"""Camera intrinsics from ChArUco views: per-view error, outlier rejection, coverage.

A calibration is only as good as its worst views and its emptiest image region, so both are
reported: views whose reprojection error is far above the median are dropped and the solve is
repeated, and coverage says how much of the image the corners reached (distortion is not
constrained where no corner ever was).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.board import BoardSpec, Detection
from edge_runtime.calibration_artifacts import CAMERA, Device, build_document
from edge_runtime.errors import CalibrationError
from edge_runtime.sensors.base import Intrinsics

MIN_VIEWS = 6
MIN_CORNERS = 8
COVERAGE_GRID = (8, 6)


@dataclass(frozen=True)
class ViewError:
    name: str
    corners: int
    rms_px: float
    used: bool
    reason: str = ""


@dataclass(frozen=True)
class IntrinsicsResult:
    width: int
    height: int
    matrix: np.ndarray
    coeffs: np.ndarray
    rms_px: float
    views: tuple[ViewError, ...]
    coverage: float
    residuals_px: np.ndarray  # (N, 2) of every used corner, for the plot
    factory: dict[str, float] = field(default_factory=dict)

    @property
    def used(self) -> list[ViewError]:
        return [v for v in self.views if v.used]

    @property
    def rejected(self) -> list[ViewError]:
        return [v for v in self.views if not v.used]

    def intrinsics(self) -> Intrinsics:
        k = self.matrix
        return Intrinsics(
            self.width,
            self.height,
            float(k[0, 0]),
            float(k[1, 1]),
            float(k[0, 2]),
            float(k[1, 2]),
            coeffs=tuple(float(c) for c in self.coeffs),
        )

    def compare_factory(self, factory: Intrinsics) -> dict[str, float]:
        """Differences to the camera's factory intrinsics (RealSense), in percent and pixels."""
        mine = self.intrinsics()
        if (factory.width, factory.height) != (mine.width, mine.height):
            return {}
        return {
            "factory_fx_diff_pct": 100 * (mine.fx - factory.fx) / factory.fx,
            "factory_fy_diff_pct": 100 * (mine.fy - factory.fy) / factory.fy,
            "factory_ppx_diff_px": mine.ppx - factory.ppx,
            "factory_ppy_diff_px": mine.ppy - factory.ppy,
        }

    def document(self, spec: BoardSpec, serial: str = "") -> dict[str, Any]:
        intr = self.intrinsics()
        quality: dict[str, Any] = {
            "rms_px": self.rms_px,
            "views_used": len(self.used),
            "views_rejected": len(self.rejected),
            "max_view_rms_px": max(v.rms_px for v in self.used),
            "coverage_pct": 100 * self.coverage,
            "rejected": [f"{v.name}: {v.reason}" for v in self.rejected],
            **self.factory,
        }
        data = {
            "width": intr.width,
            "height": intr.height,
            "fx": intr.fx,
            "fy": intr.fy,
            "ppx": intr.ppx,
            "ppy": intr.ppy,
            "model": "brown_conrady",
            "coeffs": list(intr.coeffs),
            "board": spec.to_json(),
        }
        return build_document(
            CAMERA.name, CAMERA.version, Device(camera_serial=serial), quality, data
        )


def coverage_grid(points: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """Boolean (rows, cols) grid: which image cells hold at least one detected corner."""
    cols, rows = COVERAGE_GRID
    grid = np.zeros((rows, cols), bool)
    for pts in points:
        if len(pts) == 0:
            continue
        c = np.clip((pts[:, 0] / width * cols).astype(int), 0, cols - 1)
        r = np.clip((pts[:, 1] / height * rows).astype(int), 0, rows - 1)
        grid[r, c] = True
    return grid


def calibrate_intrinsics(
    views: list[tuple[str, Detection]],
    image_size: tuple[int, int],
    *,
    min_views: int = MIN_VIEWS,
    outlier_factor: float = 3.0,
    outlier_floor_px: float = 0.5,
) -> IntrinsicsResult:
    """Solve, drop views whose RMS exceeds max(factor x median, floor), solve again."""
    import cv2

    width, height = image_size
    records: dict[str, ViewError] = {}
    usable: list[tuple[str, Detection]] = []
    for name, det in views:
        if det.count < MIN_CORNERS:
            records[name] = ViewError(name, det.count, float("nan"), False, "too few corners")
        else:
            usable.append((name, det))
    for solve in range(4):  # at most three rejection rounds, and always a final solve
        if len(usable) < min_views:
            raise CalibrationError(
                f"only {len(usable)} usable views of the board (need {min_views}); capture more "
                "views, tilted up to 40 degrees and reaching the image corners"
            )
        objects = [d.object_points.reshape(-1, 1, 3) for _, d in usable]
        images = [d.image_points.reshape(-1, 1, 2) for _, d in usable]
        try:
            rms, matrix, coeffs, rvecs, tvecs, _, _, per_view = cv2.calibrateCameraExtended(
                objects, images, (width, height), None, None
            )
        except cv2.error as exc:
            raise CalibrationError(
                f"OpenCV could not calibrate from these {len(usable)} views ({exc.err}); the "
                "poses are degenerate — tilt the board more between views"
            ) from exc
        per_view = per_view.reshape(-1)
        limit = max(outlier_factor * float(np.median(per_view)), outlier_floor_px)
        keep = per_view <= limit
        if solve == 3 or keep.all() or keep.sum() < min_views:
            break  # the solution below belongs to exactly the views in `usable`
        for (name, det), err, ok in zip(usable, per_view, keep):
            if not ok:
                why = f"{err:.2f} px > {limit:.2f} px (outlier)"
                records[name] = ViewError(name, det.count, float(err), False, why)
        usable = [view for view, ok in zip(usable, keep) if ok]
    residuals = []
    for (name, det), rvec, tvec, err in zip(usable, rvecs, tvecs, per_view):
        records[name] = ViewError(name, det.count, float(err), True)
        projected, _ = cv2.projectPoints(det.object_points, rvec, tvec, matrix, coeffs)
        residuals.append(projected.reshape(-1, 2) - det.image_points)
    _check_plausible(matrix, width, height)
    grid = coverage_grid([d.image_points for _, d in usable], width, height)
    order = [name for name, _ in views]
    return IntrinsicsResult(
        width=width,
        height=height,
        matrix=matrix,
        coeffs=coeffs.reshape(-1)[:5],
        rms_px=float(rms),
        views=tuple(records[n] for n in order),
        coverage=float(grid.mean()),
        residuals_px=np.concatenate(residuals),
    )


def _check_plausible(matrix: np.ndarray, width: int, height: int) -> None:
    fx, fy, cx, cy = matrix[0, 0], matrix[1, 1], matrix[0, 2], matrix[1, 2]
    if not (0.1 * width < fx < 20 * width and 0.5 < fx / fy < 2.0):
        raise CalibrationError(
            f"calibration gave implausible focal lengths fx={fx:.0f}, fy={fy:.0f} px; the views "
            "are degenerate or the board definition is wrong — check --board and capture again"
        )
    if not (0 < cx < width and 0 < cy < height):
        raise CalibrationError(
            f"calibration put the principal point at ({cx:.0f}, {cy:.0f}) px, outside the "
            "image; capture more tilted views covering the whole image"
        )
