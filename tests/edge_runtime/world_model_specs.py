"""A valid manifest `world_model` section for tests that need one without exporting a bundle."""

from __future__ import annotations

from edge_runtime.bundle.world_model import (
    MonitorCalibration,
    MonitorSpec,
    PlannerSpec,
    ScoreSpec,
    Thresholds,
    WorldModelSpec,
)


def world_model_spec(
    candidates: int, latent_dims: int, actions_per_step: int, step_s: float = 0.1
) -> WorldModelSpec:
    return WorldModelSpec(
        step_s=step_s,
        actions_per_step=actions_per_step,
        predictor_role="predictor",
        rollout_role="rollout",
        score=ScoreSpec("cost_head", "m", "distance to goal", (0.2, 0.3, 0.5)),
        planner=PlannerSpec(candidates, 4, 2, 0.05, 0.25, 0.005, 0.04),
        monitor=MonitorSpec(
            latent_scale=tuple(0.1 * (i + 1) for i in range(latent_dims)),
            debounce_steps=2,
            warn=Thresholds(2.0, 0.03),
            stop=Thresholds(3.0, 0.05),
            alpha_warn=0.05,
            alpha_stop=0.005,
            calibration=MonitorCalibration(200, 3.0, 7, "split conformal"),
        ),
    )
