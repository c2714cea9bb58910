"""The closed-loop episode runner: paired episodes, perturbation hooks, controller stops."""

from __future__ import annotations

import numpy as np

from edge_runtime.sim.episode_runner import (
    Decision,
    EpisodeSettings,
    Observation,
    Perturbation,
    run_episodes,
)

SETTINGS = EpisodeSettings(episode_s=0.5, width=64, height=48)


class HoldStill:
    """Commands the measured position; records what it was told."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after
        self.seen: list[Observation] = []

    def reset(self, episode_seed: int) -> None:
        self.seen.clear()

    def step(self, observation: Observation) -> Decision:
        self.seen.append(observation)
        chunk = np.repeat(observation.joint_positions_rad[None], 16, axis=0)
        stop = self.stop_after is not None and len(self.seen) > self.stop_after
        return Decision(chunk, stop=stop, events=(("seen", str(len(self.seen))),))


class Recorder(Perturbation):
    name = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.actions = 0
        self.frames = 0

    def begin(self, world, rng) -> None:  # type: ignore[no-untyped-def]
        self.onset_s = float(rng.uniform(0.1, 0.3))

    def before_action(self, world, time_s, target_rad):  # type: ignore[no-untyped-def]
        self.actions += 1
        return target_rad

    def after_render(self, frame, time_s):  # type: ignore[no-untyped-def]
        self.frames += 1
        return frame


def test_runner_is_paired_and_reports_executed_actions() -> None:
    made: list[Recorder] = []

    def perturbation() -> Recorder:
        made.append(Recorder())
        return made[-1]

    controller = HoldStill()
    first = run_episodes(controller, 2, seed=5, settings=SETTINGS, perturbation=perturbation)
    assert controller.seen[0].executed_rad is None
    assert controller.seen[1].executed_rad.shape == (5, 4)
    again = run_episodes(HoldStill(), 2, seed=5, settings=SETTINGS, perturbation=perturbation)
    assert [o.seed for o in first] == [o.seed for o in again]
    assert [o.onset_s for o in first] == [o.onset_s for o in again]
    assert first[0].final_distance_m == again[0].final_distance_m
    assert made[0].frames == 5
    assert made[0].actions == 25


def test_runner_stops_when_the_controller_asks() -> None:
    outcome = run_episodes(HoldStill(stop_after=2), 1, seed=1, settings=SETTINGS)[0]
    assert outcome.stopped_at_s is not None
    assert not outcome.success
    assert [kind for _, kind, _ in outcome.events] == ["seen"] * 3
