"""A camera the console holds while an engineer collects intrinsics views by hand.

`calibrate camera` in a terminal keeps views on its own; in the console a person looks at the
live view (detected corners drawn) and the coverage map, and presses "keep this view". The
session opens the robot's camera exactly as `calibrate camera` does (`open_robot`, the sim
camera under `[sim]`), only while the robot is idle, and lets it go as soon as nobody looks
(`IDLE_CLOSE_S`) or a run starts, so it never keeps a run from its camera. Detection, the
"is this view new" rule, the PNG writer and the coverage grid are `calibrate camera`'s own
(`calibration.board`, `calibration.views`, `calibration.intrinsics`); the kept images form a
recorded set that the Calibrate pages solve like any other.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from calibration.board import BoardSpec, Detection, detect, make_board
from calibration.intrinsics import MIN_CORNERS, MIN_VIEWS, coverage_grid
from calibration.views import IMAGE_SUFFIXES, is_new_view, load_image_views, save_png
from edge_runtime.errors import CalibrationError, EdgeRuntimeError
from edge_runtime.sensors.base import Camera

log = logging.getLogger(__name__)
IDLE_CLOSE_S = 15.0  # no browser asked this long: the camera is released
DETECT_HZ = 5.0  # detection costs ~10-30 ms a frame; the live view needs no more
MIN_SHIFT_FRACTION = 0.06  # as `calibrate camera`: a kept view moved 6% of the width
BOARD_FILE = "board.json"


def board_of(folder: Path) -> BoardSpec:
    """The set's own `board.json` when it has one, the default board otherwise."""
    path = folder / BOARD_FILE
    return BoardSpec.load(path) if path.exists() else BoardSpec()


@contextlib.contextmanager
def robot_camera(config_path: str | None) -> Iterator[Camera]:
    """The robot's camera, opened as `calibrate camera` opens it (the sim camera under [sim])."""
    from calibration.session import open_robot

    if not config_path:
        raise CalibrationError(
            "the console was started without --config, so it does not know the robot's camera; "
            "restart it with `edgerun console --config ROBOT.toml`"
        )
    with open_robot(config_path, motors=False) as robot:
        assert robot.camera is not None
        yield robot.camera


def draw_corners(bgr: np.ndarray, detection: Detection | None) -> bytes:
    """`bgr` with the detected corners drawn (green), as JPEG."""
    import cv2

    pixels = np.ascontiguousarray(bgr)
    if detection is not None:
        for u, v in np.rint(detection.image_points.reshape(-1, 2)).astype(int):
            cv2.circle(pixels, (int(u), int(v)), 4, (60, 200, 60), 2)
    ok, encoded = cv2.imencode(".jpg", pixels)
    return encoded.tobytes() if ok else b""


class LiveViews:
    """One camera session collecting views into `folder` (a recorded image set)."""

    def __init__(
        self,
        folder: Path,
        opener: Callable[[], AbstractContextManager[Camera]],
        keep_open: Callable[[], bool] = lambda: True,
    ) -> None:
        self.folder = folder
        self.spec = board_of(folder)
        self._opener, self._keep_open = opener, keep_open
        self._lock = threading.Lock()
        self._newest: tuple[np.ndarray, Detection, int] | None = None
        self._kept: list[Detection] = []
        self._size: tuple[int, int] | None = None
        self._error = ""
        self._asked = time.monotonic()
        self._stop = threading.Event()
        if any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.glob("*")):
            views, self._size = load_image_views(folder, self.spec)  # continue a set
            self._kept = [d for _, d in views if d.count >= MIN_CORNERS]
        self._thread = threading.Thread(target=self._watch, name="live-views", daemon=True)
        self._thread.start()

    @property
    def is_open(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def status(self) -> dict[str, Any]:
        """What the page shows; asking counts as someone looking (keeps the camera open)."""
        self._asked = time.monotonic()
        with self._lock:
            newest, kept, size = self._newest, list(self._kept), self._size
        detection = newest[1] if newest else None
        coverage = coverage_grid([d.image_points for d in kept], *size) if size else None
        return {
            "set": self.folder.name,
            "open": self.is_open,
            "error": self._error,
            "frame": newest[2] if newest else 0,
            "corners": detection.count if detection else 0,
            "markers": detection.markers if detection else 0,
            "min_corners": MIN_CORNERS,
            "kept": len(kept),
            "min_views": MIN_VIEWS,
            "coverage": coverage.tolist() if coverage is not None else [],
            "board": self.spec.describe(),
        }

    def frame_jpeg(self) -> bytes | None:
        """The newest frame with its detected corners; None before the first frame."""
        newest = self._newest
        if newest is None:
            return None
        color, detection, _ = newest
        return draw_corners(np.ascontiguousarray(color[:, :, ::-1]), detection)

    def keep(self) -> str:
        """Save the newest frame as the set's next view, under `calibrate camera`'s rules."""
        with self._lock:
            newest, kept = self._newest, list(self._kept)
        if newest is None:
            raise CalibrationError("no frame from the camera yet; wait for the live view")
        color, detection, _ = newest
        if detection.count < MIN_CORNERS:
            raise CalibrationError(
                f"only {detection.count} board corners in this view (need {MIN_CORNERS}); bring "
                "the whole board into view, in focus"
            )
        size = (color.shape[1], color.shape[0])
        if not is_new_view(detection, kept, MIN_SHIFT_FRACTION * size[0]):
            raise CalibrationError(
                "this view is too close to one already kept; move or tilt the board, then keep"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        name = _next_name(self.folder)
        save_png(self.folder / name, color)
        if not (self.folder / BOARD_FILE).exists():
            self.spec.save(self.folder / BOARD_FILE)
        with self._lock:
            self._kept.append(detection)
            self._size = size
        return f"kept {name} ({detection.count} corners), {len(kept) + 1} views in {self.folder}"

    def _watch(self) -> None:
        try:
            with self._opener() as camera:
                self._collect(camera)
        except EdgeRuntimeError as exc:
            self._error = str(exc)
        except Exception as exc:  # a camera that fails must not take the console down
            log.warning("live calibration camera stopped: %s", exc)
            self._error = f"the camera stopped ({exc}); check it and start again"

    def _collect(self, camera: Camera) -> None:
        board = make_board(self.spec)
        version = 0
        while not self._stop.is_set():
            if time.monotonic() - self._asked > IDLE_CLOSE_S or not self._keep_open():
                return
            frame, newest = camera.wait_frame(version, timeout_s=1.0)
            if frame is None or newest == version:
                continue
            version = newest
            detection = detect(frame.color, self.spec, board)
            with self._lock:
                self._newest = (frame.color, detection, frame.frame_number)
            self._stop.wait(1.0 / DETECT_HZ)


def _next_name(folder: Path) -> str:
    index = len(list(folder.glob("view_*.png")))
    while (folder / f"view_{index:03d}.png").exists():
        index += 1
    return f"view_{index:03d}.png"
