"""The task-level gate: candidate vs FP32 in closed loop, refusing what the accuracy gate lets
through; its report; and the quiet export console.

The candidates are the simulated arm's analytic policy, exported through the real toolchain:
at FP16 it behaves like FP32; with its polynomial goal map in INT8 (output layers included) it
misses targets, and the task gate refuses it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle.reader import open_bundle
from edge_runtime.sim.analytic_bundle import DEPTH_MAX_M, RGB_MEAN, RGB_STD, write_analytic_bundle
from edge_runtime.sim.analytic_graphs import LATENT
from export.bundle_writer import RoleSource, write_bundle
from export.config import ExportConfig, GateThresholds, parse_export_config
from export.errors import AccuracyGateError, ExportError
from export.samples import Samples
from export.task_gate import TaskGateSettings, judge

# Default cosine thresholds; the action error allowed 2% of joint range instead of 1% (the INT8
# goal map measures cosine 0.99998 mean and 1.1% worst action error: close to the default).
RELAXED = GateThresholds(action_error=0.02)


@pytest.fixture(scope="module")
def analytic(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The analytic graphs as FP32 sources, 12 rendered observations, the bundle's specs."""
    from edge_runtime.pipeline.preprocess import rgbd_tensor
    from edge_runtime.sim.render import RgbdRenderer
    from edge_runtime.sim.world import SimWorld

    root = tmp_path_factory.mktemp("analytic")
    bundle = write_analytic_bundle(root / "analytic", samples=60)
    images, joints = [], []
    with SimWorld(seed=0) as world, RgbdRenderer(world, 128, 96) as renderer:
        for i in range(12):
            world.reset(i)
            image = renderer.render()
            images.append(rgbd_tensor(image.color, image.depth_m, RGB_MEAN, RGB_STD, DEPTH_MAX_M))
            joints.append(world.joint_positions().astype(np.float32)[None])
    sources = {LATENT: f"encoder.{LATENT}", "joint_positions": "observation.joint_positions"}
    return {
        "root": root,
        "manifest": open_bundle(bundle, development_mode=True).manifest,
        "roles": {
            "encoder": RoleSource(bundle / "models/encoder.onnx", {"rgbd": "observation.rgbd"}),
            "policy": RoleSource(bundle / "models/policy.onnx", sources),
        },
        "observations": Samples(
            {"observation.rgbd": np.stack(images), "observation.joint_positions": np.stack(joints)}
        ),
    }


def test_exp_the_task_gate_refuses_what_the_accuracy_gate_passes(analytic: dict) -> None:
    out, manifest = analytic["root"] / "int8", analytic["manifest"]
    config = ExportConfig(
        precision={"encoder": "fp16", "policy": "int8"},
        min_calibration_samples=8,
        gate_default=RELAXED,
        float_outputs=False,
        task_gate=TaskGateSettings(episodes=2, workers=1),
    )
    with pytest.raises(AccuracyGateError, match="task-level gate") as refused:
        write_bundle(
            out, analytic["roles"], analytic["observations"], manifest.preprocessing,
            manifest.action, 0.01, config,
        )  # fmt: skip
    assert refused.value.exit_code == 3
    assert sorted(p.name for p in out.iterdir()) == ["reports"]  # reports only, as today
    report = json.loads((out / "reports/accuracy.json").read_text())
    assert all(r["passed"] for r in report["roles"].values())  # the output gate passed it
    assert report["roles"]["policy"]["outputs"]["actions"]["cosine_mean"] > 0.999
    assert report["task"]["passed"] is False
    assert report["passed"] is False
    paired = report["task"]["paired"]
    assert paired["only_fp32"] > paired["only_bundle"]
    assert len(json.loads((out / "reports/task.json").read_text())["per_episode"]) == 2


@pytest.mark.parametrize(
    ("difference", "p", "refused"),
    [
        (0.0, 1.0, []),
        (-0.015, 0.5, []),  # within 2 points, not significant
        (-0.03, 0.3, ["points below FP32"]),  # too far, not significant
        (-0.01, 0.01, ["significantly below"]),  # significant, within the points
        (-0.10, 0.002, ["significantly below", "points below FP32"]),  # the INT8 case of models.md
        (0.05, 0.01, []),  # significantly *better* is fine
    ],
)
def test_exp_task_gate_verdicts(difference: float, p: float, refused: list[str]) -> None:
    failures = judge({"difference": difference, "mcnemar_p": p}, TaskGateSettings())
    assert len(failures) == len(refused)
    for failure, reason in zip(failures, refused):
        assert reason in failure


def test_exp_task_gate_config() -> None:
    config = parse_export_config(
        {"task_gate": {"episodes": 400, "max_drop_points": 1.5, "alpha": 0.01, "workers": 1}}, "x"
    )
    assert config.task_gate == TaskGateSettings(400, 1.5, 0.01, None, 1)
    assert ExportConfig().task_gate.episodes is None  # the default count, resolved at run time
    with pytest.raises(ExportError, match=r"\[task_gate\] is missing|unknown key|invalid"):
        parse_export_config({"task_gate": {"episode": 5}}, "x")


def test_exp_a_candidate_like_fp32_passes_on_a_quiet_console(analytic: dict) -> None:
    """A real `edgerun export onnx` in a child process, as a user's terminal sees it: the task
    gate's table and the verdict, none of the libraries' log lines; the report sealed."""
    root = analytic["root"]
    (root / "spec.toml").write_text(_spec_toml(analytic))
    obs = analytic["observations"].arrays
    np.savez(root / "obs.npz", **{k: v[:, 0] for k, v in obs.items()})
    (root / "export.toml").write_text(
        '[precision]\nencoder = "fp16"\npolicy = "fp16"\n[calibration]\nmin_samples = 8\n'
        "[task_gate]\nepisodes = 1\nworkers = 1\n"
    )
    out = root / "cli-bundle"
    argv = ["export", "onnx", "--spec", str(root / "spec.toml"), "--data", str(root / "obs.npz"),
            "--config", str(root / "export.toml"), "--out", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, "-m", "edge_runtime.cli.main", *argv],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    console = child.stdout + child.stderr
    assert child.returncode == 0, console
    assert "task gate: candidate vs FP32" in console  # the result table
    assert "task gate passed" in console
    assert "WARNING root" not in console
    assert " root: " not in console, console
    assert "unsigned" not in console
    log = (out / "reports/export.log").read_text()
    assert "is unsigned; loading it" in log  # the staged bundle's warnings: in the file only
    report = json.loads((out / "reports/accuracy.json").read_text())
    assert report["task"]["passed"] is True
    assert set(report["task"]["variants"]) == {"bundle", "fp32"}
    manifest = open_bundle(out, development_mode=True).manifest  # every hash matches
    assert "reports/task.json" in manifest.files


def test_exp_quiet_console_sends_library_logs_and_warnings_to_the_file(tmp_path: Path) -> None:
    """What the quantizer does (root logger) and torch does (warnings.warn), and a project
    error, under `quiet_console` with a console handler on the root logger."""
    import io
    import logging
    import warnings

    from export.export_log import quiet_console

    console = io.StringIO()
    handler = logging.StreamHandler(console)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with quiet_console(tmp_path / "out"):
            logging.warning("Expected bias 'b' to be an initializer")
            logging.getLogger("onnxruntime.quantization").info("calibrating")
            warnings.warn("torch.onnx: dynamic axes ignored", UserWarning, stacklevel=1)
            logging.getLogger("export.gate").error("the gate could not run")
        logging.warning("after the export")
    finally:
        root.removeHandler(handler)
    assert console.getvalue().splitlines() == ["the gate could not run", "after the export"]
    log = (tmp_path / "out/reports/export.log").read_text()
    assert "WARNING root: Expected bias 'b'" in log
    assert "INFO onnxruntime.quantization: calibrating" in log
    assert "dynamic axes ignored" in log


def _spec_toml(analytic: dict) -> str:
    """The bundle spec `edgerun export onnx` reads, for the analytic graphs."""
    action = analytic["manifest"].action
    lines = [
        "control_period_s = 0.01",
        "[preprocessing]",
        "image_size = [96, 128]",
        f"rgb_mean = {list(RGB_MEAN)}",
        f"rgb_std = {list(RGB_STD)}",
        "[action]",
        f"joint_names = {json.dumps(list(action.joint_names))}",
        f"limits_rad = {json.dumps([list(pair) for pair in action.limits_rad])}",
        f"chunk_length = {action.chunk_length}",
        f"dt_s = {action.dt_s}",
    ]
    for role, source in analytic["roles"].items():
        wiring = ", ".join(f'{name} = "{src}"' for name, src in source.sources.items())
        lines += [f"[roles.{role}]", f'onnx = "{source.onnx}"', f"sources = {{ {wiring} }}"]
    return "\n".join(lines) + "\n"
