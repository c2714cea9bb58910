"""Surprise scores, debouncing and split-conformal thresholds: pure numpy.

The exporter calibrates the monitor's thresholds with exactly these functions and the
runtime's monitor scores frames with them, so a threshold means the same number in both.
"""

from __future__ import annotations

import math

import numpy as np


def latent_score(z_pred: np.ndarray, z_obs: np.ndarray, latent_scale: np.ndarray | float) -> float:
    """RMS of the latent residual in units of its nominal spread (unitless)."""
    residual = (np.asarray(z_obs, float) - np.asarray(z_pred, float)).reshape(-1)
    scale = np.broadcast_to(np.asarray(latent_scale, float).reshape(-1), residual.shape)
    return float(np.sqrt(np.mean((residual / scale) ** 2)))


def joint_score(q_pred: np.ndarray, q_obs: np.ndarray) -> float:
    """Largest joint residual in radians."""
    return float(np.max(np.abs(np.asarray(q_obs, float) - np.asarray(q_pred, float))))


def debounce(scores: np.ndarray, steps: int) -> np.ndarray:
    """Running minimum over the last `steps` scores: a level counts once held that long.

    The first `steps - 1` entries are -inf: no alarm before `steps` scores exist.
    """
    values = np.asarray(scores, float)
    if steps < 1:
        raise ValueError(f"debounce steps must be >= 1, got {steps}")
    out = np.full(values.shape, -np.inf)
    for i in range(steps - 1, len(values)):
        out[i] = values[i - steps + 1 : i + 1].min()
    return out


def conformal_threshold(values: np.ndarray, alpha: float) -> float:
    """Split-conformal quantile: the ceil((n+1)(1-alpha))-th smallest of n calibration values.

    A new exchangeable value then exceeds it with probability <= alpha.
    """
    data = np.sort(np.asarray(values, float).reshape(-1))
    n = len(data)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    needed = math.ceil(1.0 / alpha - 1.0)
    if n < needed:
        raise ValueError(
            f"{n} calibration values cannot bound a {alpha:.3%} rate; split-conformal needs "
            f"at least {needed} — run more calibration episodes"
        )
    rank = math.ceil((n + 1) * (1.0 - alpha))
    return float(data[min(rank, n) - 1])
