"""Episodes with the robot's control loop emulated: commands on the tick grid, rate-limited,
and the executed actions and joints the runtime's monitor would be given."""

from __future__ import annotations

import numpy as np

from edge_runtime.sim.episode_runner import Decision, EpisodeSettings, Observation, run_episodes

SETTINGS = EpisodeSettings(episode_s=0.4, width=64, height=48, control_period_s=0.01)


class Reach:
    """Asks every joint to go 0.3 rad up at once (the velocity limit must spread it out)."""

    def __init__(self) -> None:
        self.seen: list[Observation] = []

    def reset(self, episode_seed: int) -> None:
        self.seen.clear()

    def step(self, observation: Observation) -> Decision:
        self.seen.append(observation)
        goal = (self.seen[0].joint_positions_rad + 0.3)[None]
        return Decision(np.repeat(goal, 16, axis=0))


def test_emulated_loop_rate_limits_and_reports_what_was_executed() -> None:
    controller = Reach()
    run_episodes(controller, 1, seed=2, settings=SETTINGS)
    first, second = controller.seen[0], controller.seen[1]
    assert first.executed_rad is None
    executed = second.executed_rad
    assert executed.shape == (5, 4)
    # 1.5 rad/s for 0.1 s is at most 0.15 rad of travel, never the 0.3 asked for at once.
    travel = executed - first.joint_positions_rad
    assert np.all(travel[-1] > 0.05)
    assert np.all(travel[-1] < 0.16)
    assert np.all(np.diff(travel, axis=0) >= -1e-9)  # moving steadily toward the goal
    assert second.joints_at_step_rad is not None
