"""`BoardCamera`: a `Camera` twin that films the synthetic board moving through known poses.

The live capture loops (camera views, depth check, INT8 capture) run against it exactly as
against a RealSense: frames arrive from its own thread at a fixed rate, with color, aligned
depth, intrinsics, timestamps and frame numbers. Ground truth (the camera model, each pose)
is known, so a test can check what the loop made of it.
"""

from __future__ import annotations

import time

import numpy as np

from calibration.board import BoardSpec
from calibration.synthetic import SyntheticCamera, depth_view, render_view
from edge_runtime.sensors.base import Camera, Frame, Intrinsics


class BoardCamera(Camera):
    def __init__(
        self,
        spec: BoardSpec,
        camera: SyntheticCamera,
        poses: list[np.ndarray],
        fps: float = 30.0,
        depth_bias_m: float = 0.0,
        depth_noise_m: float = 0.001,
        seed: int = 0,
        factory: Intrinsics | None = None,
        supersample: int = 2,
        reuse_renders: bool = False,
    ) -> None:
        super().__init__(name="board-camera")
        self.spec = spec
        self.model = camera
        self.poses = poses
        self.period_s = 1.0 / fps
        self.depth_bias_m = depth_bias_m
        self.depth_noise_m = depth_noise_m
        self.rng = np.random.default_rng(seed)
        self.intrinsics = factory or Intrinsics(
            camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy
        )
        self.supersample = supersample
        # Rendering costs ~0.3-1 s a frame on a busy CI core: a pose that comes round again
        # may show the very same image (as a still board does), for a quick live test.
        self.reuse_renders = reuse_renders
        self._renders: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._index = 0

    def _open(self) -> None:
        self._index = 0

    def _capture(self) -> Frame | None:
        if self._stop.wait(self.period_s):
            return None
        which = self._index % len(self.poses)
        color, depth = self._renders.get(which) or self._render(self.poses[which])
        if self.reuse_renders:
            self._renders[which] = (color, depth)
        self._index += 1
        return Frame(
            color=color,
            depth=depth,
            depth_scale_m=0.001,
            intrinsics=self.intrinsics,
            device_time_ms=self._index * self.period_s * 1000,
            host_time_ns=time.monotonic_ns(),
            frame_number=self._index,
        )

    def _render(self, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        color = render_view(self.spec, self.model, pose, self.rng, supersample=self.supersample)
        depth = depth_view(
            self.spec, self.model, pose, self.rng, self.depth_bias_m, self.depth_noise_m
        )
        return color, depth

    def _close(self) -> None:
        pass
