"""Engine cache keys, sidecar staleness and build planning: the logic around TensorRT calls."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines.trt_cache import (
    DeviceInfo,
    StaleEngineError,
    check_engine,
    engine_path,
    find_engine,
    precision_flags,
    read_l4t_release,
    stale_engines,
    write_sidecar,
)
from edge_runtime.file_hash import sha256_file
from export.errors import ExportError
from export.trt_build import (
    DEFAULT_WORKSPACE_MB,
    ProgressPrinter,
    builder_flags,
    check_workspace,
    network_flags,
    plan_builds,
)

ORIN = DeviceInfo("10.3.0.30", "Orin (nvgpu)", "8.7", "R36.4.3")


def _fake_build(path: Path, sha: str, device: DeviceInfo, flags: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"serialized engine bytes")
    write_sidecar(path, sha, device, flags)


def test_exp_engine_path_follows_design_layout(tmp_path: Path) -> None:
    path = engine_path(tmp_path, "ab" * 32, ORIN, precision_flags("int8"))
    assert path.parent == tmp_path / ("ab" * 32)
    assert path.name == "10.3.0.30-Orin_nvgpu-sm87-R36.4.3-int8_fp16.engine"
    assert precision_flags("fp16") == "fp16"
    with pytest.raises(Exception, match="int4"):
        precision_flags("int4")


def test_exp_l4t_release_parsing(tmp_path: Path) -> None:
    release = tmp_path / "nv_tegra_release"
    release.write_text(
        "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, "
        "DATE: Wed Jan  8 01:49:37 UTC 2025\n"
    )
    assert read_l4t_release(release) == "R36.4.3"
    assert read_l4t_release(tmp_path / "missing") == "none"
    release.write_text("something else\n")
    assert read_l4t_release(release) == "unknown"


def test_exp_stale_engine_is_detected_never_loaded(tmp_path: Path) -> None:
    onnx = tmp_path / "policy.onnx"
    onnx.write_bytes(b"graph")
    sha = sha256_file(onnx)
    flags = precision_flags("int8")
    path = engine_path(tmp_path / "cache", sha, ORIN, flags)
    _fake_build(path, sha, ORIN, flags)
    assert find_engine(tmp_path / "cache", onnx, "int8", device=ORIN) == path

    # Same file name, but the sidecar says another TensorRT patch built it.
    patched = dataclasses.replace(ORIN, tensorrt="10.3.0.26")
    write_sidecar(path, sha, patched, flags)
    with pytest.raises(StaleEngineError, match=r"tensorrt '10\.3\.0\.26'"):
        check_engine(path, sha, ORIN, flags)

    # An upgrade changes the key: the old engine is not found, and is listed for cleanup.
    _fake_build(path, sha, ORIN, flags)
    upgraded = dataclasses.replace(ORIN, l4t="R36.5.0", tensorrt="10.3.0.31")
    with pytest.raises(StaleEngineError, match="edgerun build"):
        find_engine(tmp_path / "cache", onnx, "int8", device=upgraded)
    assert stale_engines(tmp_path / "cache", sha, upgraded, flags) == [path]

    # A half-written or modified engine does not match its sidecar hash.
    path.write_bytes(b"truncated")
    with pytest.raises(StaleEngineError, match="sidecar hash"):
        check_engine(path, sha, ORIN, flags)
    path.with_suffix(".json").unlink()
    with pytest.raises(StaleEngineError, match="no complete TensorRT engine"):
        check_engine(path, sha, ORIN, flags)


def test_exp_find_engine_uses_the_verified_sha_without_rehashing(tmp_path: Path) -> None:
    sha = "cd" * 32  # what a manifest records; the file behind it was verified by open_bundle
    flags = precision_flags("fp16")
    path = engine_path(tmp_path / "cache", sha, ORIN, flags)
    _fake_build(path, sha, ORIN, flags)
    # The ONNX path is never read when the digest is given (here it does not even exist).
    absent = tmp_path / "not-read.onnx"
    assert find_engine(tmp_path / "cache", absent, "fp16", ORIN, onnx_sha256=sha) == path
    with pytest.raises(FileNotFoundError):
        find_engine(tmp_path / "cache", absent, "fp16", ORIN)


def test_exp_plan_builds_reuses_valid_and_rebuilds_stale(
    tmp_path: Path, tiny_bundle: Bundle
) -> None:
    bundle = tiny_bundle
    cache = tmp_path / "cache"
    jobs = {j.role: j for j in plan_builds(bundle, cache, ORIN)}
    assert {r: j.status for r, j in jobs.items()} == {"encoder": "missing", "policy": "missing"}
    assert jobs["encoder"].flags == "int8_fp16"
    assert jobs["policy"].flags == "fp16"
    assert jobs["encoder"].onnx_sha256 == bundle.manifest.files["models/encoder.onnx"]
    assert jobs["policy"].timing_cache.suffix == ".timing"

    enc = jobs["encoder"]
    _fake_build(enc.engine, enc.onnx_sha256, ORIN, enc.flags)
    pol = jobs["policy"]
    _fake_build(pol.engine, pol.onnx_sha256, dataclasses.replace(ORIN, gpu_name="x"), pol.flags)
    again = {j.role: j for j in plan_builds(bundle, cache, ORIN)}
    assert again["encoder"].status == "cached"
    assert not again["encoder"].needs_build
    assert again["policy"].status.startswith("stale:")
    assert again["policy"].needs_build
    forced = plan_builds(bundle, cache, ORIN, force=True)
    assert all(j.needs_build for j in forced)


def test_exp_int8_graphs_build_with_fp16_float_parts() -> None:
    """TensorRT 10.3's enums as plain values: what `compile_engine` passes to the builder."""
    from types import SimpleNamespace

    trt = SimpleNamespace(
        BuilderFlag=SimpleNamespace(FP16="FP16", INT8="INT8"),
        NetworkDefinitionCreationFlag=SimpleNamespace(STRONGLY_TYPED=5),
    )
    assert builder_flags(trt, "int8") == ["INT8", "FP16"]  # float parts of Q/DQ graphs in FP16
    assert builder_flags(trt, "fp16") == ["FP16"]
    assert builder_flags(trt, "fp32") == []
    # Weakly typed: a strongly typed network would ignore the FP16 flag and run float in FP32.
    assert all(network_flags(trt, p) == 0 for p in ("int8", "fp16", "fp32"))


def test_exp_workspace_default_fits_8gb_boards() -> None:
    assert check_workspace(DEFAULT_WORKSPACE_MB) <= 2048
    with pytest.raises(ExportError, match="out of range"):
        check_workspace(32)
    with pytest.raises(ExportError, match="out of range"):
        check_workspace(1 << 20)


def test_exp_progress_prints_top_level_phases_with_elapsed_time() -> None:
    lines: list[str] = []
    printer = ProgressPrinter(lines.append, started=0.0)
    printer.phase_start("Building engine", None, 3)
    printer.phase_start("Tactic timing", "Building engine", 40)
    assert printer.step_complete("Tactic timing", 1) is True
    printer.phase_finish("Tactic timing")
    assert len(lines) == 1
    assert "Building engine (3 steps)" in lines[0]
    assert " s]" in lines[0]


@pytest.mark.hardware
@pytest.mark.skipif(
    importlib.util.find_spec("tensorrt") is None, reason="needs TensorRT (a Jetson)"
)
def test_exp_build_and_verify_on_tensorrt(tmp_path: Path, tiny_bundle: Bundle) -> None:
    from edge_runtime.engines.trt_cache import probe
    from export.trt_build import compile_engine
    from export.verify import verify_bundle

    bundle = tiny_bundle
    device = probe()
    for job in plan_builds(bundle, tmp_path / "cache", device):
        compile_engine(job, device, DEFAULT_WORKSPACE_MB, print)
        check_engine(job.engine, job.onnx_sha256, device, job.flags)
        assert job.timing_cache.stat().st_size > 0
    checks = verify_bundle(bundle, "tensorrt", tmp_path / "cache")
    assert all(c.passed for c in checks), [c.failures for c in checks]
