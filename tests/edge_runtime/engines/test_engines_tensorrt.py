"""TensorRT behind BundlePolicy, against ONNX Runtime on the same frame (Jetson only).

Run on the device with `pytest -m hardware`. Here the non-hardware test checks the one thing
that must hold everywhere: asking for TensorRT where it is absent is one clear sentence.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from runtime_bundles import random_frame, write_tiny_bundle

from edge_runtime.bundle import open_bundle
from edge_runtime.engines import select_backend, tensorrt_available
from edge_runtime.errors import BackendUnavailableError
from edge_runtime.pipeline.policy import BundlePolicy


@pytest.mark.skipif(tensorrt_available(), reason="TensorRT is installed here")
def test_tensorrt_absent_is_one_sentence() -> None:
    assert select_backend("auto") == "onnxruntime"
    with pytest.raises(BackendUnavailableError, match=r"backend = \"onnxruntime\""):
        select_backend("tensorrt")


@pytest.mark.hardware
@pytest.mark.skipif(
    importlib.util.find_spec("tensorrt") is None, reason="needs TensorRT (a Jetson)"
)
def test_tensorrt_policy_matches_onnxruntime(tmp_path: Path) -> None:
    from edge_runtime.engines.trt_cache import probe
    from export.trt_build import DEFAULT_WORKSPACE_MB, compile_engine, plan_builds

    bundle = open_bundle(write_tiny_bundle(tmp_path / "bundle"), development_mode=True)
    device = probe()
    for job in plan_builds(bundle, tmp_path / "cache", device):
        compile_engine(job, device, DEFAULT_WORKSPACE_MB, print)
    joints = np.array([0.1, -0.2, 0.3])
    reference = BundlePolicy(bundle, backend="onnxruntime").act(random_frame(), joints)
    policy = BundlePolicy(bundle, backend="tensorrt", engine_cache=str(tmp_path / "cache"))
    try:
        np.testing.assert_allclose(policy.act(random_frame(), joints), reference, atol=1e-3)
    finally:
        policy.close()
