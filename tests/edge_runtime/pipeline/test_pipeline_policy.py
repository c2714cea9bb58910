"""BundlePolicy chains roles by their declared sources and runs them in ONNX Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle import open_bundle
from edge_runtime.errors import BackendUnavailableError, BundleError, ConfigError
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sensors.base import Frame, Intrinsics


def _frame(value: int, depth_mm: int, size: tuple[int, int] = (48, 64)) -> Frame:
    h, w = size
    return Frame(
        color=np.full((h, w, 3), value, np.uint8),
        depth=np.full((h, w), depth_mm, np.uint16),
        depth_scale_m=0.001,
        intrinsics=Intrinsics(w, h, 50.0, 50.0, w / 2, h / 2),
        device_time_ms=0.0,
        host_time_ns=0,
        frame_number=1,
    )


def test_policy_chains_encoder_into_policy(tiny_bundle: Path) -> None:
    policy = BundlePolicy(open_bundle(tiny_bundle, development_mode=True), backend="onnxruntime")
    assert policy.order == ["encoder", "policy"]
    joints = np.array([0.1, -0.2, 0.3])
    actions = policy.act(_frame(255, 1000), joints)
    # latent = mean rgb (1, 1, 1) + depth 1 m / 2 m = 3.5; action k = joints + 0.01 (k+1) 3.5
    expected = joints + 0.035 * np.arange(1, 5)[:, None]
    assert actions.shape == (4, 3)
    assert actions == pytest.approx(expected, abs=1e-5)
    policy.close()


def test_manifest_shapes_must_match_the_model(tiny_bundle: Path) -> None:
    import json

    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    manifest["roles"]["encoder"]["outputs"][0]["shape"] = [1, 8]
    manifest["roles"]["policy"]["inputs"][0]["shape"] = [1, 8]
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="re-export"):
        BundlePolicy(open_bundle(tiny_bundle, development_mode=True), backend="onnxruntime")


def test_tensorrt_backend_absent_is_one_clear_error(tiny_bundle: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="not installed"):
        BundlePolicy(open_bundle(tiny_bundle, development_mode=True), backend="tensorrt")


def test_unknown_backend(tiny_bundle: Path) -> None:
    with pytest.raises(ConfigError, match="unknown backend 'cuda'"):
        BundlePolicy(open_bundle(tiny_bundle, development_mode=True), backend="cuda")


def test_a_bundle_reads_the_camera_its_input_names(tiny_bundle: Path) -> None:
    """`observation.wrist.rgbd` is the wrist camera's image of the set; `observation.rgbd`
    stays the primary's, so single-camera bundles run on a multi-camera robot."""
    from edge_runtime.sensors.frame_set import FrameSet

    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    manifest["roles"]["encoder"]["inputs"][0]["source"] = "observation.wrist.rgbd"
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    policy = BundlePolicy(open_bundle(tiny_bundle, development_mode=True), backend="onnxruntime")
    frames = {"scene": _frame(0, 0), "wrist": _frame(255, 1000)}
    joints = np.array([0.1, -0.2, 0.3])
    actions = policy.act(FrameSet.of(frames, "scene", skew_ms=0.0), joints)
    assert actions == pytest.approx(joints + 0.035 * np.arange(1, 5)[:, None], abs=1e-5)
    policy.close()
