"""Episode logs -> reference training data: every value checked against the log it came from.

The synthetic log has ticks every 10 ms from T0 and frames every 100 ms on those ticks, so a
row of the 0.1 s grid sits exactly on a tick and a frame, and each 20 ms action step covers two
whole ticks: the expected numbers are the log's own values, computed here independently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_runtime.pipeline.observer import TickRecord
from edge_runtime.recording import EpisodeRecorder
from edge_runtime.recording.format import LogError
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.synthetic_scene import scene_frame
from edge_runtime.sim.world import JOINT_NAMES
from export.errors import ExportError
from export.reference.data import DEPTH_MAX_M
from export.reference.from_logs import LogTiming, demonstrations_from_logs, log_paths
from export.reference.train import CHECKPOINT

T0_NS = 7 * 10**12
TICK_NS = 10_000_000
FRAME_EVERY = 10  # ticks: one frame per 0.1 s
TICKS = 150  # 1.5 s
FAILED_READ_TICK = 70  # its joints are NaN: the row on it is dropped


def positions(i: int) -> np.ndarray:
    return np.array([0.1, -0.2, 1.5, 0.9]) + 0.03 * np.sin(i / 9 + np.arange(4))


def commands(i: int) -> np.ndarray:
    return positions(i) + 0.001 * (i % 3)  # changes every tick: the step mean is checkable


def write_log(
    directory: Path,
    joints: tuple[str, ...] = JOINT_NAMES,
    sensors_only: bool = False,
    frames: bool = True,
    width: int = 64,
    height: int = 48,
) -> Path:
    """A recorded run of the sim arm's joints with a camera of another size than the models'."""
    rec = EpisodeRecorder(directory, process=False, identity={}, frame_queue=4096)
    rec.on_start(list(joints), TICK_NS / 1e9)
    intr = Intrinsics(width, height, 50.0, 50.0, width / 2, height / 2)
    zero = np.zeros(len(joints))
    for i in range(TICKS):
        t_ns = T0_NS + i * TICK_NS
        pos = positions(i)[: len(joints)]
        if i == FAILED_READ_TICK:
            pos = np.full(len(joints), np.nan)
        cmd = np.full(len(joints), np.nan) if sensors_only else commands(i)[: len(joints)]
        rec.on_tick(TickRecord(i, t_ns, t_ns, 0, 0, pos, zero, zero, cmd, cmd, "run", 1))
        if frames and i % FRAME_EVERY == 0:
            color, depth = scene_frame(i, width, height)
            rec.on_frame(Frame(color, depth, 0.001, intr, t_ns / 1e6, t_ns, i, "sim"))
    rec.on_stop()
    return directory


def test_exp_log_rows_hold_the_logs_values(tmp_path: Path) -> None:
    timing = LogTiming.reference()
    demos = demonstrations_from_logs([write_log(tmp_path / "log")], timing, echo=lambda _: None)
    # Rows at ticks 0, 10, ...; a row needs 16 x 20 ms = 32 ticks of commands after it, and
    # the row on the failed read is dropped.
    row_ticks = [i for i in range(0, TICKS - 32 + 1, FRAME_EVERY) if i != FAILED_READ_TICK]
    assert len(demos) == len(row_ticks)
    assert demos.episodes == 1
    for r, tick in enumerate(row_ticks):
        np.testing.assert_array_equal(demos.joints[r], positions(tick).astype(np.float32))
        for k in range(timing.chunk_length):  # step k covers ticks tick + 2k and tick + 2k + 1
            want = (commands(tick + 2 * k) + commands(tick + 2 * k + 1)) / 2
            np.testing.assert_allclose(demos.actions[r, k], want, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(demos.executed, demos.actions[:, : timing.actions_per_step])
    assert np.isnan(demos.distance_m).all()  # the task cost is not in a log
    # Chains follow the episode and break where a row was dropped.
    dropped = row_ticks.index(FAILED_READ_TICK - FRAME_EVERY)
    want_next = [r + 1 for r in range(len(row_ticks))]
    want_next[dropped] = -1
    want_next[-1] = -1
    assert demos.next_index.tolist() == want_next


def test_exp_log_images_are_resized_as_the_runtime_does(tmp_path: Path) -> None:
    from export.reference.models import IMAGE_HW

    demos = demonstrations_from_logs([write_log(tmp_path / "log")], echo=lambda _: None)
    assert demos.rgbd.shape[1:] == (4, *IMAGE_HW)
    _, depth_mm = scene_frame(0, 64, 48)  # depth is lossless: exact after the 2x upsample
    upsampled = np.repeat(np.repeat(depth_mm, 2, axis=0), 2, axis=1) * 0.001 / DEPTH_MAX_M
    np.testing.assert_allclose(demos.rgbd[0, 3], upsampled.clip(0, 1), atol=1e-3)  # float16


def test_exp_log_paths_finds_logs_in_a_parent_directory(tmp_path: Path) -> None:
    for name in ("run-a", "run-b"):
        write_log(tmp_path / "session" / name, frames=False)
    found = log_paths([tmp_path / "session"])
    assert [p.name for p in found] == ["run-a", "run-b"]
    with pytest.raises(LogError, match="does not exist"):
        log_paths([tmp_path / "missing"])


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"joints": ("shoulder", "elbow", "wrist")}, "records joints"),
        ({"sensors_only": True}, "holds no joint commands"),
        ({"frames": False}, "has no camera frames"),
    ],
)
def test_exp_unusable_logs_are_one_sentence_each(tmp_path: Path, kwargs: dict, reason: str) -> None:
    said: list[str] = []
    with pytest.raises(ExportError, match="none of the 1 episode log"):
        demonstrations_from_logs([write_log(tmp_path / "log", **kwargs)], echo=said.append)
    assert len(said) == 1
    assert reason in said[0]
    assert "Traceback" not in said[0]


def test_exp_masked_cost_loss_leaves_out_log_rows() -> None:
    import torch

    from export.reference.refit import masked_mse

    prediction = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    target = torch.tensor([1.5, float("nan"), 3.0])
    assert float(masked_mse(prediction, target).detach()) == pytest.approx(0.25 / 2)
    nothing = masked_mse(prediction, torch.full((3,), float("nan")))
    nothing.backward()
    assert float(nothing.detach()) == 0.0
    assert prediction.grad is not None
    assert float(prediction.grad.abs().sum()) == 0.0


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="reference checkpoint not trained yet")
def test_exp_record_finetune_export_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Record -> train -> export -> gate -> run, at a test's size: a 2.5 s demo on the
    simulated robot, 3 fine-tuning steps, a short monitor calibration, one closed-loop episode."""
    import json

    from edge_runtime.bundle.reader import open_bundle
    from edge_runtime.cli.main import main
    from edge_runtime.errors import EXIT_LATCHED
    from edge_runtime.sim.analytic_bundle import write_analytic_bundle
    from edge_runtime.sim.evaluate import evaluate_bundle
    from export.reference.bundle import build_reference_bundle
    from export.reference.finetune import FineTuneOptions, finetune_from_logs
    from export.world_model.monitor_calibration import MonitorSettings

    analytic = write_analytic_bundle(tmp_path / "analytic", samples=60)
    demo = ["demo", "--bundle", str(analytic), "--seed", "5", "--duration", "2.5"]
    code = main([*demo, "--out", str(tmp_path / "run"), "--record", str(tmp_path / "logs/a")])
    # A safety stop (a starved machine: stale frames, failed reads) still leaves the log.
    assert code in (0, EXIT_LATCHED), capsys.readouterr()
    checkpoint = tmp_path / "finetuned.pt"
    options = FineTuneOptions(
        (tmp_path / "logs",), checkpoint, steps=3, refit_steps=3, sim_episodes=0, threads=1
    )
    terms = finetune_from_logs(options, echo=lambda _: None)
    assert np.isfinite(terms["bc_rmse_rad"])
    assert terms["cost_rmse_m"] == 0.0  # no log row has a task cost: the head is left alone
    # 19 episodes is the fewest a 10% alpha allows (the real calibration runs 600).
    monitor = MonitorSettings(
        episodes=19, episode_s=0.6, alpha_warn=0.1, alpha_stop=0.05, workers=1
    )
    path = build_reference_bundle(
        tmp_path / "bundle", precision="fp16", checkpoint=checkpoint, monitor=monitor
    )
    bundle = open_bundle(path, development_mode=True)
    assert bundle.manifest.exporter["checkpoint"] == "finetuned.pt"
    gate = json.loads((path / "reports" / "accuracy.json").read_text())
    assert gate  # the accuracy gate judged the fine-tuned models
    result = evaluate_bundle(path, episodes=1, seed=2_000_003)
    assert result.episodes == 1
    assert np.isfinite(result.final_distance_m).all()


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="reference checkpoint not trained yet")
def test_exp_cli_refuses_unusable_logs_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from edge_runtime.cli.main import main

    command = ["export", "reference", "--train", "--out", str(tmp_path / "bundle")]
    assert main([*command, "--logs", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "does not exist" in err
    other_robot = write_log(tmp_path / "other", joints=("shoulder", "elbow", "wrist"))
    assert main([*command, "--logs", str(other_robot)]) == 2
    captured = capsys.readouterr()
    assert "records joints" in captured.out
    assert captured.err.count("\n") == 1
    assert "none of the 1 episode log(s)" in captured.err
    assert not (tmp_path / "bundle.pt").exists()  # nothing was trained
    assert not (tmp_path / "bundle").exists()
