"""What every named perturbation shares: a seeded onset, one-shot application, exact undo.

The runner reuses one `SimWorld` for all episodes, so a perturbation that edits the MuJoCo
model (a camera pose, a light, a gain) must put back the exact bytes it changed: `ModelEdits`
remembers each original value as it writes the new one and restores them in reverse order.
`OnsetPerturbation` draws its onset and parameters in `begin` from the episode's RNG only
(never from the controller's behaviour), so two controllers on the same episode meet the same
perturbation at the same moment; it applies the change at the first action step at or after
the onset (at most one `dt_s`, 20 ms, late) and undoes it in `end`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from edge_runtime.sim.episode_runner import Perturbation
from edge_runtime.sim.expert import IkSolver
from edge_runtime.sim.world import SimWorld

# Motion faults (a blocked or weak joint, friction, delay) exist only while the arm moves.
# Over 300 episodes of seed 0 the expert needs 0.38-1.44 s (p5 0.48 s, median 0.79 s) to reach
# the goal at 1 rad/s and the reference policy arrives a little later, so an onset in
# 0.2-0.5 s meets a moving arm in nearly every episode.
MOTION_ONSET_S = (0.2, 0.5)
# Changes of the scene (target, camera, view, light) matter whether or not the arm moves.
SCENE_ONSET_S = (0.3, 1.2)


class ModelEdits:
    """Writes into MuJoCo model/data arrays that remember the original values for `restore`."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any, np.ndarray]] = []

    def set(self, owner: Any, path: str, index: Any, value: Any) -> None:
        """`owner.<path>[index] = value` (path may be dotted, e.g. "vis.headlight.ambient")."""
        array = functools.reduce(getattr, path.split("."), owner)
        self._saved.append((owner, path, index, np.array(array[index], copy=True)))
        array[index] = value

    def restore(self) -> None:
        while self._saved:
            owner, path, index, original = self._saved.pop()
            functools.reduce(getattr, path.split("."), owner)[index] = original

    def __bool__(self) -> bool:
        return bool(self._saved)


class OnsetPerturbation(Perturbation):
    """A change applied once at a seeded onset; subclasses implement `choose` and `apply`.

    `choose` draws the parameters (called in `begin`, before the controller acts); `apply`
    changes the world through `self.edits`, undone in `end` or, when `choose` set
    `duration_s`, that long after the onset (a hand passes, a block clears); `filter_target`
    may change the servo targets while the change is active. `onset_window_s` is relative to
    the episode start.
    """

    onset_window_s: tuple[float, float] = SCENE_ONSET_S

    def __init__(self, onset_window_s: tuple[float, float] | None = None) -> None:
        super().__init__()
        if onset_window_s is not None:
            self.onset_window_s = onset_window_s
        self.active = False  # applied and not yet undone
        self.applied = False  # applied at some point this episode
        self.duration_s: float | None = None
        self.edits = ModelEdits()

    def begin(self, world: SimWorld, rng: np.random.Generator) -> None:
        self.active = self.applied = False
        self.onset_s = world.time_s + float(rng.uniform(*self.onset_window_s))
        self.choose(world, rng)

    def before_action(self, world: SimWorld, time_s: float, target_rad: np.ndarray) -> np.ndarray:
        onset = self.onset_s
        if onset is not None and not self.applied and time_s >= onset - 1e-9:
            self.active = self.applied = True
            self._change(world, self.apply)
        ends_s = None if onset is None or self.duration_s is None else onset + self.duration_s
        if self.active and ends_s is not None and time_s >= ends_s - 1e-9:
            self.active = False
            self._change(world, lambda _: self.edits.restore())
        return self.filter_target(world, time_s, target_rad) if self.active else target_rad

    def end(self, world: SimWorld) -> None:
        self._change(world, lambda _: self.edits.restore())
        self.active = False

    @staticmethod
    def _change(world: SimWorld, change: Callable[[SimWorld], None]) -> None:
        with world.lock:
            change(world)
            world._mj.mj_forward(world.model, world.data)

    # -- for subclasses -------------------------------------------------------------------
    def choose(self, world: SimWorld, rng: np.random.Generator) -> None:
        """Draw this episode's parameters (only from `rng` and the episode's initial state)."""

    def apply(self, world: SimWorld) -> None:
        """The change at the onset (the world lock is held)."""

    def filter_target(self, world: SimWorld, time_s: float, target_rad: np.ndarray) -> np.ndarray:
        """While active: the target the servos receive instead of `target_rad`."""
        return target_rad


def travel_rad(world: SimWorld) -> np.ndarray:
    """(J,) how far each joint must turn from the episode's start to the expert's goal pose.

    Privileged (the true target): perturbations are the world, not the robot, and use it to
    disturb a joint that still has work to do rather than one that is already where it goes.
    """
    goal = IkSolver(world).solve(world.goal_position())
    return np.abs(goal - world.joint_positions())


def choose_moving_joint(world: SimWorld, rng: np.random.Generator) -> int:
    """A joint, uniformly among those with at least half the largest travel of this episode."""
    travel = travel_rad(world)
    candidates = np.flatnonzero(travel >= 0.5 * travel.max())
    return int(candidates[rng.integers(len(candidates))])
