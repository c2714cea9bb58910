"""Colour matching for the monitor: light changes cancel, geometry does not."""

from __future__ import annotations

import numpy as np

from edge_runtime.world_model.relight import match_colours


def _scene(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.2, 0.6, (1, 4, 96, 128)).astype(np.float32)


def test_a_global_change_of_light_and_tint_cancels_exactly() -> None:
    scene = _scene()
    lit = scene * np.array([1.3, 1.1, 0.9, 1.0], np.float32)[None, :, None, None]
    assert np.allclose(match_colours(lit, scene), scene, atol=1e-4)


def test_a_lamp_on_one_side_mostly_cancels_and_depth_is_left_alone() -> None:
    scene = _scene()
    lamp = scene.copy()
    lamp[0, :3] *= np.linspace(1.0, 1.6, 128)[None, None, :]  # brighter towards the right
    matched = match_colours(lamp, scene)
    before = np.abs(lamp - scene)[0, :3].mean()
    after = np.abs(matched - scene)[0, :3].mean()
    assert after < 0.1 * before
    assert np.array_equal(matched[0, 3], lamp[0, 3])


def test_a_shifted_scene_stays_shifted() -> None:
    scene = _scene()
    bumped = np.roll(scene, 8, axis=-1)  # the camera moved: content moved, light did not
    matched = match_colours(bumped, scene)
    assert np.abs(matched - scene)[0, :3].mean() > 0.5 * np.abs(bumped - scene)[0, :3].mean()
