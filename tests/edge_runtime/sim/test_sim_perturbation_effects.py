"""Each perturbation changes what it should: pixels, depth, a joint, the servo targets."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from edge_runtime.sim.arm_perturbations import (
    ActionDelay,
    BlockedJoint,
    Friction,
    StalledJoint,
    TargetMoved,
)
from edge_runtime.sim.episodes import episode_seed, start_episode
from edge_runtime.sim.perturbation_base import OnsetPerturbation
from edge_runtime.sim.render import RgbdImage, RgbdRenderer
from edge_runtime.sim.view_perturbations import CameraBump, Lighting, Occlusion
from edge_runtime.sim.world import JOINT_NAMES, SimWorld

DT_S = 0.02


@pytest.fixture(scope="module")
def scene() -> Iterator[tuple[SimWorld, RgbdRenderer]]:
    world = SimWorld(seed=0)
    with RgbdRenderer(world, 96, 72) as renderer:
        yield world, renderer


def begin(world: SimWorld, perturbation: OnsetPerturbation, index: int = 0) -> None:
    seed = episode_seed(9, index)
    start_episode(world, seed, 0.15)
    perturbation.begin(world, np.random.default_rng([seed, 2]))


def switch_on(world: SimWorld, perturbation: OnsetPerturbation) -> None:
    assert perturbation.onset_s is not None
    perturbation.before_action(world, perturbation.onset_s, world.joint_positions())
    assert perturbation.active


def before_after(
    scene: tuple[SimWorld, RgbdRenderer], perturbation: OnsetPerturbation, index: int = 0
) -> tuple[RgbdImage, RgbdImage, RgbdImage]:
    """The image just before the change, with it, and after `end` (same physics state)."""
    world, renderer = scene
    begin(world, perturbation, index)
    before = renderer.render()
    switch_on(world, perturbation)
    during = renderer.render()
    perturbation.end(world)
    return before, during, renderer.render()


def same(a: RgbdImage, b: RgbdImage) -> bool:
    return np.array_equal(a.color, b.color) and np.array_equal(a.depth_m, b.depth_m)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_lighting_changes_colour_but_not_depth(scene, index: int) -> None:  # type: ignore[no-untyped-def]
    before, during, after = before_after(scene, Lighting(), index)
    assert np.array_equal(before.depth_m, during.depth_m)
    changed = np.abs(during.color.astype(int) - before.color.astype(int)).max(axis=-1) > 8
    assert changed.mean() > 0.5
    assert same(before, after)


def test_camera_bump_moves_the_camera_and_both_images(scene) -> None:  # type: ignore[no-untyped-def]
    world, _ = scene
    bump = CameraBump()
    begin(world, bump)
    pose_before = world.camera_pose_cv()
    switch_on(world, bump)
    pose_during = world.camera_pose_cv()
    bump.end(world)
    shift_m = np.linalg.norm(pose_during[:3, 3] - pose_before[:3, 3])
    turn = pose_before[:3, :3].T @ pose_during[:3, :3]
    tilt_deg = math.degrees(math.acos(np.clip((np.trace(turn) - 1) / 2, -1, 1)))
    assert 0.005 <= shift_m <= 0.012
    assert 1.5 - 1e-6 <= tilt_deg <= 3.0 + 1e-6
    assert np.array_equal(world.camera_pose_cv(), pose_before)
    before, during, after = before_after(scene, CameraBump())
    assert not np.array_equal(before.depth_m, during.depth_m)
    assert not np.array_equal(before.color, during.color)
    assert same(before, after)


def test_occlusion_puts_something_near_in_front_of_the_target(scene) -> None:  # type: ignore[no-untyped-def]
    before, during, after = before_after(scene, Occlusion())
    covered = np.abs(during.depth_m - before.depth_m) > 1e-4
    assert 0.03 < covered.mean() < 0.5
    assert np.all(during.depth_m[covered] < before.depth_m[covered])
    assert np.all(during.depth_m[covered] < 0.45)  # a hand, not the table
    assert same(before, after)


def test_the_hand_leaves_after_its_duration(scene) -> None:  # type: ignore[no-untyped-def]
    world, renderer = scene
    hand = Occlusion(duration_s=(0.5, 0.5))
    begin(world, hand)
    before = renderer.render()
    switch_on(world, hand)
    assert hand.onset_s is not None
    hand.before_action(world, hand.onset_s + 0.5, world.joint_positions())
    assert not hand.active
    assert same(before, renderer.render())
    hand.end(world)


def test_target_moved_jumps_a_few_cm_within_the_region() -> None:
    world = SimWorld(seed=0)
    for index in range(5):
        moved = TargetMoved()
        begin(world, moved, index)
        start = world.target_position()
        switch_on(world, moved)
        jump_m = np.linalg.norm(world.target_position() - start)
        assert 0.04 - 1e-9 <= jump_m <= 0.08 + 1e-9
        assert world.region.contains(world.target_position())
        moved.end(world)
        assert np.array_equal(world.target_position(), start)


def drive(world: SimWorld, perturbation: OnsetPerturbation, goal: np.ndarray, until_s: float):  # type: ignore[no-untyped-def]
    """Command `goal` every action step (as the runner does) until `until_s`; returns joints."""
    while world.time_s < until_s - 1e-9:
        world.set_joint_targets(perturbation.before_action(world, world.time_s, goal))
        world.step(round(DT_S / world.timestep_s))
    return world.joint_positions()


def test_a_blocked_joint_holds_while_commanded_to_move() -> None:
    world = SimWorld(seed=0)
    blocked = BlockedJoint()
    begin(world, blocked)
    assert blocked.onset_s is not None
    goal = world.joint_positions() + np.array([0.4, 0.4, -0.4, 0.4])
    drive(world, blocked, goal, blocked.onset_s + DT_S / 2)
    held = world.joint_positions()[blocked.joint]
    final = drive(world, blocked, goal, blocked.onset_s + 1.0)
    assert abs(final[blocked.joint] - held) < 2e-3
    others = np.arange(len(JOINT_NAMES)) != blocked.joint
    assert np.all(np.abs(final - goal)[others] < 0.1)
    blocked.end(world)
    released = drive(world, blocked, goal, world.time_s + 1.0)
    assert abs(released[blocked.joint] - goal[blocked.joint]) < 0.1


@pytest.mark.parametrize("perturbation", [StalledJoint, Friction])
def test_weak_or_stiff_joints_lag_behind_the_command(perturbation: type) -> None:
    """The same command sequence ends farther from the goal than in the nominal world."""
    errors = []
    for active in (False, True):
        world = SimWorld(seed=0)
        change: OnsetPerturbation = perturbation(onset_window_s=(0.0, 0.0))
        begin(world, change)
        goal = world.joint_positions() + np.array([0.3, 0.3, -0.3, 0.3])
        if not active:
            change.onset_s = None  # never switches on
        final = drive(world, change, goal, 0.3)
        errors.append(float(np.abs(final - goal).max()))
    assert errors[1] > errors[0] + 0.01


def test_action_delay_releases_each_target_late() -> None:
    world = SimWorld(seed=0)
    delay = ActionDelay(onset_window_s=(0.1, 0.1), delay_range_s=(0.06, 0.06))
    begin(world, delay)
    sent = []
    for step in range(20):
        target = np.full(len(JOINT_NAMES), 0.01 * step)
        sent.append(delay.before_action(world, step * DT_S, target))
        world.set_joint_targets(sent[-1])
    # Before the onset (step 5) targets pass through; afterwards each is 3 steps (60 ms) late
    # and the servos hold the last target they had until the first delayed one arrives.
    assert [s[0] for s in sent[:5]] == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])
    assert [s[0] for s in sent[5:8]] == pytest.approx([0.04] * 3)
    assert [s[0] for s in sent[8:]] == pytest.approx([0.01 * (k - 3) for k in range(8, 20)])
