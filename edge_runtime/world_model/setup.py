"""From a bundle's `world_model` section and the robot's `[world_model]` table to a running
monitor and planner.

Everything numeric comes from the signed manifest (step, thresholds, planner defaults, how a
state is scored); the robot config only turns parts on or off and may tighten the planner's
budget or iterations for this machine. A robot that asks for the planner with a bundle that
has no world model is refused at start, in one sentence, before anything moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_runtime.bundle.reader import Bundle
from edge_runtime.bundle.world_model import WorldModelSpec
from edge_runtime.config import WorldModelConfig
from edge_runtime.errors import BundleError, ConfigError
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.world_model.agent import WorldModelAgent, WorldModelSetup
from edge_runtime.world_model.monitor import MonitorSettings, SurpriseMonitor
from edge_runtime.world_model.planner import Planner, PlannerSettings
from edge_runtime.world_model.relight import Relighter


@dataclass(frozen=True)
class WorldModelPlan:
    """What `drive` needs: the setup for the runtime and the roles the policy must open."""

    setup: WorldModelSetup
    extra_roles: tuple[str, ...]


def planner_settings(spec: WorldModelSpec, config: WorldModelConfig) -> PlannerSettings:
    p = spec.planner
    return PlannerSettings(
        samples=config.samples if config.samples is not None else p.samples,
        iterations=config.iterations if config.iterations is not None else p.iterations,
        elites=p.elites,
        noise_rad=p.noise_rad,
        warm_start_fraction=p.warm_start_fraction,
        margin=config.margin if config.margin is not None else p.margin,
        budget_s=config.budget_ms / 1000.0 if config.budget_ms is not None else p.budget_s,
    )


def monitor_settings(spec: WorldModelSpec, joint_margin_rad: float = 0.0) -> MonitorSettings:
    m = spec.monitor
    return MonitorSettings(
        latent_scale=np.asarray(m.latent_scale, float),
        debounce_steps=m.debounce_steps,
        warn_latent=m.warn.latent,
        warn_joints_rad=m.warn.joints_rad + joint_margin_rad,
        stop_latent=m.stop.latent,
        stop_joints_rad=m.stop.joints_rad + joint_margin_rad,
        step_s=spec.step_s,
        horizon_steps=m.horizon_steps,
    )


def encoder_role(spec: WorldModelSpec, bundle: Bundle) -> str:
    """The role whose output the predictor takes as its latent (e.g. `encoder`)."""
    roles = {
        t.source.split(".", 1)[0]
        for t in bundle.manifest.roles[spec.predictor_role].inputs
        if t.source.split(".", 1)[0] in bundle.manifest.roles
    }
    if len(roles) != 1:
        raise BundleError(
            f"the predictor must read its latent from exactly one role, it reads {sorted(roles)}"
        )
    return roles.pop()


def relighter_for(spec: WorldModelSpec, policy: BundlePolicy) -> Relighter:
    role = encoder_role(spec, policy.bundle)
    return Relighter(role, policy.engines[role], policy.bundle.manifest.roles[role])


def agent_builder(
    bundle: Bundle,
    config: WorldModelConfig,
    max_velocity_rad_s: np.ndarray,
    clock: Clock | None = None,
    seed: int = 0,
) -> WorldModelPlan | None:
    """The world model this robot runs, or None (no section, or everything switched off)."""
    spec = bundle.manifest.world_model
    where = "[world_model]"
    if spec is None:
        if config.planner:
            raise ConfigError(
                f"{where} planner = true, but the bundle has no world model; use a bundle "
                "exported with one (edgerun export reference) or set planner = false"
            )
        return None
    if not (config.monitor or config.planner):
        return None
    manifest = bundle.manifest
    action = manifest.action
    dt_ns = round(action.dt_s * 1e9)
    limits = np.array(action.limits_rad, float)
    max_step = np.asarray(max_velocity_rad_s, float) * action.dt_s
    plan = planner_settings(spec, config) if config.planner else None
    watch = monitor_settings(spec, config.joint_margin_rad) if config.monitor else None
    clock = clock if clock is not None else MonotonicClock()

    def build(policy: BundlePolicy) -> WorldModelAgent:
        monitor = planner = None
        if watch is not None:
            role = spec.predictor_role
            relighter = relighter_for(spec, policy) if spec.monitor.relight else None
            monitor = SurpriseMonitor(policy.engines[role], manifest.roles[role], watch, relighter)
        if plan is not None:
            role = spec.rollout_role
            planner = Planner(
                policy.engines[role], manifest.roles[role], plan, limits, max_step, dt_ns,
                clock, seed,
            )  # fmt: skip
        return WorldModelAgent(monitor, planner, config.slow_down_on_warn)

    roles = tuple(
        role
        for role, wanted in (
            (spec.predictor_role, config.monitor),
            (spec.rollout_role, config.planner),
        )
        if wanted
    )
    return WorldModelPlan(WorldModelSetup(build, spec.step_s), roles)
