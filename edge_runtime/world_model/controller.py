"""The runtime's policy + world model as a simulator controller (`sim.episode_runner`).

The benchmark and the exporter's monitor calibration drive episodes through this, so what
they measure is the `BundlePolicy` and `WorldModelAgent` the robot runs, frame for frame;
only the clock (simulated time) and the source of executed commands (the runner) differ.
"""

from __future__ import annotations

from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sim.episode_runner import Decision, Observation
from edge_runtime.world_model.agent import STOP_REASON, WorldModelAgent


class WorldModelController:
    def __init__(self, policy: BundlePolicy, agent: WorldModelAgent | None) -> None:
        self.policy = policy
        self.agent = agent

    def reset(self, episode_seed: int) -> None:
        if self.agent is not None:
            self.agent.reset(episode_seed)

    def step(self, observation: Observation) -> Decision:
        joints = observation.joint_positions_rad
        actions, values = self.policy.act_with_values(observation.frame, joints)
        if self.agent is None:
            return Decision(actions)
        turn = self.agent.turn(
            round(observation.time_s * 1e9),
            values,
            actions,
            joints,
            observation.executed_rad,
            joints_at_step=observation.joints_at_step_rad,
        )
        if turn.stop:
            return Decision(actions, stop=True, events=((STOP_REASON, turn.stop),))
        return Decision(turn.actions, events=turn.events)

    def close(self) -> None:
        self.policy.close()
