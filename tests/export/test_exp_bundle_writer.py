"""The bundle writer end to end on tiny real models: gate, golden data, hashes, signature."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle.manifest import ActionSpec, Preprocessing
from edge_runtime.bundle.reader import open_bundle
from edge_runtime.errors import BundleError
from export.bundle_writer import RoleSource, write_bundle
from export.config import ExportConfig, GateThresholds
from export.errors import AccuracyGateError, ExportError
from export.golden import load_golden
from export.keys import generate_keys
from export.samples import Samples

INT8 = ExportConfig(precision={"encoder": "int8", "policy": "int8"})


def _write(
    out: Path,
    roles: dict[str, RoleSource],
    obs: Samples,
    spec: tuple[Preprocessing, ActionSpec],
    config: ExportConfig = INT8,
    **kw: object,
):  # type: ignore[no-untyped-def]
    return write_bundle(out, roles, obs, spec[0], spec[1], 0.02, config, **kw)  # type: ignore[arg-type]


def test_exp_signed_int8_bundle_opens_and_matches_golden(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    private, public, kid = generate_keys(tmp_path / "keys" / "dev")
    result = _write(tmp_path / "b", tiny_roles, tiny_observations, tiny_spec, sign_key=private)
    assert result.signed_by == kid
    bundle = open_bundle(result.path, [public])
    assert bundle.signed_by == kid
    manifest = bundle.manifest
    assert {r: s.precision for r, s in manifest.roles.items()} == {
        "encoder": "int8",
        "policy": "int8",
    }
    sources = {t.name: t.source for t in manifest.roles["policy"].inputs}
    assert sources == {"latent": "encoder.latent", "joints": "observation.joint_positions"}
    assert manifest.roles["encoder"].inputs[0].shape == (1, 4, 16, 16)
    expected_files = {
        "models/encoder.onnx",
        "models/policy.onnx",
        "golden/encoder.npz",
        "golden/policy.npz",
        "reports/accuracy.json",
        "reports/accuracy.png",
        "reference/encoder.fp32.onnx",
        "reference/policy.fp32.onnx",
    }
    assert set(manifest.files) == expected_files
    report = json.loads(bundle.path("reports/accuracy.json").read_text())
    assert report["passed"] is True
    assert report["pipeline"][0]["action"]["max"] <= 0.01
    golden = load_golden(bundle.path("golden/policy.npz"))
    assert golden.inputs["latent"].shape == (4, 1, 8)
    assert golden.outputs["actions"].shape == (4, 1, 4, 3)
    assert set(manifest.roles["policy"].tolerance) == {"cosine_min", "max_abs"}


def test_exp_tampered_or_untrusted_bundle_is_refused(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    private, public, _ = generate_keys(tmp_path / "dev")
    _, other, _ = generate_keys(tmp_path / "other")
    out = _write(tmp_path / "b", tiny_roles, tiny_observations, tiny_spec, sign_key=private).path
    with pytest.raises(BundleError, match="does not match any trusted key"):
        open_bundle(out, [other])
    with pytest.raises(BundleError, match="no trusted keys"):
        open_bundle(out, [])
    golden = out / "golden" / "policy.npz"
    golden.write_bytes(golden.read_bytes() + b"\0")
    with pytest.raises(BundleError, match="does not match its sha256"):
        open_bundle(out, [public])


def test_exp_fp32_and_fp16_roles_and_tar(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    config = ExportConfig(precision={"encoder": "fp16", "policy": "fp32"})
    result = _write(tmp_path / "b", tiny_roles, tiny_observations, tiny_spec, config, tar=True)
    assert result.path.name == "b.tar"
    bundle = open_bundle(result.path, development_mode=True)
    assert bundle.manifest.roles["encoder"].precision == "fp16"
    assert bundle.signed_by == ""


def test_exp_gate_failure_writes_report_only(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    strict = GateThresholds(cosine_mean=0.999, cosine_min=0.99, max_abs=1e-6, action_error=1e-6)
    config = ExportConfig(precision={"encoder": "int8", "policy": "int8"}, gate_default=strict)
    out = tmp_path / "b"
    with pytest.raises(AccuracyGateError, match="stray beyond tolerance") as info:
        _write(out, tiny_roles, tiny_observations, tiny_spec, config)
    assert info.value.exit_code != 0
    assert sorted(p.name for p in out.iterdir()) == ["reports"]
    report = json.loads((out / "reports" / "accuracy.json").read_text())
    assert report["passed"] is False
    assert (out / "reports" / "accuracy.png").stat().st_size > 1000


def test_exp_source_names_must_match_model_inputs(
    tmp_path: Path, tiny_onnx, tiny_observations, tiny_spec
) -> None:
    roles = {
        "encoder": RoleSource(tiny_onnx["encoder"], {"image": "observation.rgbd"}),
        "policy": RoleSource(
            tiny_onnx["policy"], {"latent": "encoder.latent", "joints": "observation.rgb"}
        ),
    }
    with pytest.raises(ExportError, match=r"has inputs \['rgbd'\]"):
        _write(tmp_path / "b", roles, tiny_observations, tiny_spec)


def test_exp_too_little_observation_data(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    few = Samples({k: v[:10] for k, v in tiny_observations.arrays.items()})
    with pytest.raises(ExportError, match="holds 10 samples"):
        _write(tmp_path / "b", tiny_roles, few, tiny_spec)


def test_exp_refuses_to_overwrite_a_non_bundle(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="is not a bundle"):
        _write(out, tiny_roles, tiny_observations, tiny_spec)
    assert (out / "notes.txt").exists()


def test_exp_rewrite_replaces_previous_bundle(
    tmp_path: Path, tiny_roles, tiny_observations, tiny_spec
) -> None:
    out = tmp_path / "b"
    _write(out, tiny_roles, tiny_observations, tiny_spec)
    shutil.rmtree(out / "golden")
    _write(out, tiny_roles, tiny_observations, tiny_spec)
    assert open_bundle(out, development_mode=True).manifest.roles["policy"].golden
    assert np.load(out / "golden" / "policy.npz")["output/actions"].shape[0] == 4
