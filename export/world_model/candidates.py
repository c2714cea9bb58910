"""Candidate chunks like the planner's, for INT8 calibration, the gate and golden data.

The planner samples absolute joint-target chunks around a mean chunk (the policy's, or its
warm start): some with independent noise per action, some shifted as a whole. Calibrating
and gating the rollout graph on the same kind of spread it will score on the robot keeps the
INT8 ranges and the ranking check honest.
"""

from __future__ import annotations

import numpy as np

from export.reference.models import ROLLOUT_SAMPLES

NOISE_RAD = 0.05  # the planner's default sampling noise (manifest planner.noise_rad)


def planner_candidates(
    mean_chunk: np.ndarray,
    rng: np.random.Generator,
    samples: int = ROLLOUT_SAMPLES,
    noise_rad: float = NOISE_RAD,
) -> np.ndarray:
    """(samples, H, J) chunks: the mean itself, then half i.i.d. and half offset candidates,
    each with its own noise level in (0, 2 * noise_rad]."""
    mean = np.asarray(mean_chunk, np.float64)
    scale = rng.uniform(0.0, 2.0 * noise_rad, (samples, 1, 1))
    per_action = rng.normal(0.0, 1.0, (samples, *mean.shape))
    offset = np.broadcast_to(rng.normal(0.0, 1.0, (samples, 1, mean.shape[1])), per_action.shape)
    shaped = np.where(np.arange(samples)[:, None, None] % 2 == 0, per_action, offset)
    out = mean[None] + scale * shaped
    out[0] = mean
    return out.astype(np.float32)
