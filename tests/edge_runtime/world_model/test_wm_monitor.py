"""The surprise monitor on a real ONNX predictor: quiet when the world obeys, stops when not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from wm_graphs import LATENT_SOURCE, D, J, K, predictor_engine, save_graph

from edge_runtime.bundle.manifest import RoleSpec, TensorEntry
from edge_runtime.engines.onnxruntime_engine import OnnxRuntimeEngine
from edge_runtime.world_model.monitor import MonitorSettings, SurpriseMonitor
from edge_runtime.world_model.relight import RGBD_SOURCE, Relighter

STEP_NS = 100_000_000
SETTINGS = MonitorSettings(
    latent_scale=0.1,
    debounce_steps=2,
    warn_latent=1.0,
    warn_joints_rad=0.02,
    stop_latent=3.0,
    stop_joints_rad=0.12,
    step_s=0.1,
)


@pytest.fixture
def monitor(tmp_path: Path) -> SurpriseMonitor:
    engine, spec = predictor_engine(tmp_path)
    return SurpriseMonitor(engine, spec, SETTINGS)


def frame(latent: np.ndarray, joints: np.ndarray) -> dict[str, np.ndarray]:
    return {
        LATENT_SOURCE: latent[None].astype(np.float32),
        "observation.joint_positions": joints[None].astype(np.float32),
    }


def moving(step: int) -> np.ndarray:
    """Targets for one world-model step: every joint +0.01 rad per action."""
    return (step * K + np.arange(1, K + 1))[:, None] * 0.01 * np.ones(J)


def test_monitor_is_quiet_when_the_world_does_what_was_predicted(monitor: SurpriseMonitor) -> None:
    latent = np.zeros(D)
    levels = [monitor.observe(0, frame(latent, np.zeros(J)), None).level]
    for step in range(6):
        executed = moving(step)
        verdict = monitor.observe((step + 1) * STEP_NS, frame(latent, executed[-1]), executed)
        levels.append(verdict.level)
    assert levels == ["none"] + ["ok"] * 6


def test_monitor_stops_for_a_blocked_joint_after_debouncing(monitor: SurpriseMonitor) -> None:
    latent = np.zeros(D)
    monitor.observe(0, frame(latent, np.zeros(J)), None)
    levels = []
    for step in range(4):
        executed = moving(step)
        seen = executed[-1].copy()
        seen[1] = 0.0  # joint 1 never moves: blocked
        levels.append(monitor.observe((step + 1) * STEP_NS, frame(latent, seen), executed).level)
    # Residuals 0.05, 0.10, 0.15, 0.20 rad; held over 2 steps: 0.05 (warn: the first score has
    # no history), 0.05, 0.10 (not above the 0.12 stop), then 0.15: stop.
    assert levels == ["warn", "warn", "warn", "stop"]
    assert "joint residual" in monitor.observe(5 * STEP_NS, frame(latent, seen), moving(4)).detail


def test_one_step_monitor_sees_a_lasting_jump_only_once(monitor: SurpriseMonitor) -> None:
    joints = np.zeros(J)
    still = np.zeros((K, J))
    bumped = np.full(D, 0.5)  # every latent dimension moved 5x its nominal spread
    latents = [np.zeros(D), np.zeros(D), bumped, bumped]
    verdicts = [
        monitor.observe(STEP_NS * i, frame(z, joints), None if i == 0 else still)
        for i, z in enumerate(latents)
    ]
    # The next one-step prediction starts from the bumped picture: debouncing hides the jump.
    assert [v.level for v in verdicts] == ["none", "ok", "ok", "ok"]
    assert verdicts[2].latent == pytest.approx(5.0)


def test_horizon_monitor_stops_for_a_lasting_jump(tmp_path: Path) -> None:
    engine, spec = predictor_engine(tmp_path)
    monitor = SurpriseMonitor(engine, spec, replace(SETTINGS, horizon_steps=3))
    joints, still = np.zeros(J), np.zeros((K, J))
    latents = [np.zeros(D)] * 4 + [np.full(D, 0.5)] * 4  # the camera is bumped at frame 4
    levels = [
        monitor.observe(i * STEP_NS, frame(z, joints), None if i == 0 else still).level
        for i, z in enumerate(latents)
    ]
    assert levels[:4] == ["none", "none", "none", "ok"]
    assert levels[4] == "ok"  # first surprised frame: not yet held for 2 steps
    assert levels[5] == "stop"


def test_monitor_skips_frame_pairs_that_are_not_one_step_apart(monitor: SurpriseMonitor) -> None:
    monitor.observe(0, frame(np.zeros(D), np.zeros(J)), None)
    verdict = monitor.observe(int(1.5 * STEP_NS), frame(np.zeros(D), np.zeros(J)), np.zeros((K, J)))
    assert verdict.level == "none"
    assert monitor.skipped == 1


def _mean_encoder(tmp_path: Path) -> tuple[OnnxRuntimeEngine, RoleSpec]:
    """latent4 = each channel's mean: an encoder that sees the light and nothing else."""
    from onnx import TensorProto, helper

    size = (1, 4, 8, 8)
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["rgbd"], ["latent4"], axes=[2, 3], keepdims=0)],
        "encoder",
        [helper.make_tensor_value_info("rgbd", TensorProto.FLOAT, list(size))],
        [helper.make_tensor_value_info("latent4", TensorProto.FLOAT, [1, D])],
    )
    save_graph(graph, tmp_path / "encoder.onnx")
    spec = RoleSpec(
        file="encoder.onnx",
        precision="fp32",
        inputs=(TensorEntry("rgbd", size, source=RGBD_SOURCE),),
        outputs=(TensorEntry("latent4", (1, D)),),
    )
    return OnnxRuntimeEngine(tmp_path / "encoder.onnx"), spec


def test_relit_monitor_ignores_a_change_of_light_inside_its_horizon(tmp_path: Path) -> None:
    """The light changes two steps before the compared frame: relit in the light of the frame
    the prediction started from, nothing is surprising (matched to the previous frame, the
    change stayed in and the arm stopped: 12% of lighting episodes in bench world-model)."""
    predictor, spec = predictor_engine(tmp_path)
    encoder, encoder_spec = _mean_encoder(tmp_path)
    relighter = Relighter("encoder", encoder, encoder_spec)
    monitor = SurpriseMonitor(predictor, spec, replace(SETTINGS, horizon_steps=3), relighter)
    rng = np.random.default_rng(0)
    image = rng.uniform(0.2, 0.6, (1, 4, 8, 8)).astype(np.float32)
    brighter = image.copy()
    brighter[0, :3] *= 2.0  # the lamp goes on: colour only, depth (channel 3) untouched
    joints, still = np.zeros(J), np.zeros((K, J))
    levels = []
    for i, rgbd in enumerate([image, image, brighter, brighter, brighter, brighter]):
        values = {
            RGBD_SOURCE: rgbd,
            LATENT_SOURCE: encoder.infer({"rgbd": rgbd})["latent4"],
            "observation.joint_positions": joints[None].astype(np.float32),
        }
        levels.append(monitor.observe(i * STEP_NS, values, None if i == 0 else still).level)
    assert levels == ["none", "none", "none", "ok", "ok", "ok"]
