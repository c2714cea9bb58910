"""`verify`: the device engine against golden outputs, judged by the gate's one comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle.reader import Bundle
from export.accuracy import evaluate_role
from export.verify import tolerance_thresholds, verify_bundle

# The keys of one role in reports/accuracy.json: `bench models` and reviewers read them back.
GATE_ROLE_KEYS = {"role", "precision", "samples", "outputs", "action", "failures", "passed"}


def test_exp_verify_reports_role_accuracy_on_this_device(
    tmp_path: Path, tiny_bundle: Bundle
) -> None:
    bundle = tiny_bundle
    checks = verify_bundle(bundle, "onnxruntime", tmp_path / "cache")
    assert [c.role for c in checks] == ["encoder", "policy"]
    for check in checks:
        assert check.passed, check.failures
        assert check.backend == "onnxruntime"
        assert check.samples == 4
        assert check.tolerance == bundle.manifest.roles[check.role].tolerance
        assert check.cosine_min > 0.9999  # the same graph on the same backend as at export
        assert check.fp32_cosine_min is not None
        assert check.fp32_cosine_min > 0.9  # INT8 / FP16 against the FP32 original
        assert set(check.to_dict()) == GATE_ROLE_KEYS
    report = json.loads(bundle.path("reports/accuracy.json").read_text())
    assert all(set(r) == GATE_ROLE_KEYS for r in report["roles"].values())


def test_exp_verify_tolerances_are_the_gate_thresholds() -> None:
    golden = {"latent": np.ones((3, 1, 4))}
    device = {"latent": np.ones((3, 1, 4)) * 1.02}
    tolerance = {"cosine_min": 0.999, "max_abs": 0.01}
    result = evaluate_role("encoder", "int8", golden, device, tolerance_thresholds(tolerance))
    assert result.failures == ["encoder.latent max abs error 0.02 > 0.01"]
    assert result.max_abs == pytest.approx(0.02)
    # A manifest without tolerances checks nothing (older bundles).
    assert evaluate_role("encoder", "int8", golden, device, tolerance_thresholds({})).passed
