"""`edgerun bench world-model`: does the world model pay on the robot's task, and what it costs.

Three controllers on the same seeded episodes of the perturbation suite
(`edge_runtime.sim.world_model_suite`): the bundle's policy alone, the policy + planner, and
the policy + surprise monitor, each built from the runtime's own classes (`BundlePolicy`,
`WorldModelAgent`) through picklable factories, so a process pool can run them.

Two kinds of time. For success rates the planner runs its configured iterations on a clock
that does not move (every episode plans the same way whatever the machine's load, so paired
comparisons are exact and repeatable); a separate timing pass then runs the same planner on
the real clock, in this process, on nominal episodes, and reports plan time p50/p99 against
the budget and how many iterations fit. Reported together, they say what the robot gets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.config import WorldModelConfig
from edge_runtime.errors import ConfigError
from edge_runtime.loop.clock import Clock, MonotonicClock, SimClock
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sim.episode_runner import EpisodeSettings, run_episodes
from edge_runtime.sim.evaluate import PolicyFactory, bundle_episode_settings, open_sim_bundle
from edge_runtime.sim.perturbations import CONDITION_NAMES, PERTURBED_NAMES
from edge_runtime.sim.world_model_suite import SUITE_SEED, run_world_model_suite
from edge_runtime.world_model.controller import WorldModelController
from edge_runtime.world_model.setup import agent_builder

TIMING_EPISODES = 20


@dataclass(frozen=True)
class WorldModelFactory:
    """Builds the policy + world model controller in whichever process runs the episodes."""

    bundle_dir: str
    planner: bool
    monitor: bool
    development_mode: bool = True
    trusted_keys: tuple[str, ...] = ()
    real_clock: bool = False  # True: the plan budget binds (timing); False: all iterations

    def __call__(self) -> WorldModelController:
        from edge_runtime.drive import demo_config

        bundle = open_sim_bundle(self.bundle_dir, self.development_mode, self.trusted_keys)
        velocities = np.array([j.max_velocity_rad_s for j in demo_config().joints])
        clock: Clock = MonotonicClock() if self.real_clock else SimClock()
        config = WorldModelConfig(monitor=self.monitor, planner=self.planner)
        plan = agent_builder(bundle, config, velocities, clock)
        if plan is None:
            raise ValueError(f"{self.bundle_dir} has no world model to benchmark")
        policy = BundlePolicy(bundle, backend="onnxruntime", extra_roles=plan.extra_roles)
        return WorldModelController(policy, plan.setup.build(policy))


def run_bench(
    bundle_dir: str,
    episodes: int = 100,
    nominal_monitor_episodes: int = 200,
    conditions: Sequence[str] | None = None,
    workers: int = 2,
    trusted_keys: tuple[str, ...] = (),
    development_mode: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The benchmark's JSON (see the module docstring and docs/world-model.md)."""
    chosen = tuple(conditions or CONDITION_NAMES)
    unknown = sorted(set(chosen) - set(CONDITION_NAMES))
    if unknown:
        raise ConfigError(
            f"unknown condition {unknown[0]!r}; choose from {', '.join(CONDITION_NAMES)}"
        )
    bundle = open_sim_bundle(bundle_dir, development_mode, trusted_keys)
    settings = bundle_episode_settings(bundle)

    def world_model(planner: bool, real_clock: bool = False) -> WorldModelFactory:
        return WorldModelFactory(
            bundle_dir, planner, not planner, development_mode, trusted_keys, real_clock
        )

    result = run_world_model_suite(
        PolicyFactory(bundle_dir, development_mode, trusted_keys),
        world_model(planner=True),
        world_model(planner=False),
        conditions=chosen,
        faults=[c for c in chosen if c in PERTURBED_NAMES],
        episodes=episodes,
        nominal_monitor_episodes=nominal_monitor_episodes,
        settings=settings,
        workers=workers,
        progress=progress,
    )
    result["planner"].update(plan_timing(world_model(planner=True, real_clock=True), settings))
    return result


def plan_timing(factory: WorldModelFactory, settings: EpisodeSettings) -> dict[str, Any]:
    """Plan time on the real clock, one core (this process), nominal unseen episodes."""
    controller = factory()
    try:
        run_episodes(controller, TIMING_EPISODES, SUITE_SEED + 1, settings)
        agent = controller.agent
        assert agent is not None
        assert agent.planner is not None
        summary = agent.summary()["planner"]
        budget_ms = agent.planner.settings.budget_s * 1e3
        iterations = agent.planner.settings.iterations
    finally:
        controller.close()
    return {
        "plan_ms": {k: summary["plan_ms"][k] for k in ("p50", "p99")},
        "budget_ms": budget_ms,
        "iterations_configured": iterations,
        "iterations_mean": summary["iterations_mean"],
        "override_rate": summary["override_rate"],
        "timing_episodes": TIMING_EPISODES,
    }


def report_tables(result: dict[str, Any]) -> list[tuple[str, list, list, str]]:
    """(title, rows, columns, caption) of each table `edgerun bench world-model` prints."""
    planner, monitor = result["planner"], result["monitor"]
    ms = planner["plan_ms"]
    return [
        (
            "planner vs policy (task success, paired episodes)",
            planner["conditions"],
            PLANNER_COLUMNS,
            f"plan p50/p99 {ms['p50']}/{ms['p99']} ms (budget {planner['budget_ms']:g} ms), "
            f"{planner['iterations_mean']} iterations, override rate {planner['override_rate']}",
        ),
        (
            "surprise monitor",
            monitor["faults"],
            MONITOR_COLUMNS,
            f"nominal: false stops {monitor['false_stop_rate_nominal']}, false warnings "
            f"{monitor['false_warn_rate_nominal']} over {monitor['episodes_nominal']} episodes",
        ),
    ]


# How the CLI shows the results: (key in a row, column title).
PLANNER_COLUMNS = [
    ("name", "condition"),
    ("episodes", "episodes"),
    ("success_policy", "policy"),
    ("success_planner", "planner"),
    ("difference", "difference"),
    ("mcnemar_p", "McNemar p"),
]
MONITOR_COLUMNS = [
    ("name", "condition"),
    ("expects_stop", "fault"),
    ("episodes", "episodes"),
    ("detection_rate", "detected <= 0.5 s"),
    ("delay_s_p50", "delay p50 s"),
    ("false_stop_rate", "stops before onset"),
    ("warn_rate", "warned"),
]
