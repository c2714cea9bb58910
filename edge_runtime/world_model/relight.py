"""Colour constancy for the surprise monitor: a change of light is not a change of the world.

A lamp switched on or a cloud passing changes every pixel's colour but no object's place;
the bundle's encoder, trained on a few lighting levels, still moves its latent a lot (measured
on the reference encoder: x1.5 brightness moves the latent ~20x more than a 2.8 cm camera
bump). Before the monitor compares a frame with its prediction, the frame is encoded again
with each colour channel's gain and offset matched, tile by tile, to the frame the prediction
started from: a global change of light and tint cancels, a lamp on one side mostly does, while
geometry (where things are, and the depth channel, left untouched) does not. In `bench
world-model` (100 lighting episodes: room light 60-135%, tint +-15%, a desk lamp half the
time) the arm stopped in 12% of them with one gain per channel, 2% per tile, while camera bumps
were still caught in 95%. One extra encoder call per compared frame.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from edge_runtime.bundle.manifest import RoleSpec
from edge_runtime.engines import Engine
from edge_runtime.errors import BundleError

RGBD_SOURCE = "observation.rgbd"
COLOUR_CHANNELS = 3  # channels 0-2 of observation.rgbd; channel 3 (depth) is left as it is
TILE_PX = 32  # colour is matched per ~32 px tile: a desk lamp lights one side of the table
GAIN_RANGE = (0.4, 2.5)  # what a change of light does to a tile's contrast, at most


def match_colours(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`frame` (1, 4, H, W) in `reference`'s light: per colour channel, a gain and an offset
    that vary smoothly over the image (per tile, bilinearly interpolated between tile
    centres) match each tile's mean and spread to the reference's. A global change of light
    is the special case of equal tiles; a lamp on one side changes the tiles near it. Smooth,
    so the correction draws no tile seams that the encoder would read as edges."""
    out = np.array(frame, dtype=np.float32, copy=True)
    height, width = frame.shape[2:]
    rows, cols = max(1, round(height / TILE_PX)), max(1, round(width / TILE_PX))
    for c in range(COLOUR_CHANNELS):
        mean, std = _tile_stats(frame[0, c], rows, cols)
        ref_mean, ref_std = _tile_stats(reference[0, c], rows, cols)
        # A flat tile (bare table) has almost no spread: its gain would amplify noise, so the
        # spread is floored at a tenth of the image's and the gain kept within a light's range.
        floor, ref_floor = (0.1 * float(x[0, c].std()) + 1e-6 for x in (frame, reference))
        gain = np.clip(np.maximum(ref_std, ref_floor) / np.maximum(std, floor), *GAIN_RANGE)
        offset = ref_mean - gain * mean
        out[0, c] = frame[0, c] * _smooth(gain, height, width) + _smooth(offset, height, width)
    return out


def _tile_stats(channel: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Each tile's mean and standard deviation, (rows, cols) each."""
    tiles = [np.array_split(band, cols, axis=1) for band in np.array_split(channel, rows, axis=0)]
    mean = np.array([[t.mean() for t in band] for band in tiles], np.float64)
    std = np.array([[t.std() for t in band] for band in tiles], np.float64)
    return mean, std


def _smooth(per_tile: np.ndarray, height: int, width: int) -> np.ndarray:
    """(rows, cols) values at the tile centres, bilinearly interpolated to (height, width)."""
    rows, cols = per_tile.shape
    return _weights(height, rows) @ per_tile @ _weights(width, cols).T


@functools.lru_cache(maxsize=8)
def _weights(pixels: int, tiles: int) -> np.ndarray:
    """(pixels, tiles) linear-interpolation weights from tile centres to pixel centres."""
    at = np.clip((np.arange(pixels) + 0.5) / pixels * tiles - 0.5, 0, tiles - 1)
    low = np.floor(at).astype(int)
    high = np.minimum(low + 1, tiles - 1)
    weights = np.zeros((pixels, tiles))
    weights[np.arange(pixels), low] += 1.0 - (at - low)
    weights[np.arange(pixels), high] += at - low
    return weights


class Relighter:
    """Re-encodes a frame in another frame's light (the monitor passes the frame its
    prediction started from), for the encoder role `role`."""

    def __init__(self, role: str, encoder: Engine, spec: RoleSpec) -> None:
        inputs = {t.source: t.name for t in spec.inputs}
        if set(inputs) != {RGBD_SOURCE}:
            raise BundleError(
                f"world_model.monitor.relight needs roles.{role} to read only {RGBD_SOURCE}; it "
                f"reads {sorted(inputs)} — export the bundle with relight = false"
            )
        self.engine = encoder
        self._input = inputs[RGBD_SOURCE]
        self._outputs = {t.name: f"{role}.{t.name}" for t in spec.outputs}

    def relit(self, values: Mapping[str, np.ndarray], reference: np.ndarray) -> dict:
        """The encoder's outputs (by source name) for this frame in the reference's light."""
        frame = match_colours(np.asarray(values[RGBD_SOURCE]), reference)
        out = self.engine.infer({self._input: frame})
        return {source: out[name] for name, source in self._outputs.items()}
