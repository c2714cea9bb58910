"""Surprise scores: the numbers the exporter calibrates on and the runtime monitor computes."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.world_model.surprise import (
    conformal_threshold,
    debounce,
    joint_score,
    latent_score,
    minimum_calibration_count,
)


def test_latent_score_is_the_scaled_rms_error() -> None:
    observed = np.array([[1.0, 2.0, 3.0, 4.0]])
    predicted = np.array([[1.0, 2.0, 3.0, 0.0]])
    assert latent_score(observed, predicted, [1.0]) == pytest.approx(2.0)
    assert latent_score(observed, predicted, [1.0, 1.0, 1.0, 4.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="one value or one per dimension"):
        latent_score(observed, predicted, [1.0, 2.0])


def test_joint_score_is_the_largest_residual() -> None:
    assert joint_score(np.array([0.1, -0.3, 0.0]), np.array([0.0, 0.0, 0.05])) == (
        pytest.approx(0.3)
    )


def test_debounce_needs_consecutive_frames() -> None:
    scores = [0.0, 5.0, 0.0, 5.0, 6.0, 7.0, 0.0]
    np.testing.assert_array_equal(debounce(scores, 1), scores)
    np.testing.assert_array_equal(debounce(scores, 2), [0, 0, 0, 0, 5, 6, 0])
    np.testing.assert_array_equal(debounce(scores, 3), [0, 0, 0, 0, 0, 5, 0])
    # One lone spike never passes a threshold of 4 once debounced over 2 frames.
    assert debounce([0.0, 9.0, 0.0], 2).max() == 0.0
    with pytest.raises(ValueError, match="steps >= 1"):
        debounce(scores, 0)


def test_conformal_threshold_is_the_right_order_statistic() -> None:
    values = np.arange(1.0, 20.0)[::-1]  # 19 values, 1 .. 19
    assert conformal_threshold(values, 0.05) == 19.0  # ceil(20 * 0.95) = 19th smallest
    assert conformal_threshold(values, 0.5) == 10.0  # ceil(20 * 0.5) = 10th smallest
    assert minimum_calibration_count(0.005) == 199
    assert minimum_calibration_count(0.05) == 19
    with pytest.raises(ValueError, match="at least 199 calibration episodes"):
        conformal_threshold(np.ones(198), 0.005)
    with pytest.raises(ValueError, match="between 0 and 1"):
        conformal_threshold(values, 0.0)


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_conformal_threshold_bounds_the_exceedance_rate(alpha: float) -> None:
    """Finite-sample property, exactly: for n calibration values and one new value, all
    exchangeable and distinct, P(new > threshold) = 1 - ceil((n + 1)(1 - alpha)) / (n + 1),
    which lies in (alpha - 1/(n + 1), alpha]. Checked by counting over every position the new
    value can take among the n + 1 (the rank of the new value is uniform), so no randomness."""
    n = 39
    values = np.arange(n + 1, dtype=float)
    exceed = 0
    for new_index in range(n + 1):
        calibration = np.delete(values, new_index)
        exceed += values[new_index] > conformal_threshold(calibration, alpha)
    rate = exceed / (n + 1)
    assert alpha - 1.0 / (n + 1) < rate <= alpha


def test_conformal_threshold_holds_on_random_episodes() -> None:
    rng = np.random.default_rng(0)
    trials, n, alpha = 4000, 19, 0.05
    data = rng.gamma(2.0, 1.0, (trials, n + 1))
    exceed = [row[-1] > conformal_threshold(row[:-1], alpha) for row in data]
    # Expected exactly 1/20 = 0.05; four standard errors of slack keeps it deterministic-safe.
    assert np.mean(exceed) <= alpha + 4 * np.sqrt(alpha * (1 - alpha) / trials)
