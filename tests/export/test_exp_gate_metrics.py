"""Fidelity metrics, the gate's thresholds, the export config and calibration data loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle.manifest import TensorEntry
from edge_runtime.toml_compat import tomllib
from export.accuracy import action_fidelity, cosine_per_sample, evaluate_role, output_fidelity
from export.config import GateThresholds, load_export_config, parse_export_config
from export.errors import ExportError
from export.samples import load_samples


def test_exp_cosine_and_max_abs() -> None:
    ref = np.array([[[1.0, 0.0]], [[0.0, 2.0]], [[0.0, 0.0]]])
    test = np.array([[[1.0, 1.0]], [[0.0, 2.0]], [[0.0, 0.0]]])
    cos = cosine_per_sample(ref, test)
    np.testing.assert_allclose(cos, [np.sqrt(0.5), 1.0, 1.0])
    fid = output_fidelity(ref, test)
    assert fid.max_abs == pytest.approx(1.0)
    assert fid.cosine_min == pytest.approx(np.sqrt(0.5))


def test_exp_action_error_is_relative_to_each_joint_range() -> None:
    ref = np.zeros((2, 1, 4, 2))
    test = ref.copy()
    test[0, 0, 3, 0] = 0.02  # joint 0: range 2 rad -> 1%
    test[1, 0, 1, 1] = 0.02  # joint 1: range 0.2 rad -> 10%
    act = action_fidelity(ref, test, [(-1.0, 1.0), (-0.1, 0.1)])
    assert act.per_joint_max == pytest.approx((0.01, 0.1))
    assert act.max == pytest.approx(0.1)


def test_exp_evaluate_role_lists_every_crossed_threshold() -> None:
    ref = {"actions": np.ones((3, 1, 2, 2))}
    test = {"actions": np.ones((3, 1, 2, 2)) * 1.1}
    gate = GateThresholds(cosine_mean=0.999, cosine_min=0.99, max_abs=0.05, action_error=0.01)
    result = evaluate_role("policy", "int8", ref, test, gate, "actions", [(-1, 1), (-1, 1)])
    assert not result.passed
    text = " ".join(result.failures)
    assert "max abs error" in text
    assert "action error 5.00%" in text
    assert "cosine" not in text  # a uniform scale keeps the direction


def test_exp_config_defaults_and_role_overrides(tmp_path: Path) -> None:
    path = tmp_path / "export.toml"
    path.write_text(
        '[precision]\nencoder = "int8"\npolicy = "fp16"\n'
        "[gate]\nmax_abs = 0.5\n[gate.policy]\naction_error = 0.02\n"
    )
    config = load_export_config(path)
    assert config.precision == {"encoder": "int8", "policy": "fp16"}
    assert config.gate("encoder").max_abs == 0.5
    assert config.gate("policy").max_abs == 0.5  # inherits [gate]
    assert config.gate("policy").action_error == 0.02
    assert load_export_config(None).gate("policy").cosine_mean == 0.999
    assert load_export_config(None).gate("encoder").max_abs is None  # scale-dependent: opt-in


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[precision]\npolicy = "int4"\n', "policy = 'int4' is invalid"),
        ("[gate]\ncosine_mean = 2\n", "must be <= 1"),
        ("[gates]\n", "unknown section"),
        ("[gate]\nmax_abz = 1\n", "max_abz"),
    ],
)
def test_exp_config_errors_are_one_sentence(text: str, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        parse_export_config(tomllib.loads(text), "export.toml")


ENTRIES = (TensorEntry("obs", (1, 3, 2)), TensorEntry("q", (1, 4)))


def test_exp_calibration_accepts_both_layouts(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    np.savez(path, obs=np.zeros((20, 3, 2)), q=np.zeros((20, 1, 4)))
    samples = load_samples(path, ENTRIES, minimum=16)
    assert len(samples) == 20
    assert samples.feed(0)["obs"].shape == (1, 3, 2)
    assert samples.feed(0)["obs"].dtype == np.float32
    calib, held = samples.split(0.25)
    assert (len(calib), len(held)) == (15, 5)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"obs": np.zeros((5, 3, 2)), "q": np.zeros((5, 4))}, "holds 5 samples; .* at least 16"),
        ({"obs": np.zeros((20, 3, 2))}, "no array 'q'"),
        ({"obs": np.zeros((20, 2, 3)), "q": np.zeros((20, 4))}, "expected \\(N, 3, 2\\)"),
    ],
)
def test_exp_calibration_refuses_bad_data(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    path = tmp_path / "c.npz"
    np.savez(path, **arrays)
    with pytest.raises(ExportError, match=message):
        load_samples(path, ENTRIES, minimum=16)


def test_exp_calibration_refuses_missing_or_corrupt(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        load_samples(tmp_path / "none.npz", ENTRIES)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ExportError, match=r"not a readable \.npz"):
        load_samples(bad, ENTRIES)


def test_exp_config_quantize_section() -> None:
    text = (
        '[quantize]\nfloat_ops = ["Softmax"]\nfloat_nodes = ["/head/Gemm"]\nfloat_outputs = false\n'
    )
    config = parse_export_config(tomllib.loads(text), "export.toml")
    assert config.float_ops == ("Softmax",)
    assert config.float_nodes == ("/head/Gemm",)
    assert config.float_outputs is False
    assert parse_export_config({}, "export.toml").float_outputs is True
