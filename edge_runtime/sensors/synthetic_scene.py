"""A procedural RGB-D scene: what tests, benchmarks and synthetic recordings feed the camera path.

Uniform noise is the worst case for every codec and a flat image the best; neither says how a
real recording compresses. This scene has what a tabletop camera sees: a smooth background,
a few objects that move between frames, sensor noise on both streams and small depth holes.
Pure numpy, deterministic per (seed, index).
"""

from __future__ import annotations

import numpy as np


def scene_frame(
    index: int, width: int = 640, height: int = 480, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(color HxWx3 uint8 RGB, depth HxW uint16 millimetres) for frame `index`."""
    rng = np.random.default_rng((seed, index))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    color = np.empty((height, width, 3), np.float32)
    color[..., 0] = 90 + 60 * yy / height
    color[..., 1] = 110 + 40 * xx / width
    color[..., 2] = 140 - 50 * yy / height
    depth = 900.0 + 1100.0 * yy / height  # a table seen at an angle

    for k, (rgb, size) in enumerate(
        (((220, 40, 40), 0.18), ((40, 200, 60), 0.12), ((30, 60, 220), 0.1))
    ):
        cx = width * (0.25 + 0.25 * k) + 0.02 * width * np.sin(0.2 * index + k)
        cy = height * (0.5 + 0.1 * np.cos(0.15 * index + 2 * k))
        r = size * min(width, height)
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        shade = 0.75 + 0.25 * (1 - (yy - cy + r) / (2 * r))
        for c in range(3):
            color[..., c] = np.where(inside, rgb[c] * shade, color[..., c])
        depth = np.where(inside, depth - 150.0 - 40.0 * k, depth)

    color += rng.normal(0.0, 2.0, color.shape).astype(np.float32)
    depth += rng.normal(0.0, 2.0, depth.shape).astype(np.float32) * (depth / 1000.0) ** 2
    holes = rng.random((height // 8, width // 8)) < 0.02
    depth[np.kron(holes, np.ones((8, 8), bool))[:height, :width]] = 0
    return (
        np.clip(color, 0, 255).astype(np.uint8),
        np.clip(depth, 0, 65535).astype(np.uint16),
    )
