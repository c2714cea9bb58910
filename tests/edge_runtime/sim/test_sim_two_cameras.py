"""The richer simulated robot, end to end: a scene and a wrist camera (frame sets, skew,
bundles that name the camera they read) and its motors on two buses (`[[buses]]`)."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle import open_bundle
from edge_runtime.config import load_config
from edge_runtime.drive import DriveOptions, demo_config, drive
from edge_runtime.errors import ConfigError
from edge_runtime.recording.export_lerobot import LeRobotOptions, export_lerobot
from edge_runtime.recording.export_mcap import export_mcap
from edge_runtime.recording.logged_frames import LoggedFrames
from edge_runtime.recording.reader import LogReader
from edge_runtime.recording.summary import summarize
from edge_runtime.robot import check_bundle_matches
from edge_runtime.sensors.frame_set import FrameSet
from edge_runtime.sim.analytic_bundle import write_analytic_bundle
from export.bundle_spec import load_bundle_spec, load_observations
from export.bundle_writer import write_bundle
from export.config import ExportConfig

TWO_CAMERA = resources.files("edge_runtime.sim") / "robots" / "two_camera.toml"


@pytest.fixture(scope="module")
def analytic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_analytic_bundle(tmp_path_factory.mktemp("analytic"), samples=60)


def _bundle_reading(analytic: Path, tmp_path: Path, source: str) -> Path:
    """The analytic reference bundle with its encoder reading `source`."""
    path = Path(shutil.copytree(analytic, tmp_path / "bundle"))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["roles"]["encoder"]["inputs"][0]["source"] = source
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


# The wiring of the analytic reference bundle, but the encoder reads the wrist camera.
WRIST_ROLES = """[roles]
encoder = {{ onnx = "{models}/encoder.onnx", sources = {{ rgbd = "observation.wrist.rgbd" }} }}
policy = {{ onnx = "{models}/policy.onnx", sources = {{ latent = "encoder.latent", \
joint_positions = "observation.joint_positions" }} }}
"""


def _spec_text(analytic: Path) -> str:
    """An export spec for the analytic graphs (their preprocessing and action), the encoder
    reading the wrist camera."""
    manifest = open_bundle(analytic, development_mode=True).manifest
    pre, action = manifest.preprocessing, manifest.action
    limits = ", ".join(f"[{lo}, {hi}]" for lo, hi in action.limits_rad)
    return (
        f"control_period_s = {manifest.control_period_s}\n[preprocessing]\n"
        f"image_size = {list(pre.image_size)}\nrgb_mean = {list(pre.rgb_mean)}\n"
        f"rgb_std = {list(pre.rgb_std)}\ndepth_max_m = {pre.depth_max_m}\n[action]\n"
        f"joint_names = {json.dumps(list(action.joint_names))}\nlimits_rad = [{limits}]\n"
        f"chunk_length = {action.chunk_length}\ndt_s = {action.dt_s}\n"
        + WRIST_ROLES.format(models=analytic / "models")
    )


def _exported_wrist_bundle(analytic: Path, tmp_path: Path) -> Path:
    """The analytic graphs through `edgerun export onnx`'s library path, the encoder reading
    the wrist camera: what a model trained on wrist images would be exported as."""
    (tmp_path / "spec.toml").write_text(_spec_text(analytic))
    spec = load_bundle_spec(tmp_path / "spec.toml")
    rng = np.random.default_rng(0)
    samples = {  # keyed by source, as recorded observations are
        "observation.wrist.rgbd": rng.random((18, 4, 96, 128), dtype=np.float32),
        "observation.joint_positions": rng.uniform(-1, 1, (18, 4)).astype(np.float32),
    }
    np.savez(tmp_path / "obs.npz", **samples)
    observations = load_observations(tmp_path / "obs.npz", spec.roles, minimum=17)
    config = ExportConfig(precision={"encoder": "fp32", "policy": "fp32"})
    out = write_bundle(tmp_path / "wrist-bundle", spec.roles, observations, spec.preprocessing,
                       spec.action, spec.control_period_s, config)  # fmt: skip
    assert out.manifest.roles["encoder"].inputs[0].source == "observation.wrist.rgbd"
    assert out.task is not None
    assert out.task.skipped == "the bundle reads named cameras ['wrist']"  # sim episodes: scene
    return out.path


def test_a_bundle_reading_an_unconfigured_camera_is_refused(analytic: Path, tmp_path: Path) -> None:
    path = _bundle_reading(analytic, tmp_path, "observation.wrist.rgbd")
    bundle = open_bundle(path, development_mode=True)
    with pytest.raises(ConfigError, match=r"the bundle reads cameras \['wrist'\] but robot.toml"):
        check_bundle_matches(demo_config(), bundle)
    check_bundle_matches(load_config(str(TWO_CAMERA)), bundle)  # two_camera.toml has a wrist


def test_the_two_camera_two_bus_arm_runs_on_frame_sets(analytic: Path, tmp_path: Path) -> None:
    # A loaded CI machine can starve the simulator's process (two renders, two servo chains)
    # for half a second, as it can the single-bus demo: a longer hold before a bad-state
    # safety stop keeps this test about cameras and buses.
    patient = TWO_CAMERA.read_text().replace("hold_timeout_s = 0.5", "hold_timeout_s = 3.0")
    (tmp_path / "robot.toml").write_text(patient)
    config = load_config(tmp_path / "robot.toml")
    assert [(b.name, b.kind) for b in config.buses] == [
        ("arm", "dynamixel"),
        ("wrist", "dynamixel"),
    ]
    bundle = _exported_wrist_bundle(analytic, tmp_path)
    log = tmp_path / "log"
    options = DriveOptions(duration_s=2.0, out_dir=tmp_path / "out", bundle=bundle, record_dir=log)
    outcome = drive(config, options)
    assert outcome.result.ok, outcome.report
    assert outcome.report["stop_reason"] == "duration reached"
    cameras = outcome.report["cameras"]
    assert set(cameras["cameras"]) == {"scene", "wrist"}
    assert cameras["primary"] == "scene"
    assert cameras["sets"] >= 10  # 30 fps for 2 s; a loaded CI machine renders fewer
    assert cameras["skew_max_ms"] <= config.camera_sync.tolerance_ms
    assert outcome.report["chunks"]["received"] >= 5
    assert outcome.report["sim_motors"]["torque_on"] == [False] * 4  # both chains: torque off

    # The log carries every camera: sets come back whole, `log info` shows each stream, the
    # MCAP export has a topic per camera.
    logged = LoggedFrames(LogReader(log))
    sets = list(logged)
    assert sets
    assert all(isinstance(s, FrameSet) and set(s.cameras) == {"scene", "wrist"} for s in sets)
    assert all(s.cameras["wrist"].camera == "wrist" for s in sets)
    info, _ = summarize(log)
    assert info["streams"]["frame"]["count"] == info["streams"]["frame:wrist"]["count"]
    assert [c["name"] for c in info["identity"]["cameras"]] == ["scene", "wrist"]
    mcap = export_mcap([log], tmp_path / "run.mcap")
    messages = mcap["files"][0]["messages"]
    assert messages["/camera/wrist/color"] == messages["/camera/color"] > 0
    out = tmp_path / "dataset"
    export_lerobot([log], LeRobotOptions(out=out, depth=False, jobs=1))
    features = json.loads((out / "meta" / "info.json").read_text())["features"]
    assert features["observation.images.wrist"]["shape"] == [96, 128, 3]
    assert features["observation.images.color"]["shape"] == [96, 128, 3]  # the primary's
    assert list((out / "videos" / "observation.images.wrist").rglob("*.mp4"))
