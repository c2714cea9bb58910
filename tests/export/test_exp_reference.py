"""Reference models: exportable as-is, anti-collapse term, and the bundle the demo runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from export.onnx_export import export_module
from export.reference.models import (
    CHUNK,
    IMAGE_HW,
    JOINTS,
    LATENT,
    STEP_ACTIONS,
    STEP_WEIGHTS,
    Encoder,
    Policy,
    Predictor,
)
from export.reference.train import CHECKPOINT, photometric, vicreg_terms


def test_exp_reference_modules_export_and_match_torch(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort

    torch.manual_seed(0)
    encoder = Encoder().eval()
    x = torch.rand(1, 4, *IMAGE_HW)
    export_module(encoder, (x,), tmp_path / "enc.onnx", ["rgbd"], ["latent"])
    ops = {n.op_type for n in onnx.load(str(tmp_path / "enc.onnx")).graph.node}
    assert "BatchNormalization" not in ops  # folded into the convs
    assert "Softmax" in ops
    got = ort.InferenceSession(str(tmp_path / "enc.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        want = encoder(x).numpy()
    np.testing.assert_allclose(got.run(None, {"rgbd": x.numpy()})[0], want, atol=1e-4)
    io = export_module(
        Policy(), (torch.zeros(1, LATENT), torch.zeros(1, JOINTS)), tmp_path / "p.onnx",
        ["latent", "joint_positions"], ["actions"],
    )  # fmt: skip
    assert io.outputs[0].shape == (1, CHUNK, JOINTS)
    io = export_module(
        Predictor(),
        (torch.zeros(1, LATENT), torch.zeros(1, JOINTS), torch.zeros(1, STEP_ACTIONS, JOINTS)),
        tmp_path / "w.onnx",
        ["latent", "joint_positions", "actions"],
        ["next_latent", "next_joint_positions"],
    )
    assert [t.shape for t in io.outputs] == [(1, LATENT), (1, JOINTS)]


def test_exp_policy_zero_offset_holds_position() -> None:
    policy = Policy()
    for p in policy.parameters():
        torch.nn.init.zeros_(p)
    q = torch.tensor([[0.1, -0.2, 0.3, -0.4]])
    chunk = policy(torch.randn(1, LATENT), q)
    assert torch.equal(chunk, q.unsqueeze(1).expand(1, CHUNK, JOINTS))


def test_exp_vicreg_penalises_collapse() -> None:
    collapsed = torch.ones(32, 8) + 1e-4 * torch.randn(32, 8)
    spread = torch.randn(256, 8)
    var_collapsed, _ = vicreg_terms(collapsed)
    var_spread, cov_spread = vicreg_terms(spread)
    assert float(var_collapsed) > 0.9  # type: ignore[arg-type]
    assert float(var_spread) < 0.1  # type: ignore[arg-type]
    assert float(cov_spread) < 0.1  # type: ignore[arg-type]


def test_exp_photometric_changes_colour_only() -> None:
    torch.manual_seed(0)
    images = torch.rand(8, 4, 12, 16) * 4.0 - 2.0  # normalised RGB-D
    changed = photometric(images, 1.0, torch.Generator().manual_seed(1))
    assert torch.equal(changed[:, 3], images[:, 3])  # depth is untouched
    assert not torch.allclose(changed[:, :3], images[:, :3])
    assert torch.equal(photometric(images, 0.0, torch.Generator()), images)


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="reference checkpoint not trained yet")
def test_exp_reference_bundle_matches_the_runtime_wiring(tmp_path: Path) -> None:
    from edge_runtime.bundle.manifest import INPUT_SOURCES
    from edge_runtime.bundle.reader import open_bundle
    from edge_runtime.sim.world import JOINT_NAMES
    from export.keys import generate_keys
    from export.reference.bundle import build_reference_bundle
    from export.world_model.monitor_calibration import MonitorSettings

    private, public, _ = generate_keys(tmp_path / "k")
    # A short monitor calibration (the real one runs 200 episodes of 3 s): 19 episodes is the
    # fewest that a 5% alpha allows.
    monitor = MonitorSettings(
        episodes=19, episode_s=0.6, alpha_warn=0.1, alpha_stop=0.05, workers=1
    )
    path = build_reference_bundle(
        tmp_path / "ref", precision="int8", sign_key=private, monitor=monitor
    )
    bundle = open_bundle(path, [public])
    manifest = bundle.manifest
    assert manifest.action.joint_names == JOINT_NAMES
    assert manifest.action.output == "policy.actions"
    assert manifest.preprocessing.image_size == IMAGE_HW
    sources = {
        (role, t.name): (t.source, t.shape)
        for role, spec in manifest.roles.items()
        for t in spec.inputs
    }
    assert sources[("encoder", "rgbd")] == ("observation.rgbd", (1, 4, *IMAGE_HW))
    assert sources[("policy", "joint_positions")] == ("observation.joint_positions", (1, 4))
    assert sources[("policy", "latent")][0] == "encoder.latent"
    assert all(s in INPUT_SOURCES or s.split(".")[0] in manifest.roles for s, _ in sources.values())
    assert sources[("predictor", "actions")] == (
        "observation.executed_actions",
        (1, STEP_ACTIONS, JOINTS),
    )
    assert sources[("rollout", "candidates")][0] == "planner.candidates"
    precisions = {r: s.precision for r, s in manifest.roles.items()}
    # INT8 where the checks allow it: the policy always; the encoder falls back to fp16 when
    # the end-to-end action error fails, the predictor when its one-step error grows, the
    # rollout graph when its ranking breaks (docs/world-model.md).
    assert precisions["policy"] == "int8"
    assert precisions["encoder"] in ("int8", "fp16")
    assert precisions["predictor"] in ("int8", "fp16", "fp32")
    assert precisions["rollout"] in ("int8", "fp16", "fp32")

    world_model = manifest.world_model
    assert world_model is not None
    assert world_model.score.step_weights == STEP_WEIGHTS
    assert world_model.planner.samples == manifest.roles["rollout"].inputs[2].shape[0]
    monitor = world_model.monitor
    assert len(monitor.latent_scale) == LATENT
    assert all(np.isfinite(v) and v > 0 for v in monitor.latent_scale)
    for field in ("latent", "joints_rad"):
        warn, stop = getattr(monitor.warn, field), getattr(monitor.stop, field)
        assert np.isfinite(warn)
        assert np.isfinite(stop)
        assert 0 < warn < stop
    assert monitor.calibration.episodes == 19
