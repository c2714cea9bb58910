"""What `selftest` and `deploy` (edge_runtime.field) take from the export toolchain.

edge_runtime never imports export (the package DAG is one-way), so its selftest and deploy
take these two steps as plug-ins: golden parity is `verify`'s comparison, one check per role;
the engine build is `build`'s, for TensorRT (ONNX Runtime has nothing to build).
"""

from __future__ import annotations

from pathlib import Path

from edge_runtime.bundle.reader import Bundle
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.field.deploy import DeviceSteps, Echo
from edge_runtime.field.selftest_report import Check
from export.verify import verify_bundle


def golden_parity(bundle: Bundle, backend: str, engine_cache: str) -> list[Check]:
    """One check per role and variant: golden inputs on this device's engine, in tolerance."""
    try:
        results = verify_bundle(bundle, backend, engine_cache)
    except EdgeRuntimeError as exc:
        return [Check("golden parity", "fail", str(exc))]
    if not results:
        return [Check("golden parity", "warn", "the bundle has no golden data to compare")]
    checks = []
    for r in results:
        tolerance = ", ".join(f"{k} {v:g}" for k, v in sorted(r.tolerance.items())) or "none"
        detail = (
            f"{r.backend}, {r.samples} samples: cosine min {r.cosine_min:.6f}, max abs "
            f"{r.max_abs:.3g} (tolerance {tolerance})"
        )
        if r.failures:
            detail += f"; {'; '.join(r.failures)}"
        values = {"cosine_min": r.cosine_min, "max_abs": r.max_abs, "samples": r.samples}
        name = f"parity {r.role}" + (f" {r.precision} variant" if r.against == "fp32" else "")
        checks.append(Check(name, "ok" if r.passed else "fail", detail, values))
    return checks


def build_engines(bundle: Bundle, backend: str, engine_cache: str, echo: Echo) -> None:
    """TensorRT engines for this device (cached: a valid engine is not rebuilt)."""
    if backend != "tensorrt":
        echo(f"{backend}: no engines to build")
        return
    from export.trt_build import build_engines as build_trt_engines

    build_trt_engines(bundle, Path(engine_cache).expanduser(), echo)


DEVICE_STEPS = DeviceSteps(build_engines=build_engines, golden_parity=golden_parity)
