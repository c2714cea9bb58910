"""The manifest's optional world_model section: round trip, old bundles, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from world_model_specs import world_model_spec

from edge_runtime.bundle.manifest import ActionSpec, Manifest, Preprocessing, RoleSpec, TensorEntry
from edge_runtime.bundle.world_model import WorldModelSpec
from edge_runtime.errors import BundleError

N, H, J, K, D = 8, 16, 4, 5, 6


def _role(inputs: dict[str, tuple[tuple[int, ...], str]], outputs: dict[str, tuple[int, ...]]):  # type: ignore[no-untyped-def]
    return RoleSpec(
        file="models/x.onnx",
        precision="fp32",
        inputs=tuple(TensorEntry(n, s, source=src) for n, (s, src) in inputs.items()),
        outputs=tuple(TensorEntry(n, s) for n, s in outputs.items()),
    )


def _world_model() -> WorldModelSpec:
    return world_model_spec(N, D, K)


def _manifest(world_model: WorldModelSpec | None) -> Manifest:
    latent = ((1, D), "encoder.latent")
    joints = ((1, J), "observation.joint_positions")
    roles = {
        "encoder": _role({"rgbd": ((1, 4, 8, 8), "observation.rgbd")}, {"latent": (1, D)}),
        "policy": _role({"latent": latent, "joint_positions": joints}, {"actions": (1, H, J)}),
        "predictor": _role(
            {
                "latent": latent,
                "joint_positions": joints,
                "actions": ((1, K, J), "observation.executed_actions"),
            },
            {"next_latent": (1, D), "next_joint_positions": (1, J)},
        ),
        "rollout": _role(
            {
                "latent": latent,
                "joint_positions": joints,
                "candidates": ((N, H, J), "planner.candidates"),
            },
            {"cost": (N,)},
        ),
    }
    return Manifest(
        roles=roles,
        preprocessing=Preprocessing((8, 8)),
        action=ActionSpec(("a", "b", "c", "d"), ((-1.0, 1.0),) * J, H, 0.02),
        control_period_s=0.01,
        files={"models/x.onnx": "0" * 64},
        world_model=world_model,
    )


def test_world_model_section_round_trips() -> None:
    manifest = _manifest(_world_model())
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
    assert again.world_model is not None
    assert again.world_model.monitor.stop.joints_rad == 0.05
    data = json.loads(manifest.to_json())["world_model"]
    assert data["monitor"]["warn"] == {"latent": 2.0, "joints_rad": 0.03}
    assert data["planner"]["samples"] == N


def test_bundles_without_the_section_load_and_keep_their_manifest() -> None:
    manifest = _manifest(None)
    text = manifest.to_json()
    assert "world_model" not in json.loads(text)
    assert Manifest.from_json(text).world_model is None


def test_one_latent_scale_value_is_accepted() -> None:
    data = json.loads(_manifest(_world_model()).to_json())
    data["world_model"]["monitor"]["latent_scale"] = 0.5
    parsed = Manifest.from_json(json.dumps(data))
    assert parsed.world_model is not None
    assert parsed.world_model.monitor.latent_scale == (0.5,)


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for key in keys[:-1]:
        data = data[key]
    if value is _DELETE:
        del data[keys[-1]]
    else:
        data[keys[-1]] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("world_model.rollout_role", "planner", "not a role of this bundle"),
        ("world_model.step_s", 0.2, "is not actions_per_step"),
        ("world_model.planner.samples", 16, "planner.samples and the action spec ask for"),
        ("world_model.planner.elites", 99, "keep elites <= samples"),
        ("world_model.score.kind", "goal_latent", "must be one of 'cost_head'"),
        ("world_model.score.step_weights", [0.2, 0.3, 0.4, 0.1], "more than the 16-action"),
        ("world_model.score.step_weights", [], "one non-negative weight per rollout step"),
        ("world_model.monitor.stop.latent", 1.0, "must not be lower than the warning"),
        ("world_model.monitor.latent_scale", [1.0, 2.0], "one value or one per dimension"),
        ("world_model.monitor.latent_scale", [1.0, 0.0, 1, 1, 1, 1], "one positive number"),
        ("world_model.monitor.alpha_stop", 0.1, "a stop must be rarer than a warning"),
        ("world_model.monitor.warn.latent", "high", "must be a finite number"),
        ("world_model.monitor.calibration", _DELETE, "is missing"),
        ("world_model.planner.typo", 1, "unknown key 'typo'"),
    ],
)
def test_a_bad_section_is_refused_with_one_sentence(path: str, value: Any, message: str) -> None:
    data = json.loads(_manifest(_world_model()).to_json())
    _set(data, path, value)
    with pytest.raises(BundleError, match=message) as caught:
        Manifest.from_json(json.dumps(data), "bundle/manifest.json")
    text = str(caught.value)
    assert text.startswith("bundle/manifest.json")
    assert "\n" not in text


def test_world_model_sources_pass_the_wiring_check_but_unknown_ones_do_not() -> None:
    data = json.loads(_manifest(None).to_json())
    Manifest.from_json(json.dumps(data))
    data["roles"]["rollout"]["inputs"][2]["source"] = "planner.samples"
    with pytest.raises(BundleError, match="neither an input source"):
        Manifest.from_json(json.dumps(data))
