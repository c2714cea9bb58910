"""The manifest's optional `world_model` section: how the bundle's world model is used.

A bundle with a world model says here, signed with the rest of the manifest, everything the
runtime must not hard-code: how long one predictor step is, which roles predict and roll out,
how a predicted state is scored (a cost head trained with the models), the planner's defaults
and the surprise monitor's calibrated thresholds. Bundles without the section (policy only)
load as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edge_runtime.errors import BundleError
from edge_runtime.fields import Section

SCORE_KINDS = ("cost_head",)


@dataclass(frozen=True)
class ScoreSpec:
    """How the rollout graph turns predicted states into one cost per candidate."""

    kind: str  # "cost_head": a head trained to predict the task cost from (latent, joints)
    units: str  # of the cost, e.g. "m" for the tool point's distance to the goal
    description: str
    step_weights: tuple[float, ...]  # one per rollout step; the graph sums weight * cost


@dataclass(frozen=True)
class PlannerSpec:
    samples: int  # N candidates per rollout call (the rollout graph's static batch)
    iterations: int
    elites: int
    noise_rad: float
    warm_start_fraction: float
    margin: float  # in score units: how much better a plan must be than the policy's chunk
    budget_s: float


@dataclass(frozen=True)
class Thresholds:
    latent: float  # unitless latent score
    joints_rad: float


@dataclass(frozen=True)
class MonitorCalibration:
    episodes: int
    episode_s: float
    seed: int
    method: str


@dataclass(frozen=True)
class MonitorSpec:
    latent_scale: tuple[float, ...]  # one value, or one per latent dimension
    debounce_steps: int
    warn: Thresholds
    stop: Thresholds
    alpha_warn: float
    alpha_stop: float
    calibration: MonitorCalibration
    # Predictor steps chained from that many frames back before comparing (1: one step).
    horizon_steps: int = 1
    # Match each new frame's colours to the previous frame's before comparing (relight.py).
    relight: bool = False


@dataclass(frozen=True)
class WorldModelSpec:
    step_s: float  # time one predictor step covers
    actions_per_step: int  # K executed actions per step (step_s / action dt_s)
    predictor_role: str
    rollout_role: str
    score: ScoreSpec
    planner: PlannerSpec
    monitor: MonitorSpec


def parse_world_model(data: dict[str, Any], where: str) -> WorldModelSpec:
    """The `world_model` table of a manifest (checked against the roles by the manifest)."""
    top = Section(data, "world_model", where, required=True, error=BundleError)
    spec = WorldModelSpec(
        step_s=top.number("step_s", positive=True),
        actions_per_step=top.integer("actions_per_step", minimum=1),
        predictor_role=top.string("predictor_role"),
        rollout_role=top.string("rollout_role"),
        score=_score(top, where),
        planner=_planner(top, where),
        monitor=_monitor(top, where),
    )
    top.done()
    return spec


def parse_monitor(data: dict[str, Any], where: str) -> MonitorSpec:
    """A `monitor` table on its own (the exporter's calibration cache stores one)."""
    top = Section(
        {"world_model": {"monitor": data}}, "world_model", where, required=True, error=BundleError
    )
    return _monitor(top, where)


def _sub(parent: Section, key: str, where: str) -> Section:
    parent._get(key, None)
    return Section(
        parent.data, key, where, required=True, label=f"world_model.{key}", error=BundleError
    )


def _score(top: Section, where: str) -> ScoreSpec:
    sec = _sub(top, "score", where)
    weights = tuple(sec.numbers("step_weights"))
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise BundleError(
            f"{where}: world_model.score.step_weights = {list(weights)} is invalid: give one "
            "non-negative weight per rollout step, at least one of them positive"
        )
    score = ScoreSpec(
        kind=sec.choice("kind", SCORE_KINDS),
        units=sec.string("units"),
        description=sec.string("description", default=""),
        step_weights=weights,
    )
    sec.done()
    return score


def _planner(top: Section, where: str) -> PlannerSpec:
    sec = _sub(top, "planner", where)
    planner = PlannerSpec(
        samples=sec.integer("samples", minimum=2),
        iterations=sec.integer("iterations", minimum=1),
        elites=sec.integer("elites", minimum=1),
        noise_rad=sec.number("noise_rad", positive=True),
        warm_start_fraction=sec.number("warm_start_fraction", minimum=0.0, maximum=1.0),
        margin=sec.number("margin", minimum=0.0),
        budget_s=sec.number("budget_s", positive=True),
    )
    sec.done()
    if planner.elites > planner.samples:
        raise BundleError(
            f"{where}: world_model.planner.elites = {planner.elites} exceeds samples = "
            f"{planner.samples}; keep elites <= samples"
        )
    return planner


def _thresholds(parent: Section, key: str, where: str) -> Thresholds:
    sec = Section(
        parent.data,
        key,
        where,
        required=True,
        label=f"world_model.monitor.{key}",
        error=BundleError,
    )
    parent._get(key, None)
    pair = Thresholds(
        latent=sec.number("latent", positive=True),
        joints_rad=sec.number("joints_rad", positive=True),
    )
    sec.done()
    return pair


def _monitor(top: Section, where: str) -> MonitorSpec:
    sec = _sub(top, "monitor", where)
    scale = _latent_scale(sec._get("latent_scale", None), where)
    cal = Section(
        sec.data,
        "calibration",
        where,
        required=True,
        label="world_model.monitor.calibration",
        error=BundleError,
    )
    sec._get("calibration", None)
    calibration = MonitorCalibration(
        episodes=cal.integer("episodes", minimum=1),
        episode_s=cal.number("episode_s", positive=True),
        seed=cal.integer("seed"),
        method=cal.string("method"),
    )
    cal.done()
    monitor = MonitorSpec(
        latent_scale=scale,
        debounce_steps=sec.integer("debounce_steps", minimum=1),
        warn=_thresholds(sec, "warn", where),
        stop=_thresholds(sec, "stop", where),
        alpha_warn=sec.number("alpha_warn", positive=True, maximum=0.5),
        alpha_stop=sec.number("alpha_stop", positive=True, maximum=0.5),
        calibration=calibration,
        horizon_steps=sec.integer("horizon_steps", default=1, minimum=1, maximum=10),
        relight=sec.boolean("relight", default=False),
    )
    sec.done()
    if monitor.alpha_stop > monitor.alpha_warn:
        raise BundleError(
            f"{where}: world_model.monitor.alpha_stop = {monitor.alpha_stop} is above "
            f"alpha_warn = {monitor.alpha_warn}; a stop must be rarer than a warning"
        )
    for field in ("latent", "joints_rad"):
        if getattr(monitor.stop, field) < getattr(monitor.warn, field):
            raise BundleError(
                f"{where}: world_model.monitor.stop.{field} is below warn.{field}; the stop "
                "threshold must not be lower than the warning threshold (re-calibrate)"
            )
    return monitor


def _latent_scale(raw: Any, where: str) -> tuple[float, ...]:
    values = [raw] if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        or not all(math.isfinite(v) and v > 0 for v in values)
    ):
        raise BundleError(
            f"{where}: world_model.monitor.latent_scale = {raw!r} is invalid: give one positive "
            "number or one per latent dimension (re-export the bundle)"
        )
    return tuple(float(v) for v in values)


def check_world_model(
    spec: WorldModelSpec,
    inputs: dict[str, dict[str, tuple[int, ...]]],
    outputs: dict[str, dict[str, tuple[int, ...]]],
    chunk_length: int,
    joints: int,
    dt_s: float,
    where: str,
) -> None:
    """The section against the roles' tensors (by role, name -> shape) and the action spec."""
    for key in ("predictor_role", "rollout_role"):
        role = getattr(spec, key)
        if role not in inputs:
            raise BundleError(
                f"{where}: world_model.{key} '{role}' is not a role of this bundle; name one of "
                f"{', '.join(sorted(inputs))}"
            )
    if abs(spec.actions_per_step * dt_s - spec.step_s) > 1e-6:
        raise BundleError(
            f"{where}: world_model.step_s = {spec.step_s} is not actions_per_step "
            f"({spec.actions_per_step}) x action.dt_s ({dt_s}); make them agree"
        )
    steps = len(spec.score.step_weights)
    if steps * spec.actions_per_step > chunk_length:
        raise BundleError(
            f"{where}: world_model.score.step_weights has {steps} steps of "
            f"{spec.actions_per_step} actions, more than the {chunk_length}-action chunk"
        )
    rollout = inputs[spec.rollout_role]
    wanted = (spec.planner.samples, chunk_length, joints)
    if rollout.get("candidates") != wanted:
        raise BundleError(
            f"{where}: roles.{spec.rollout_role} input 'candidates' has shape "
            f"{rollout.get('candidates')}, but planner.samples and the action spec ask for "
            f"{wanted}; re-export the rollout graph with that static shape"
        )
    cost = outputs[spec.rollout_role].get("cost")
    if cost != (spec.planner.samples,):
        raise BundleError(
            f"{where}: roles.{spec.rollout_role} must output 'cost' shaped "
            f"({spec.planner.samples},), got {cost}; re-export the rollout graph"
        )
    predictor = inputs[spec.predictor_role]
    if predictor.get("actions") != (1, spec.actions_per_step, joints):
        raise BundleError(
            f"{where}: roles.{spec.predictor_role} input 'actions' has shape "
            f"{predictor.get('actions')}, expected (1, {spec.actions_per_step}, {joints}) for "
            "one world-model step; re-export the predictor"
        )
    predicted = outputs[spec.predictor_role]
    if "next_latent" not in predicted or "next_joint_positions" not in predicted:
        raise BundleError(
            f"{where}: roles.{spec.predictor_role} must output 'next_latent' and "
            f"'next_joint_positions' (it has {', '.join(sorted(predicted))}); re-export it"
        )
    latent_dim = predicted["next_latent"][-1]
    if len(spec.monitor.latent_scale) not in (1, latent_dim):
        raise BundleError(
            f"{where}: world_model.monitor.latent_scale has {len(spec.monitor.latent_scale)} "
            f"values for a {latent_dim}-dimensional latent; give one value or one per dimension"
        )
