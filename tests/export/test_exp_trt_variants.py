"""TensorRT variant choice: candidates, cache keys and the choice from measured engine times.

The logic around the TensorRT calls, tested without TensorRT: `edgerun build` plans an engine
per candidate TensorRT can run (never `int8_ort`), times them, and caches the fastest where
`run` (`choose_variant`) finds it, keyed by the device.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from edge_runtime.bundle.manifest import FP32_REFERENCE, VariantSpec
from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines.trt_cache import DeviceInfo
from edge_runtime.engines.variant_choice import choice_path, choose_variant, role_candidates
from export.trt_build import plan_builds
from export.trt_variants import choose_engines

ORIN = DeviceInfo("10.3.0.30", "Orin (nvgpu)", "8.7", "R36.4.3")
ORT_VARIANT = "models/policy.int8_ort.onnx"


@pytest.fixture
def variant_bundle(tiny_bundle: Bundle) -> Bundle:
    """The tiny bundle (encoder INT8, policy FP16) whose policy also lists an ORT-only INT8
    graph and its FP32 original, as an `auto_mixed` export writes them."""
    manifest = tiny_bundle.manifest
    variants = (VariantSpec(ORT_VARIANT, "int8_ort"), VariantSpec(FP32_REFERENCE.format(
        role="policy"), "fp32"))  # fmt: skip
    roles = {**manifest.roles, "policy": dataclasses.replace(manifest.roles["policy"],
                                                             variants=variants)}  # fmt: skip
    files = {**manifest.files, ORT_VARIANT: "ab" * 32}
    return dataclasses.replace(
        tiny_bundle, manifest=dataclasses.replace(manifest, roles=roles, files=files)
    )


def test_exp_tensorrt_candidates_leave_out_int8_ort(variant_bundle: Bundle) -> None:
    on_trt = role_candidates(variant_bundle, "policy", "tensorrt")
    assert [(c.file, c.precision) for c in on_trt] == [
        ("models/policy.onnx", "fp16"),
        ("reference/policy.fp32.onnx", "fp32"),
    ]
    on_ort = role_candidates(variant_bundle, "policy", "onnxruntime")
    assert ORT_VARIANT in [c.file for c in on_ort]
    jobs = plan_builds(variant_bundle, Path("/nonexistent-cache"), ORIN)
    assert [(j.role, j.precision, j.flags) for j in jobs] == [
        ("encoder", "int8", "int8_fp16"),  # no variants: only the model, as before
        ("policy", "fp16", "fp16"),
        ("policy", "fp32", "fp32"),
    ]
    assert len({j.engine for j in jobs}) == 3
    assert all(j.status == "missing" for j in jobs)


def test_exp_tensorrt_choice_is_keyed_by_device(variant_bundle: Bundle, tmp_path: Path) -> None:
    candidates = role_candidates(variant_bundle, "policy", "tensorrt")
    path = choice_path(tmp_path, "tensorrt", candidates, 1, ORIN)
    assert path == choice_path(tmp_path, "tensorrt", candidates, 4, ORIN)  # threads: ORT only
    upgraded = dataclasses.replace(ORIN, tensorrt="10.7.0.23")
    assert path != choice_path(tmp_path, "tensorrt", candidates, 1, upgraded)
    assert path != choice_path(tmp_path, "tensorrt", candidates, 1, dataclasses.replace(
        ORIN, gpu_name="Xavier"))  # fmt: skip
    assert path != choice_path(tmp_path, "onnxruntime", candidates, 1)
    assert path != choice_path(tmp_path, "tensorrt", candidates[:1], 1, ORIN)


def test_exp_build_times_engines_and_run_uses_the_fastest(
    variant_bundle: Bundle, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    jobs = plan_builds(variant_bundle, cache, ORIN)
    # Before `build` has timed anything, `run` opens the manifest's model.
    before = choose_variant(variant_bundle, "policy", "tensorrt", cache, device=ORIN)
    assert before.file == "models/policy.onnx"
    seconds = {j.engine: 2e-4 if j.precision == "fp16" else 1e-4 for j in jobs}
    lines: list[str] = []
    chosen = choose_engines(variant_bundle, cache, ORIN, jobs, lines.append,
                            measure=lambda files: [seconds[f] for f in files])  # fmt: skip
    assert set(chosen) == {"policy"}  # the encoder has nothing to choose from
    assert chosen["policy"].precision == "fp32"
    assert "fp16 0.200 ms, fp32 0.100 ms" in lines[-1]
    after = choose_variant(variant_bundle, "policy", "tensorrt", cache, device=ORIN)
    assert after == chosen["policy"]

    def untimed(files: list[Path]) -> list[float]:
        raise AssertionError("a cached choice is not timed again")

    again = choose_engines(variant_bundle, cache, ORIN, jobs, lines.append, measure=untimed)
    assert again == chosen
    seconds = {j.engine: 1e-4 if j.precision == "fp16" else 2e-4 for j in jobs}
    forced = choose_engines(variant_bundle, cache, ORIN, jobs, lines.append, force=True,
                            measure=lambda files: [seconds[f] for f in files])  # fmt: skip
    assert forced["policy"].precision == "fp16"
    # Another device (a TensorRT upgrade) has no choice yet: the model until it is timed.
    other = dataclasses.replace(ORIN, tensorrt="10.7.0.23")
    assert choose_variant(variant_bundle, "policy", "tensorrt", cache, device=other).file == (
        "models/policy.onnx"
    )


@pytest.mark.hardware
@pytest.mark.skipif(
    importlib.util.find_spec("tensorrt") is None, reason="needs TensorRT (a Jetson)"
)
def test_exp_build_chooses_among_real_engines(tmp_path: Path, tiny_bundle: Bundle) -> None:
    """On the Jetson: every candidate's engine is built, timed, and the choice opens."""
    from edge_runtime.engines import open_engine
    from edge_runtime.engines.trt_cache import probe
    from export.trt_build import build_engines

    manifest = tiny_bundle.manifest
    spec = dataclasses.replace(manifest.roles["policy"], variants=(VariantSpec(
        FP32_REFERENCE.format(role="policy"), "fp32"),))  # fmt: skip
    bundle = dataclasses.replace(tiny_bundle, manifest=dataclasses.replace(
        manifest, roles={**manifest.roles, "policy": spec}))  # fmt: skip
    build_engines(bundle, tmp_path / "cache", print)
    cache = tmp_path / "cache"
    chosen = choose_variant(bundle, "policy", "tensorrt", cache, device=probe())
    opened = open_engine(bundle.path(chosen.file), "tensorrt", precision=chosen.precision,
                         engine_cache=cache, onnx_sha256=chosen.sha256)  # fmt: skip
    with opened as engine:
        assert engine.outputs
