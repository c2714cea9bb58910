"""Bundles are refused before anything runs when hashes, signature or manifest are wrong."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_runtime.bundle import open_bundle
from edge_runtime.bundle.signing import sign_manifest
from edge_runtime.errors import BundleError


def _keypair(tmp_path: Path, name: str) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    pub = tmp_path / f"{name}.pub"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pub


def _sign(bundle: Path, key: Ed25519PrivateKey) -> None:
    manifest = (bundle / "manifest.json").read_bytes()
    (bundle / "signature").write_text(sign_manifest(manifest, key))


def test_unsigned_bundle_is_refused_outside_development_mode(tiny_bundle: Path) -> None:
    with pytest.raises(BundleError, match="not signed"):
        open_bundle(tiny_bundle)
    assert open_bundle(tiny_bundle, development_mode=True).signed_by == ""


def test_signed_bundle_loads_with_its_trusted_key(tiny_bundle: Path, tmp_path: Path) -> None:
    key, pub = _keypair(tmp_path, "robot")
    _sign(tiny_bundle, key)
    bundle = open_bundle(tiny_bundle, trusted_keys=[pub])
    assert len(bundle.signed_by) == 16
    assert bundle.manifest.action.chunk_length == 4


def test_wrong_key_is_refused(tiny_bundle: Path, tmp_path: Path) -> None:
    key, _ = _keypair(tmp_path, "robot")
    _, other_pub = _keypair(tmp_path, "other")
    _sign(tiny_bundle, key)
    with pytest.raises(BundleError, match="does not match any trusted key"):
        open_bundle(tiny_bundle, trusted_keys=[other_pub])


def test_tampered_model_is_refused(tiny_bundle: Path, tmp_path: Path) -> None:
    key, pub = _keypair(tmp_path, "robot")
    _sign(tiny_bundle, key)
    with (tiny_bundle / "models/policy.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=r"policy\.onnx does not match its sha256"):
        open_bundle(tiny_bundle, trusted_keys=[pub])


def test_tampered_manifest_breaks_the_signature(tiny_bundle: Path, tmp_path: Path) -> None:
    key, pub = _keypair(tmp_path, "robot")
    _sign(tiny_bundle, key)
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    manifest["control_period_s"] = 0.001
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="tampered"):
        open_bundle(tiny_bundle, trusted_keys=[pub])


def test_tar_bundle_opens(tiny_bundle: Path, tmp_path: Path) -> None:
    archive = tmp_path / "bundle.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny_bundle, arcname="bundle")
    assert open_bundle(archive, development_mode=True).manifest.roles["policy"].precision == "fp32"


def test_missing_bundle_says_where(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        open_bundle(tmp_path / "nope")


def test_manifest_with_unknown_source_is_refused(tiny_bundle: Path) -> None:
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    manifest["roles"]["policy"]["inputs"][1]["source"] = "observation.lidar"
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"observation\.lidar"):
        open_bundle(tiny_bundle, development_mode=True)


def test_fuzz_found_damaged_tar_is_one_sentence(tiny_bundle: Path, tmp_path: Path) -> None:
    """Found by `make fuzz` (bundle_tar): a damaged or cut tar (its first header intact)
    escaped as tarfile.ReadError."""
    archive = tmp_path / "bundle.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny_bundle, arcname="bundle")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])  # cut: its first header is intact
    with pytest.raises(BundleError, match=r"cannot be unpacked .*copy the bundle again"):
        open_bundle(archive, development_mode=True)


@pytest.mark.parametrize(
    "seed_name", ["regress-pax-length-overflow", "regress-pax-overflow-in-is-tarfile"]
)
def test_fuzz_found_pax_length_overflow_is_one_sentence(tmp_path: Path, seed_name: str) -> None:
    """Found by `make fuzz` (bundle_tar): a pax header whose record length is too large
    escaped from tarfile as OverflowError, first from `tarfile.open` (after 492,000
    executions), later from the `is_tarfile` check before it (after 852,740). The inputs are
    kept as seeds of that target."""
    seed = Path(__file__).parents[3] / "fuzz/corpus/bundle_tar" / seed_name
    archive = tmp_path / "bundle.tar"
    archive.write_bytes(seed.read_bytes())
    with pytest.raises(BundleError, match=r"cannot be unpacked .*copy the bundle again"):
        open_bundle(archive, development_mode=True)


@pytest.mark.parametrize("limits", [[[]], [[0.0]], [["a", 1.0]], [[True, 1.0]], [None], [1.0]])
def test_fuzz_found_malformed_action_limits_are_one_sentence(
    tiny_bundle: Path, limits: list
) -> None:
    """Found by `make fuzz` (bundle_manifest): limits_rad entries that are not [min, max]
    pairs of numbers escaped as ValueError/TypeError."""
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    manifest["action"]["limits_rad"] = limits * len(manifest["action"]["joint_names"])
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"limits_rad must hold one \[min, max\] per joint"):
        open_bundle(tiny_bundle, development_mode=True)


def test_role_order_runs_only_what_the_wanted_role_reads() -> None:
    from edge_runtime.bundle.manifest import TensorEntry, role_order

    inputs = {
        "predictor": (
            TensorEntry("z", (1,), source="encoder.z"),
            TensorEntry("a", (1,), source="policy.a"),
        ),
        "policy": (TensorEntry("z", (1,), source="encoder.z"),),
        "encoder": (TensorEntry("x", (1,), source="observation.rgbd"),),
    }
    assert role_order(inputs) == ["encoder", "policy", "predictor"]
    assert role_order(inputs, ["policy"]) == ["encoder", "policy"]
    cyclic = {
        "a": (TensorEntry("x", (1,), source="b.y"),),
        "b": (TensorEntry("x", (1,), source="a.y"),),
    }
    with pytest.raises(BundleError, match="cycle"):
        role_order(cyclic)


def test_precision_variants_must_be_known_and_hashed(tiny_bundle: Path) -> None:
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    assert "variants" not in manifest["roles"]["policy"]  # bundles without variants unchanged
    variant = {"file": "models/policy.int8_ort.onnx", "precision": "int8_ort"}
    manifest["roles"]["policy"]["variants"] = [variant]
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"policy.int8_ort.onnx is not hashed"):
        open_bundle(tiny_bundle, development_mode=True)
    variant["precision"] = "int4"
    (tiny_bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"variants\[0\] precision = 'int4' is invalid"):
        open_bundle(tiny_bundle, development_mode=True)
