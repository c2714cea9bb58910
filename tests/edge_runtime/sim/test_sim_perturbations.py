"""The perturbation suite as a whole: names, seeded draws, no effect before onset, exact undo."""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pytest

from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.sim.episode_runner import (
    Decision,
    EpisodeSettings,
    Observation,
    Perturbation,
    run_episodes,
)
from edge_runtime.sim.perturbations import (
    CONDITION_NAMES,
    PERTURBATIONS,
    PERTURBED_NAMES,
    is_fault,
    perturbation_factory,
)
from edge_runtime.sim.world import SimWorld

SETTINGS = EpisodeSettings(episode_s=0.5, width=64, height=48)
EARLY_ONSET_S = (0.15, 0.25)  # inside the short test episodes
SCENE_ONLY = {"target_moved", "camera_bump", "occlusion", "lighting"}  # never touch the arm


class Sweep:
    """Moves every joint steadily (so any mechanical change shows) and logs what it sees."""

    def __init__(self) -> None:
        self.log: list[tuple[float, str, bytes]] = []

    def reset(self, episode_seed: int) -> None:
        self.log = []

    def step(self, observation: Observation) -> Decision:
        frame = observation.frame
        digest = hashlib.sha256(frame.color.tobytes() + frame.depth.tobytes()).hexdigest()
        self.log.append((observation.time_s, digest, observation.joint_positions_rad.tobytes()))
        velocity = np.array([0.5, 0.5, -0.5, 0.5])
        steps = np.arange(1, 17)[:, None] * 0.02
        return Decision(observation.joint_positions_rad[None, :] + steps * velocity)


def early(name: str) -> functools.partial[Perturbation]:
    return functools.partial(perturbation_factory(name), onset_window_s=EARLY_ONSET_S)


def test_the_suite_names_the_issue_conditions() -> None:
    expected = {"nominal", "target_moved", "blocked_joint", "stalled_joint", "friction"}
    expected |= {"action_delay", "camera_bump", "occlusion", "lighting"}
    assert set(CONDITION_NAMES) == expected
    assert "nominal" not in PERTURBED_NAMES
    assert is_fault("blocked_joint")
    assert is_fault("camera_bump")
    assert not is_fault("lighting")
    assert not is_fault("nominal")
    assert all(PERTURBATIONS[n]().name == n for n in CONDITION_NAMES)


def test_an_unknown_condition_is_one_sentence() -> None:
    with pytest.raises(EdgeRuntimeError, match=r"unknown perturbation condition 'gremlins'"):
        perturbation_factory("gremlins")


@pytest.mark.parametrize("name", PERTURBED_NAMES)
def test_draws_come_from_the_episode_seed_alone(name: str) -> None:
    world = SimWorld(seed=3)
    first, second = PERTURBATIONS[name](), PERTURBATIONS[name]()
    first.begin(world, np.random.default_rng([11, 2]))
    second.begin(world, np.random.default_rng([11, 2]))
    assert first.onset_s == second.onset_s
    assert first.describe() == second.describe()
    assert first.onset_window_s[0] <= first.onset_s <= first.onset_window_s[1]


@pytest.mark.parametrize("name", PERTURBED_NAMES)
def test_nothing_changes_before_onset_and_something_after(name: str) -> None:
    nominal, perturbed = Sweep(), Sweep()
    run_episodes(nominal, 1, seed=4, settings=SETTINGS)
    outcome = run_episodes(perturbed, 1, seed=4, settings=SETTINGS, perturbation=early(name))[0]
    assert outcome.perturbation == name
    assert outcome.onset_s is not None
    before = [i for i, (t, _, _) in enumerate(nominal.log) if t < outcome.onset_s]
    assert before
    assert [nominal.log[i] for i in before] == [perturbed.log[i] for i in before]
    assert nominal.log != perturbed.log
    if name in SCENE_ONLY:  # the arm, blind to the scene, moves exactly as in nominal
        assert [q for _, _, q in nominal.log] == [q for _, _, q in perturbed.log]


class FirstOnly:
    """Episode 0 perturbed, every later episode nominal (a picklable-free test factory)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.made = 0

    def __call__(self) -> Perturbation:
        self.made += 1
        return early(self.name)() if self.made == 1 else Perturbation()


def _model_digest(world: SimWorld) -> str:
    digest = hashlib.sha256()
    for attr in sorted(dir(world.model)):
        value = getattr(world.model, attr, None)
        if isinstance(value, np.ndarray):
            digest.update(attr.encode() + value.tobytes())
    for part in ("ambient", "diffuse", "specular"):
        digest.update(getattr(world.model.vis.headlight, part).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", PERTURBED_NAMES)
def test_end_restores_the_world_exactly(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A nominal episode after a perturbed one in the same world equals one in a fresh world."""
    import edge_runtime.sim.episode_runner as runner

    worlds: list[SimWorld] = []

    def tracked_world(seed: int) -> SimWorld:
        worlds.append(SimWorld(seed=seed))
        return worlds[-1]

    monkeypatch.setattr(runner, "SimWorld", tracked_world)
    after, fresh = Sweep(), Sweep()
    shared = run_episodes(after, 2, seed=6, settings=SETTINGS, perturbation=FirstOnly(name))
    alone = run_episodes(fresh, 2, seed=6, settings=SETTINGS, indices=range(1, 2))
    assert shared[0].perturbation == name
    assert shared[1].perturbation == "nominal"
    assert shared[1] == alone[0]
    assert after.log == fresh.log
    assert _model_digest(worlds[0]) == _model_digest(worlds[1])
