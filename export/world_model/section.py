"""The manifest's `world_model` section for an exported bundle.

Everything the runtime's planner and monitor read comes from here, so it is assembled next to
the graphs it describes: the step weights are the ones the rollout graph was built with, the
planner's sample count is the graph's static batch, and the monitor's numbers were calibrated
on the bundle's own models.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.bundle.world_model import MonitorSpec, PlannerSpec, ScoreSpec, WorldModelSpec


@dataclass(frozen=True)
class PlannerDefaults:
    """Starting values the lead's planner reads; tuned with the world-model benchmark."""

    iterations: int = 4
    elites: int = 8
    noise_rad: float = 0.05
    warm_start_fraction: float = 0.25
    # A plan replaces the policy's chunk only if its predicted distance is this much lower:
    # a quarter of the 2 cm success tolerance, above the cost head's held-out error.
    margin_m: float = 0.005
    budget_s: float = 0.04


def world_model_section(
    step_s: float,
    actions_per_step: int,
    samples: int,
    step_weights: tuple[float, ...],
    monitor: MonitorSpec,
    planner: PlannerDefaults | None = None,
    predictor_role: str = "predictor",
    rollout_role: str = "rollout",
) -> WorldModelSpec:
    planner = planner or PlannerDefaults()
    return WorldModelSpec(
        step_s=step_s,
        actions_per_step=actions_per_step,
        predictor_role=predictor_role,
        rollout_role=rollout_role,
        score=ScoreSpec(
            kind="cost_head",
            units="m",
            description=(
                "predicted distance of the tool point to the goal (reach_height_m above the "
                "target), from a head trained with the world model on privileged simulator "
                "distances; the rollout graph sums step_weights[k] * cost after step k + 1"
            ),
            step_weights=tuple(float(w) for w in step_weights),
        ),
        planner=PlannerSpec(
            samples=samples,
            iterations=planner.iterations,
            elites=planner.elites,
            noise_rad=planner.noise_rad,
            warm_start_fraction=planner.warm_start_fraction,
            margin=planner.margin_m,
            budget_s=planner.budget_s,
        ),
        monitor=monitor,
    )
