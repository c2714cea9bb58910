"""Camera frame → model observation tensors, in numpy only (no OpenCV on the device).

`rgbd_tensor` is the one image → `observation.rgbd` conversion: training data, the analytic
bundle, simulator evaluation and the runtime all use it, so a model sees the same numbers in
training and on the robot.

Resizing uses precomputed index maps (nearest neighbour), built once per input size: a
640×480 frame becomes a 96×96 tensor in well under a millisecond without allocating maps
every frame.
"""

from __future__ import annotations

import numpy as np

from edge_runtime.bundle.manifest import Preprocessing
from edge_runtime.sensors.base import Frame
from edge_runtime.sensors.frame_set import FrameSet


def rgbd_tensor(
    color_u8: np.ndarray,
    depth_m: np.ndarray,
    rgb_mean: tuple[float, float, float] = (0.0, 0.0, 0.0),
    rgb_std: tuple[float, float, float] = (1.0, 1.0, 1.0),
    depth_max_m: float = 2.0,
) -> np.ndarray:
    """(H, W, 3) uint8 + (H, W) metres → (1, 4, H, W) float32 (no resizing here).

    Channels 0-2 are RGB as ``(value / 255 - rgb_mean) / rgb_std``; channel 3 is depth in
    metres divided by `depth_max_m`, clipped to [0, 1] (0 also means "no depth", as on a
    RealSense).
    """
    if color_u8.shape[:2] != depth_m.shape:
        raise ValueError(
            f"colour {color_u8.shape[:2]} and depth {depth_m.shape} must have the same size; "
            "align depth to colour first"
        )
    mean = np.asarray(rgb_mean, np.float32)
    std = np.asarray(rgb_std, np.float32)
    rgb = (color_u8.astype(np.float32) / np.float32(255.0) - mean) / std
    depth = np.clip(depth_m.astype(np.float32) / np.float32(depth_max_m), 0.0, 1.0)
    out = np.concatenate([rgb.transpose(2, 0, 1), depth[None]], axis=0)
    return np.ascontiguousarray(out[None], dtype=np.float32)


class FramePreprocessor:
    def __init__(self, spec: Preprocessing) -> None:
        self.spec = spec
        self.height, self.width = spec.image_size
        self._maps: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _index_maps(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        key = (height, width)
        if key not in self._maps:
            rows = ((np.arange(self.height) + 0.5) * height / self.height).astype(np.intp)
            cols = ((np.arange(self.width) + 0.5) * width / self.width).astype(np.intp)
            self._maps[key] = (rows[:, None], cols[None, :])
        return self._maps[key]

    def _resized(self, image: np.ndarray) -> np.ndarray:
        if image.shape[:2] == (self.height, self.width):
            return image
        rows, cols = self._index_maps(*image.shape[:2])
        return image[rows, cols]

    def observations(self, frame: Frame, joint_positions: np.ndarray) -> dict[str, np.ndarray]:
        """Every `observation.*` source a manifest can name, as batch-1 float32 tensors.

        A frame set adds `observation.<camera>.rgbd|rgb|depth` per camera; the unnamed
        sources are the primary camera's (the set's own frame), as single-camera bundles read.
        """
        out = {
            **self._image_sources("observation", frame),
            "observation.joint_positions": np.asarray(joint_positions, np.float32)[None],
        }
        if isinstance(frame, FrameSet):
            for name, member in frame.cameras.items():
                out.update(self._image_sources(f"observation.{name}", member))
        return out

    def _image_sources(self, prefix: str, frame: Frame) -> dict[str, np.ndarray]:
        depth_m = self._resized(frame.depth).astype(np.float32) * np.float32(frame.depth_scale_m)
        spec = self.spec
        rgbd = rgbd_tensor(
            self._resized(frame.color), depth_m, spec.rgb_mean, spec.rgb_std, spec.depth_max_m
        )
        return {
            f"{prefix}.rgbd": rgbd,
            f"{prefix}.rgb": rgbd[:, :3],
            f"{prefix}.depth": rgbd[:, 3:],
        }
