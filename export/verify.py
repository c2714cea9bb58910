"""`edgerun verify BUNDLE`: run each role's golden inputs on this device's backend, compare.

The golden outputs come from the bundled graph in ONNX Runtime at export, so this proves the
device engine (TensorRT on a Jetson, ONNX Runtime elsewhere) computes the same function within
the manifest's per-role tolerances. The bundle's hashes and signature are checked first: a
tampered bundle is refused before anything runs. The comparison is the export gate's
(`evaluate_role`), with the manifest's tolerances as its thresholds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from edge_runtime.bundle.reader import Bundle
from export.accuracy import RoleAccuracy, evaluate_role, output_fidelity
from export.config import GateThresholds
from export.golden import load_golden

NO_LIMIT_COSINE = -1.0  # the lowest cosine there is: a tolerance without this key checks nothing


def tolerance_thresholds(tolerance: Mapping[str, float]) -> GateThresholds:
    """The manifest's `cosine_min` / `max_abs` tolerances as gate thresholds (others off)."""
    return GateThresholds(
        cosine_mean=NO_LIMIT_COSINE,
        cosine_min=tolerance.get("cosine_min", NO_LIMIT_COSINE),
        max_abs=tolerance.get("max_abs"),
        action_error=math.inf,
    )


def verify_bundle(bundle: Bundle, backend: str, engine_cache: str | Path) -> list[RoleAccuracy]:
    """One `RoleAccuracy` per role with golden data; engines are opened and closed here."""
    from edge_runtime.engines import open_engine, select_backend

    chosen = select_backend(backend)
    checks = []
    for role, spec in bundle.manifest.roles.items():
        if not spec.golden:
            continue
        golden = load_golden(bundle.path(spec.golden))
        with open_engine(
            bundle.path(spec.file),
            chosen,
            precision=spec.precision,
            engine_cache=engine_cache,
            onnx_sha256=bundle.manifest.files[spec.file],
        ) as engine:
            produced = [
                engine.infer({k: v[i] for k, v in golden.inputs.items()})
                for i in range(len(golden))
            ]
        actual = {name: np.stack([p[name] for p in produced]) for name in golden.outputs}
        check = evaluate_role(
            role, spec.precision, golden.outputs, actual, tolerance_thresholds(spec.tolerance)
        )
        fp32_cosines = [
            output_fidelity(golden.fp32[name], actual[name]).cosine_min
            for name in golden.outputs
            if name in golden.fp32
        ]
        checks.append(
            dataclasses.replace(
                check,
                backend=chosen,
                tolerance=dict(spec.tolerance),
                fp32_cosine_min=min(fp32_cosines, default=None),
            )
        )
    return checks
