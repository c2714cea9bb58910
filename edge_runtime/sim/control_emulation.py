"""The robot's control loop, emulated in simulated time, for episodes that must match `run`.

By default the episode runner executes a chunk the way the reference models were trained:
each action held for dt, switching exactly on the step. The runtime does it differently, and
on a moving arm the differences are many milliradians: a control tick every period on its own
grid (commands switch up to a period late), the chunk queue's handling of overlapping chunks
(a new chunk cross-fades with the rest of the old one), the safety filter's step limit, a few
milliseconds between a command's tick and the servo acting on it, and servo positions read
in encoder ticks. The surprise monitor's thresholds and the world-model benchmark must see
what the robot will see, so this class runs the runtime's own `ChunkQueue` and
`SafetyFilter` at the control period on manual time, records the stamped history the control
process publishes, and derives the executed actions with the runtime's `executed_actions`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edge_runtime.ipc.channels import TickHistory
from edge_runtime.loop.chunks import ChunkQueue
from edge_runtime.loop.safety import SafetyFilter, SafetyLimits
from edge_runtime.pipeline.observer import ActionChunk
from edge_runtime.sim.world import SimWorld
from edge_runtime.world_model.executed import executed_actions

TICKS_PER_TURN = 4096  # X-series servo encoder: positions are read in these steps


class EmulatedControlLoop:
    def __init__(
        self,
        world: SimWorld,
        dt_s: float,
        period_s: float,
        latency_s: float,
        max_velocity_rad_s: float,
        hold_s: float = 1.0,
    ) -> None:
        self.world = world
        self.dt_ns = round(dt_s * 1e9)
        self.period_ns = round(period_s * 1e9)
        self.latency_steps = round(latency_s / world.timestep_s)
        limits = world.joint_limits()
        joints = len(limits)
        self.safety = SafetyFilter(SafetyLimits.from_joints(
            list(limits[:, 0]), list(limits[:, 1]), [max_velocity_rad_s] * joints, period_s,
            hold_s,
        ))  # fmt: skip
        self.queue = ChunkQueue(joints, hold=True)
        self.stamps: list[int] = []
        self.reads: list[int] = []
        self.commands: list[np.ndarray] = []
        self.positions: list[np.ndarray] = []
        self._next_tick_ns: int | None = None

    def start(self, phase_s: float) -> None:
        """The first tick `phase_s` into the episode (the tick grid is not the frame grid).

        As on the robot, the loop is already holding the arm where it is when the first frame
        is taken: that hold is the first entry of the history.
        """
        here = self.world.joint_positions()
        self.safety.start(here)
        self.safety.arm()
        now = self._now_ns()
        self.stamps.append(now)
        self.reads.append(now)
        self.positions.append(_quantized(here))
        self.commands.append(np.array(here, float))
        self._next_tick_ns = now + round(phase_s * 1e9)

    def run_until(
        self,
        t_end_s: float,
        chunk: np.ndarray,
        t_obs_s: float,
        before_action: Callable[[SimWorld, float, np.ndarray], np.ndarray],
    ) -> None:
        """Hand the control loop `chunk` (observed at `t_obs_s`) and run ticks until `t_end_s`."""
        t_obs_ns = round(t_obs_s * 1e9)
        self.queue.push(ActionChunk(t_obs_ns, self.dt_ns, np.asarray(chunk, float)), t_obs_ns)
        assert self._next_tick_ns is not None, "start() first"
        end_ns = round(t_end_s * 1e9)
        while self._next_tick_ns < end_ns:
            self._advance_to(self._next_tick_ns)
            self._tick(before_action)
            self._next_tick_ns += self.period_ns
        self._advance_to(end_ns)

    def history(self) -> TickHistory:
        joints = len(self.safety.limits.lower_rad)
        return TickHistory(
            np.array(self.stamps, np.int64), np.array(self.reads, np.int64),
            np.array(self.commands, float).reshape(-1, joints),
            np.array(self.positions, float).reshape(-1, joints),
        )  # fmt: skip

    def executed_since(self, t0_s: float, count: int) -> np.ndarray | None:
        """What the runtime's monitor would be told was executed after the frame at `t0_s`."""
        h = self.history()
        return executed_actions(h.stamps_ns, h.commands_rad, round(t0_s * 1e9), count, self.dt_ns)

    def joints_at(self, t_s: float) -> np.ndarray | None:
        return self.history().positions_at(round(t_s * 1e9))

    def _tick(self, before_action: Callable[[SimWorld, float, np.ndarray], np.ndarray]) -> None:
        now_ns = self._now_ns()
        measured = _quantized(self.world.joint_positions())
        command = self.safety.filter(self.queue.action_at(now_ns), None, now_ns).target_rad
        self.stamps.append(now_ns)
        self.reads.append(now_ns)
        self.positions.append(measured)
        self.commands.append(command)
        self.world.step(self.latency_steps)  # the write reaches the servo a little later
        self.world.set_joint_targets(before_action(self.world, self.world.time_s, command))

    def _advance_to(self, t_ns: int) -> None:
        steps = round((t_ns - self._now_ns()) / (self.world.timestep_s * 1e9))
        if steps > 0:
            self.world.step(steps)

    def _now_ns(self) -> int:
        return round(self.world.time_s * 1e9)


def _quantized(positions_rad: np.ndarray) -> np.ndarray:
    step = 2 * np.pi / TICKS_PER_TURN
    return np.round(np.asarray(positions_rad, float) / step) * step
