"""A plan replanned once per world-model step must not be called stale before the next one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from world_model_specs import world_model_spec

from edge_runtime.bundle import open_bundle
from edge_runtime.bundle.reader import Bundle
from edge_runtime.config import WorldModelConfig
from edge_runtime.drive import demo_config
from edge_runtime.robot import stale_observation_s

STEP_S = 0.1


def _with_world_model(tiny_bundle: Path) -> Bundle:
    bundle = open_bundle(tiny_bundle, development_mode=True)
    spec = world_model_spec(candidates=8, latent_dims=4, actions_per_step=5, step_s=STEP_S)
    return replace(bundle, manifest=replace(bundle.manifest, world_model=spec))


def test_a_watching_world_model_allows_two_steps(tiny_bundle: Path) -> None:
    config = demo_config()  # 10 ms period, stale after 10 periods = one world-model step
    assert stale_observation_s(config, _with_world_model(tiny_bundle)) == 2 * STEP_S


def test_without_a_world_model_at_work_the_configured_limit_stands(tiny_bundle: Path) -> None:
    config = demo_config()
    configured = config.safety.stale_observation_periods * config.period_s
    assert (
        stale_observation_s(config, open_bundle(tiny_bundle, development_mode=True)) == configured
    )
    off = replace(config, world_model=WorldModelConfig(monitor=False, planner=False))
    assert stale_observation_s(off, _with_world_model(tiny_bundle)) == configured
