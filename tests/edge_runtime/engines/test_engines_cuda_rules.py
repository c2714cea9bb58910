"""The TensorRT path's call sequences, checked against pycuda's and TensorRT's rules.

The engine code under test is the real one; only `tensorrt` and `pycuda.driver` are the rules
model (`cuda_rules`, `trt_rules`). What this covers without a Jetson: the CUDA context stack
and thread ownership, retain/release pairing, buffer sizes and bindings, teardown order and
the bytes through every copy. What it cannot: TensorRT's kernels, real GPU memory, timing;
those are `pytest -m hardware` (test_engines_tensorrt.py) on the device.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cuda_rules
import numpy as np
import pytest
import trt_rules
from runtime_bundles import random_frame, write_tiny_bundle

from edge_runtime.bundle import Bundle, open_bundle
from edge_runtime.engines.tensorrt_engine import TensorRTEngine
from edge_runtime.engines.trt_cache import (
    engine_path,
    precision_flags,
    probe,
    write_sidecar,
)
from edge_runtime.errors import EngineError
from edge_runtime.pipeline.policy import BundlePolicy

ORT_TYPES = {"tensor(float)": "float32", "tensor(int64)": "int64", "tensor(float16)": "float16"}
ACTIVATION_BYTES = 4096


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[cuda_rules.CudaModel]:
    state = cuda_rules.reset()
    for name, module in trt_rules.modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    yield state
    assert not state.violations, state.violations


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return open_bundle(write_tiny_bundle(tmp_path / "bundle"), development_mode=True)


def build_engines(bundle: Bundle, cache: Path) -> dict[str, Path]:
    """What `edgerun build` leaves in the cache, with the model's serialized engines."""
    import onnxruntime as ort

    device = probe()
    files = {}
    for role, spec in bundle.manifest.roles.items():
        onnx = bundle.path(spec.file)
        sha, flags = bundle.manifest.files[spec.file], precision_flags(spec.precision)
        session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
        io = [[[t.name, list(t.shape), ORT_TYPES[t.type]] for t in ts]
              for ts in (session.get_inputs(), session.get_outputs())]  # fmt: skip
        path = engine_path(cache, sha, device, flags)
        trt_rules.write_engine(path, onnx, io[0], io[1], ACTIVATION_BYTES)
        write_sidecar(path, sha, device, flags)
        files[role] = path
    return files


JOINTS = np.array([0.1, -0.2, 0.3])


def test_a_two_engine_bundle_shares_one_primary_context(model, bundle, tmp_path) -> None:
    cache = tmp_path / "cache"
    build_engines(bundle, cache)
    reference = BundlePolicy(bundle, backend="onnxruntime").act(random_frame(), JOINTS)
    policy = BundlePolicy(bundle, backend="tensorrt", engine_cache=str(cache))
    try:
        assert policy.backend == "tensorrt"
        assert model.primary_retains == 1  # two engines, one retained context
        gpu_bytes = {role: e.gpu_memory_bytes for role, e in policy.engines.items()}
        assert len(gpu_bytes) == 2
        assert all(n > 0 for n in gpu_bytes.values())
        # The run report's GPU memory per engine:
        assert policy.gpu_memory_mb() == {r: round(n / 1e6, 1) for r, n in gpu_bytes.items()}
        for _ in range(3):
            np.testing.assert_allclose(policy.act(random_frame(), JOINTS), reference, atol=1e-6)
            assert model.stack() == []  # nothing left current between calls
    finally:
        policy.close()
    model.assert_clean()


@pytest.mark.parametrize("order", [("encoder", "policy"), ("policy", "encoder")])
def test_engines_close_in_any_order(model, bundle, tmp_path, order) -> None:
    files = build_engines(bundle, tmp_path / "cache")
    engines = {role: TensorRTEngine(path) for role, path in files.items()}
    rgbd = np.ones((1, 4, 8, 8), np.float32)
    first, second = order
    engines[first].close()
    feeds = {"rgbd": rgbd} if second == "encoder" else {
        "latent4": np.ones((1, 4), np.float32), "joints": np.zeros((1, 3), np.float32)}  # fmt: skip
    assert engines[second].infer(feeds)  # the survivor still runs on the shared context
    assert model.primary_retains == 1
    engines[second].close()
    engines[second].close()  # idempotent
    model.assert_clean()


def test_another_librarys_context_is_neither_used_nor_popped(model, bundle, tmp_path) -> None:
    files = build_engines(bundle, tmp_path / "cache")
    foreign = cuda_rules.Device(0).make_context()  # pushed, as make_context does
    with TensorRTEngine(files["encoder"]) as engine:
        out = engine.infer({"rgbd": np.full((1, 4, 8, 8), 2.0, np.float32)})
        np.testing.assert_allclose(out["latent4"], np.full((1, 4), 2.0))
        assert cuda_rules.Context.get_current() is foreign
    assert model.stack() == [foreign]
    cuda_rules.Context.pop()
    foreign.detach()
    model.assert_clean()


def test_an_engine_refuses_other_threads(model, bundle, tmp_path) -> None:
    files = build_engines(bundle, tmp_path / "cache")
    engine = TensorRTEngine(files["encoder"])
    errors: list[BaseException] = []

    def elsewhere() -> None:
        for call in (lambda: engine.infer({"rgbd": np.ones((1, 4, 8, 8))}), engine.close):
            try:
                call()
            except EngineError as exc:
                errors.append(exc)

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert len(errors) == 2
    assert all("thread" in str(e) for e in errors)
    engine.close()  # the owner still closes it cleanly
    model.assert_clean()


def test_each_inference_thread_has_its_own_context(model, bundle, tmp_path) -> None:
    files = build_engines(bundle, tmp_path / "cache")
    opened = threading.Barrier(2)
    results: dict[str, np.ndarray] = {}

    def worker(name: str, value: float) -> None:
        with TensorRTEngine(files["encoder"]) as engine:
            opened.wait()  # both threads hold a retained primary context at once
            rgbd = np.full((1, 4, 8, 8), value, np.float32)
            results[name] = engine.infer({"rgbd": rgbd})["latent4"]

    threads = [threading.Thread(target=worker, args=(n, v)) for n, v in (("a", 1.0), ("b", 3.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_allclose(results["a"], 1.0)
    np.testing.assert_allclose(results["b"], 3.0)
    model.assert_clean()


def test_an_engine_that_will_not_load_releases_everything(model, tmp_path) -> None:
    bad = tmp_path / "other-version.engine"
    bad.write_bytes(b"\x00not an engine for this TensorRT")
    with pytest.raises(EngineError, match="edgerun build"):
        TensorRTEngine(bad)
    model.assert_clean()


def test_gpu_memory_per_engine_is_measured(model, bundle, tmp_path) -> None:
    files = build_engines(bundle, tmp_path / "cache")
    with TensorRTEngine(files["policy"]) as engine:
        io_bytes = 4 * (4 + 3 + 4 * 3)  # latent4, joints, actions: float32
        assert engine.gpu_memory_bytes == io_bytes + ACTIVATION_BYTES
        assert engine.context_memory_bytes == ACTIVATION_BYTES  # TensorRT's own figure
    model.assert_clean()


def test_auto_without_engines_runs_onnxruntime_with_one_loud_line(
    model, bundle, tmp_path, caplog
) -> None:
    with caplog.at_level(logging.WARNING):
        policy = BundlePolicy(bundle, backend="auto", engine_cache=str(tmp_path / "empty"))
    policy.close()
    assert policy.backend == "onnxruntime"
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1
    assert "edgerun build" in lines[0]
    assert "ONNX Runtime" in lines[0]
    model.assert_clean()


def test_auto_with_this_devices_engines_runs_tensorrt(model, bundle, tmp_path) -> None:
    cache = tmp_path / "cache"
    build_engines(bundle, cache)
    policy = BundlePolicy(bundle, backend="auto", engine_cache=str(cache))
    policy.close()
    assert policy.backend == "tensorrt"
    model.assert_clean()


def test_explicit_tensorrt_without_engines_refuses(model, bundle, tmp_path) -> None:
    with pytest.raises(EngineError, match="edgerun build"):
        BundlePolicy(bundle, backend="tensorrt", engine_cache=str(tmp_path / "empty"))
    model.assert_clean()


def test_the_rules_catch_the_old_per_engine_contexts(model, bundle, tmp_path) -> None:
    """The sequence the issue describes (a context per engine, pop of whatever is on top)."""
    files = build_engines(bundle, tmp_path / "cache")
    trt = sys.modules["tensorrt"]
    device = cuda_rules.Device(0)
    context_a = device.make_context()
    engine_a = trt.Runtime(None).deserialize_cuda_engine(files["encoder"].read_bytes())
    execution_a = engine_a.create_execution_context()
    context_b = device.make_context()  # the policy's engine stacks a second context
    stream = cuda_rules.Stream()
    with pytest.raises(cuda_rules.RuleViolation, match="T1"):
        execution_a.execute_async_v3(stream.handle)  # the encoder runs under B's context
    cuda_rules.Context.pop()  # A's close pops B (the top) ...
    with pytest.raises(cuda_rules.RuleViolation, match="P6"):
        context_a.detach()  # ... and detaches A while it is still on the stack
    assert len(model.violations) == 2
    model.violations.clear()
    del execution_a, engine_a  # tidy up, with A current as T1 wants
    cuda_rules.Context.pop()
    context_a.detach()
    context_b.detach()
    model.assert_clean()
