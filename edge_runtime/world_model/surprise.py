"""Surprise scores: how far a new frame is from what the world model expected, in numpy only.

The exporter calibrates the monitor's thresholds with these functions and the runtime's
monitor scores every frame with them; one implementation keeps the two from drifting apart
(a threshold is only meaningful for the exact score it was calibrated on).

* `latent_score`: RMS over latent dimensions of the prediction error, each dimension divided
  by its typical size (`latent_scale` from the bundle), so the score is unitless and no single
  noisy dimension dominates.
* `joint_score`: the largest joint tracking residual in radians.
* `debounce`: a score counts only once it has lasted `steps` frames (the running minimum), so
  one odd frame never stops the arm.
* `conformal_threshold`: the split-conformal quantile of calibration values: a new value from
  the same distribution exceeds it with probability <= alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def latent_score(
    observed: np.ndarray, predicted: np.ndarray, latent_scale: Sequence[float] | np.ndarray
) -> float:
    """sqrt(mean(((observed - predicted) / latent_scale) ** 2)); scale is one or D values."""
    scale = np.asarray(latent_scale, np.float64).reshape(-1)
    error = (np.asarray(observed, np.float64) - np.asarray(predicted, np.float64)).reshape(-1)
    if scale.size not in (1, error.size):
        raise ValueError(
            f"latent_scale has {scale.size} values for a {error.size}-dimensional latent; "
            "give one value or one per dimension"
        )
    return float(np.sqrt(np.mean((error / scale) ** 2)))


def joint_score(observed_rad: np.ndarray, predicted_rad: np.ndarray) -> float:
    """max over joints of |observed - predicted|, radians."""
    diff = np.asarray(observed_rad, np.float64) - np.asarray(predicted_rad, np.float64)
    return float(np.max(np.abs(diff)))


def debounce(scores: Sequence[float] | np.ndarray, steps: int) -> np.ndarray:
    """Running minimum over the last `steps` scores: value i exceeds a threshold only when
    scores i - steps + 1 .. i all do. The first steps - 1 values look at fewer scores (a
    monitor that has just started has no history yet, so its first frames debounce less)."""
    if steps < 1:
        raise ValueError(f"debounce needs steps >= 1, got {steps}")
    values = np.asarray(scores, np.float64).reshape(-1)
    out = np.empty_like(values)
    for i in range(len(values)):
        out[i] = values[max(0, i - steps + 1) : i + 1].min()
    return out


def minimum_calibration_count(alpha: float) -> int:
    """The fewest calibration values for which `conformal_threshold` at `alpha` exists."""
    return math.ceil(1.0 / alpha - 1.0 - 1e-9)


def conformal_threshold(values: Sequence[float] | np.ndarray, alpha: float) -> float:
    """The ceil((n + 1)(1 - alpha))-th smallest of the n calibration values.

    If the values and a new one are exchangeable (e.g. nominal episodes of one kind), the new
    one exceeds the result with probability at most alpha.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    data = np.sort(np.asarray(values, np.float64).reshape(-1))
    n = data.size
    needed = minimum_calibration_count(alpha)
    if n < needed:
        raise ValueError(
            f"{n} calibration values cannot give a threshold at alpha = {alpha}; run at least "
            f"{needed} calibration episodes"
        )
    rank = math.ceil((n + 1) * (1.0 - alpha) - 1e-9)
    return float(data[min(rank, n) - 1])
