"""The analytic reference bundle: valid manifest, golden parity, closed-loop success."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edge_runtime.bundle.reader import open_bundle
from edge_runtime.errors import BundleError
from edge_runtime.sim.analytic_bundle import EXPORTER, write_analytic_bundle
from edge_runtime.sim.evaluate import evaluate_bundle


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_analytic_bundle(tmp_path_factory.mktemp("analytic"), seed=0, samples=100)


def test_sim_analytic_bundle_is_a_valid_unsigned_bundle(bundle_dir: Path) -> None:
    bundle = open_bundle(bundle_dir, development_mode=True)
    manifest = bundle.manifest
    assert manifest.exporter["name"] == EXPORTER
    assert set(manifest.roles) == {"encoder", "policy"}
    assert manifest.roles["encoder"].inputs[0].source == "observation.rgbd"
    assert manifest.roles["policy"].inputs[0].source == "encoder.latent"
    assert manifest.action.output == "policy.actions"
    assert "reports/accuracy.json" in manifest.files
    with pytest.raises(BundleError, match="not signed"):
        open_bundle(bundle_dir)
    for role in manifest.roles.values():
        model = onnx.load(str(bundle.path(role.file)))
        assert model.opset_import[0].version == 17
        onnx.checker.check_model(model)
    assert json.loads((bundle_dir / "reports/accuracy.json").read_text())["analytic"] is True


def test_sim_analytic_bundle_reproduces_its_golden_outputs(bundle_dir: Path) -> None:
    manifest = open_bundle(bundle_dir, development_mode=True).manifest
    for role in manifest.roles.values():
        session = ort.InferenceSession(str(bundle_dir / role.file))
        with np.load(bundle_dir / role.golden) as golden:
            count = golden[f"input/{role.inputs[0].name}"].shape[0]
            for i in range(count):
                feed = {t.name: golden[f"input/{t.name}"][i] for t in role.inputs}
                for t, out in zip(role.outputs, session.run(None, feed)):
                    assert out.shape == t.shape
                    np.testing.assert_allclose(out, golden[f"output/{t.name}"][i], atol=1e-5)


def test_sim_analytic_policy_reaches_targets_in_closed_loop(bundle_dir: Path) -> None:
    result = evaluate_bundle(bundle_dir, episodes=6, seed=11, episode_s=2.5)
    assert result.successes >= 5, result.final_distance_m
