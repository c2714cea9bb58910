"""The world model's turn on each frame: watch first, then plan.

The same object runs in the robot's inference worker and in the simulator's benchmark
controller, so the benchmark measures the code that drives the arm. Order per frame: the
monitor scores what happened since the last frames (a stop wins over everything: no chunk is
planned for a world the model no longer understands); then the planner may replace the
policy's chunk; while a warning holds, the chunk is slowed down (its action spacing stretched
by `slow_down_on_warn`), so the arm moves more gently while the world looks odd.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_runtime.pipeline.stats import SampleBuffer
from edge_runtime.world_model.monitor import SurpriseMonitor, Verdict
from edge_runtime.world_model.planner import Planner, PlanResult

if TYPE_CHECKING:
    from edge_runtime.pipeline.policy import BundlePolicy

WARN_EVENT = "world_model_warn"
STOP_REASON = "world_model_surprise"


@dataclass(frozen=True)
class WorldModelSetup:
    """What the runtime needs to run a world model: how to build it, and its step."""

    build: Callable[[BundlePolicy], WorldModelAgent]  # called on the inference thread
    step_s: float  # frames are taken this far apart


@dataclass(frozen=True)
class WorldModelTurn:
    actions: np.ndarray  # (H, J) the chunk to send
    dt_scale: float  # >= 1: stretch the chunk's action spacing by this much
    verdict: Verdict
    plan: PlanResult | None
    stop: str  # "" or the reason to stop the arm now
    events: tuple[tuple[str, str], ...]  # (kind, detail) for the observers


class WorldModelAgent:
    def __init__(
        self,
        monitor: SurpriseMonitor | None,
        planner: Planner | None,
        slow_down_on_warn: float = 1.0,
    ) -> None:
        if slow_down_on_warn < 1.0:
            raise ValueError(f"slow_down_on_warn must be >= 1, got {slow_down_on_warn}")
        self.monitor = monitor
        self.planner = planner
        self.slow_down_on_warn = slow_down_on_warn
        self.plan_ns = SampleBuffer(100_000)
        self.frames = self.overrides = self.warnings = self.iterations = 0
        self.max_latent = self.max_joints_rad = 0.0
        self._warned = False

    def reset(self, seed: int | None = None) -> None:
        if self.monitor is not None:
            self.monitor.reset()
        if self.planner is not None:
            self.planner.reset(seed)
        self._warned = False

    def turn(
        self,
        t_obs_ns: int,
        values: Mapping[str, np.ndarray],
        policy_chunk: np.ndarray,
        joints_rad: np.ndarray,
        executed: np.ndarray | None,
        committed: int = 0,
        joints_at_step: np.ndarray | None = None,
    ) -> WorldModelTurn:
        self.frames += 1
        verdict = Verdict("none")
        events: list[tuple[str, str]] = []
        if self.monitor is not None:
            verdict = self.monitor.observe(t_obs_ns, values, executed, joints_at_step)
            if verdict.level in ("ok", "warn", "stop"):
                self.max_latent = max(self.max_latent, verdict.latent)
                self.max_joints_rad = max(self.max_joints_rad, verdict.joints_rad)
            if verdict.level == "stop":
                return WorldModelTurn(policy_chunk, 1.0, verdict, None, verdict.detail, ())
            warned = verdict.level == "warn"
            if warned and not self._warned:
                self.warnings += 1
                events.append((WARN_EVENT, verdict.detail))
            self._warned = warned if verdict.level != "none" else self._warned
        plan = None
        actions = policy_chunk
        if self.planner is not None:
            plan = self.planner.plan(values, policy_chunk, joints_rad, t_obs_ns, committed)
            self.plan_ns.add(plan.elapsed_ns)
            self.overrides += plan.overridden
            self.iterations += plan.iterations
            actions = plan.actions
        scale = self.slow_down_on_warn if self._warned else 1.0
        return WorldModelTurn(actions, scale, verdict, plan, "", tuple(events))

    def summary(self) -> dict[str, Any]:
        """For the run report: how often the world model acted, and what it cost."""
        out: dict[str, Any] = {"frames": self.frames}
        if self.monitor is not None:
            out["monitor"] = {
                "compared": self.monitor.compared,
                "skipped": self.monitor.skipped,
                "warnings": self.warnings,
                "max_latent_score": round(self.max_latent, 3),
                "max_joint_residual_rad": round(self.max_joints_rad, 4),
            }
        if self.planner is not None and len(self.plan_ns):
            plan_ms = self.plan_ns.percentiles_us(50, 99)
            out["planner"] = {
                "plans": len(self.plan_ns),
                "override_rate": round(self.overrides / len(self.plan_ns), 3),
                "iterations_mean": round(self.iterations / len(self.plan_ns), 2),
                "plan_ms": {k: round(v / 1e3, 2) for k, v in plan_ms.items()},
            }
        return out
