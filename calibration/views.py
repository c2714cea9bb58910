"""Where camera-calibration views come from: an image folder, or a live camera.

The live loop keeps a frame only when the board is well detected and the view is new (its
corners moved by a good fraction of the image since every kept view), and saves each kept
frame as a PNG, so a live session is also an image folder that can be re-solved later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from calibration.board import BoardSpec, Detection, detect, make_board
from calibration.intrinsics import MIN_CORNERS
from edge_runtime.calibration_artifacts.artifact import write_atomic
from edge_runtime.errors import CalibrationError
from edge_runtime.sensors.base import Camera, Intrinsics

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def load_image_views(
    folder: Path, spec: BoardSpec
) -> tuple[list[tuple[str, Detection]], tuple[int, int]]:
    import cv2

    if not folder.is_dir():
        raise CalibrationError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise CalibrationError(f"{folder} holds no .png/.jpg images of the board")
    board = make_board(spec)
    views, size = [], None
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise CalibrationError(f"{path} is not a readable image; remove it or re-export it")
        this = (image.shape[1], image.shape[0])
        if size is not None and this != size:
            raise CalibrationError(
                f"{path.name} is {this[0]}x{this[1]} but earlier images are {size[0]}x{size[1]}; "
                "calibrate one resolution at a time"
            )
        size = this
        views.append((path.name, detect(image, spec, board)))
    if not any(d.count >= MIN_CORNERS for _, d in views):
        markers = max(d.markers for _, d in views)
        hint = (
            "markers were seen, so the board definition is wrong — check --squares, --square-mm "
            "and --dictionary against the printout"
            if markers
            else "no markers were seen — check --dictionary, focus and lighting"
        )
        raise CalibrationError(f"the board was not found in any of {len(files)} images; {hint}")
    assert size is not None
    return views, size


def is_new_view(det: Detection, kept: list[Detection], min_shift_px: float) -> bool:
    """The board moved by `min_shift_px` (mean corner shift) since every kept view."""
    for other in kept:
        common, a, b = np.intersect1d(det.ids, other.ids, return_indices=True)
        if len(common) < 4:
            continue
        shift = np.linalg.norm(det.image_points[a] - other.image_points[b], axis=1).mean()
        if shift < min_shift_px:
            return False
    return True


def save_png(path: Path, rgb: np.ndarray) -> None:
    """An RGB frame as a PNG, written atomically (a reader never sees half an image)."""
    import cv2

    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise CalibrationError(f"cannot encode {path.name} as PNG")
    write_atomic(path, encoded.tobytes())


def collect_views(
    camera: Camera,
    spec: BoardSpec,
    count: int,
    save_dir: Path,
    timeout_s: float = 300.0,
    min_shift_fraction: float = 0.06,
    on_view: Callable[[int, Detection, tuple[int, int]], None] | None = None,
) -> tuple[list[tuple[str, Detection]], tuple[int, int], Intrinsics]:
    """Keep `count` distinct, well-detected views; returns them, the size, factory intrinsics."""

    board = make_board(spec)
    save_dir.mkdir(parents=True, exist_ok=True)
    kept: list[tuple[str, Detection]] = []
    version = 0  # the camera's slot starts at version 0, empty
    deadline = time.monotonic() + timeout_s
    size: tuple[int, int] | None = None
    factory: Intrinsics | None = None
    markers_seen = 0
    while len(kept) < count:
        if time.monotonic() > deadline:
            if not kept and markers_seen:
                raise CalibrationError(
                    f"markers were seen but no board corners in {timeout_s:.0f} s: the board "
                    "definition is wrong — check --board/--squares/--square-mm/--dictionary "
                    "against the printout"
                )
            raise CalibrationError(
                f"only {len(kept)} of {count} distinct board views in {timeout_s:.0f} s; move the "
                "board more between views (or lower --views); kept views are in "
                f"{save_dir}, reusable with --images"
            )
        frame, newest = camera.wait_frame(version, timeout_s=1.0)
        if frame is None or newest == version:
            continue
        version = newest
        size = (frame.color.shape[1], frame.color.shape[0])
        factory = frame.intrinsics
        det = detect(frame.color, spec, board)
        markers_seen = max(markers_seen, det.markers)
        if det.count < MIN_CORNERS:
            continue
        if not is_new_view(det, [d for _, d in kept], min_shift_fraction * size[0]):
            continue
        name = f"view_{len(kept):03d}.png"
        save_png(save_dir / name, frame.color)
        kept.append((name, det))
        if on_view is not None:
            on_view(len(kept), det, size)
    assert size is not None
    assert factory is not None
    return kept, size, factory
