"""`edgerun verify BUNDLE`: run each role's golden inputs on this device's backend, compare.

The golden outputs come from the bundled graph in ONNX Runtime at export, so this proves the
device engine (TensorRT on a Jetson, ONNX Runtime elsewhere) computes the same function within
the manifest's per-role tolerances. The bundle's hashes and signature are checked first: a
tampered bundle is refused before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_runtime.bundle.reader import Bundle
from export.accuracy import cosine_per_sample
from export.golden import Golden, load_golden


@dataclass
class RoleCheck:
    role: str
    precision: str
    backend: str
    samples: int
    cosine_min: float
    max_abs: float
    tolerance: dict[str, float]
    fp32_cosine_min: float | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def verify_bundle(bundle: Bundle, backend: str, engine_cache: str | Path) -> list[RoleCheck]:
    """One `RoleCheck` per role with golden data; engines are opened and closed here."""
    from edge_runtime.engines import open_engine, select_backend

    chosen = select_backend(backend)
    checks = []
    for role, spec in bundle.manifest.roles.items():
        if not spec.golden:
            continue
        golden = load_golden(bundle.path(spec.golden))
        with open_engine(
            bundle.path(spec.file), chosen, precision=spec.precision, engine_cache=engine_cache
        ) as engine:
            produced = [
                engine.infer({k: v[i] for k, v in golden.inputs.items()})
                for i in range(len(golden))
            ]
        checks.append(_compare(role, spec.precision, chosen, golden, produced, spec.tolerance))
    return checks


def _compare(
    role: str,
    precision: str,
    backend: str,
    golden: Golden,
    produced: list[dict[str, np.ndarray]],
    tolerance: dict[str, float],
) -> RoleCheck:
    cos_min, max_abs, fp32_cos = 1.0, 0.0, None
    for name, expected in golden.outputs.items():
        actual = np.stack([p[name] for p in produced]).astype(np.float64)
        cos_min = min(cos_min, float(cosine_per_sample(expected, actual).min()))
        max_abs = max(max_abs, float(np.max(np.abs(expected - actual))))
        if name in golden.fp32:
            c = float(cosine_per_sample(golden.fp32[name], actual).min())
            fp32_cos = c if fp32_cos is None else min(fp32_cos, c)
    check = RoleCheck(
        role, precision, backend, len(golden), cos_min, max_abs, dict(tolerance), fp32_cos
    )
    if "cosine_min" in tolerance and cos_min < tolerance["cosine_min"]:
        check.failures.append(f"{role}: cosine {cos_min:.5f} < {tolerance['cosine_min']}")
    if "max_abs" in tolerance and max_abs > tolerance["max_abs"]:
        check.failures.append(f"{role}: max abs error {max_abs:.4g} > {tolerance['max_abs']}")
    return check
