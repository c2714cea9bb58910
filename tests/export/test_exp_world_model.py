"""World-model export: the rollout graph, the ranking check, candidates and the section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from export.reference.models import (
    CHUNK,
    JOINTS,
    LATENT,
    STEP_ACTIONS,
    STEP_WEIGHTS,
    CostHead,
    Predictor,
    Rollout,
)
from export.world_model.candidates import planner_candidates
from export.world_model.graphs import export_rollout
from export.world_model.ranking import (
    RankingThresholds,
    ranking_fidelity,
    spearman,
    top_k_overlap,
)

SAMPLES = 8


def test_exp_rollout_onnx_equals_steps_of_predictor_and_cost_head(tmp_path: Path) -> None:
    import onnxruntime as ort

    torch.manual_seed(0)
    predictor, cost_head = Predictor().eval(), CostHead().eval()
    rollout = Rollout(predictor, cost_head, samples=SAMPLES)
    io = export_rollout(rollout, LATENT, JOINTS, CHUNK, SAMPLES, tmp_path / "rollout.onnx")
    assert [t.shape for t in io.inputs] == [(1, LATENT), (1, JOINTS), (SAMPLES, CHUNK, JOINTS)]
    assert io.outputs[0].shape == (SAMPLES,)

    latent = torch.randn(1, LATENT)
    joints = 0.3 * torch.randn(1, JOINTS)
    candidates = joints.unsqueeze(1) + 0.1 * torch.randn(SAMPLES, CHUNK, JOINTS)
    with torch.no_grad():
        expected = []
        for n in range(SAMPLES):
            z, q, cost = latent, joints, 0.0
            for step, weight in enumerate(STEP_WEIGHTS):
                chunk = candidates[n : n + 1, step * STEP_ACTIONS : (step + 1) * STEP_ACTIONS]
                z, q = predictor(z, q, chunk)
                cost += weight * float(cost_head(z, q)[0])
            expected.append(cost)
    session = ort.InferenceSession(
        str(tmp_path / "rollout.onnx"), providers=["CPUExecutionProvider"]
    )
    feed = {
        "latent": latent.numpy(),
        "joint_positions": joints.numpy(),
        "candidates": candidates.numpy(),
    }
    (got,) = session.run(None, feed)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-4, atol=1e-5)


def test_exp_rollout_refuses_more_steps_than_the_chunk_holds() -> None:
    with pytest.raises(ValueError, match="exceed the 16-action chunk"):
        Rollout(Predictor(), CostHead(), step_weights=(0.25, 0.25, 0.25, 0.25))


def test_exp_predictor_steps_from_the_last_commanded_target() -> None:
    predictor = Predictor()
    for p in predictor.parameters():
        torch.nn.init.zeros_(p)
    latent = torch.randn(2, LATENT)
    actions = torch.randn(2, STEP_ACTIONS, JOINTS)
    next_latent, next_joints = predictor(latent, torch.zeros(2, JOINTS), actions)
    assert torch.equal(next_latent, latent)
    assert torch.equal(next_joints, actions[:, -1])


def test_exp_ranking_metrics() -> None:
    costs = np.array([0.3, 0.1, 0.2, 0.4])
    assert spearman(costs, costs) == pytest.approx(1.0)
    assert spearman(costs, -costs) == pytest.approx(-1.0)
    assert top_k_overlap(costs, costs + 0.01, 2) == 1.0
    assert top_k_overlap(costs, np.array([0.3, 0.1, 0.4, 0.2]), 2) == 0.5
    rng = np.random.default_rng(0)
    reference = rng.uniform(0.05, 0.3, (20, 64))
    # Noise at the size of the cost spread keeps cosine high but scrambles the ranking:
    # exactly the failure the cosine gate misses.
    scrambled = reference + rng.normal(0.0, 0.1, reference.shape)
    fid = ranking_fidelity("int8", reference, scrambled, 8)
    cosine = np.mean(
        np.sum(reference * scrambled, 1)
        / np.linalg.norm(reference, axis=1)
        / np.linalg.norm(scrambled, axis=1)
    )
    assert cosine > 0.85
    assert fid.spearman_mean < 0.7
    assert fid.failures(RankingThresholds())


def test_exp_planner_candidates_spread_around_the_mean() -> None:
    mean = np.tile(np.linspace(0.0, 0.5, CHUNK)[:, None], (1, JOINTS))
    out = planner_candidates(mean, np.random.default_rng(0), samples=16, noise_rad=0.05)
    assert out.shape == (16, CHUNK, JOINTS)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], mean, atol=1e-6)
    spread = np.abs(out[1:] - mean).max()
    assert 0.01 < spread < 0.5
