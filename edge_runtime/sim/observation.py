"""How a camera image becomes the `observation.rgbd` tensor a bundle's encoder reads.

`(1, 4, H, W)` float32: channels 0-2 are RGB as `(value / 255 - rgb_mean) / rgb_std`,
channel 3 is depth in metres divided by `depth_max_m`, clipped to [0, 1] (0 also means "no
depth", as on a RealSense). Training data, the analytic bundle and the runtime must all use
this one function so a model sees the same numbers in training and on the robot.
"""

from __future__ import annotations

import numpy as np


def rgbd_tensor(
    color_u8: np.ndarray,
    depth_m: np.ndarray,
    rgb_mean: tuple[float, float, float] = (0.0, 0.0, 0.0),
    rgb_std: tuple[float, float, float] = (1.0, 1.0, 1.0),
    depth_max_m: float = 2.0,
) -> np.ndarray:
    """(H, W, 3) uint8 + (H, W) metres -> (1, 4, H, W) float32 (no resizing here)."""
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
