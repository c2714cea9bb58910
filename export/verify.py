"""`edgerun verify BUNDLE`: run each role's golden inputs on this device's backend, compare.

The golden outputs come from the bundled graph in ONNX Runtime at export, so this proves the
device engine (TensorRT on a Jetson, ONNX Runtime elsewhere) computes the same function within
the manifest's per-role tolerances; each precision variant the device may choose instead is
checked too, against the FP32 outputs (`verify_bundle`). The bundle's hashes and signature
are checked first: a tampered bundle is refused before anything runs. The comparison is the
export gate's (`evaluate_role`), with the manifest's tolerances as its thresholds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines.variant_choice import Candidate
from export.accuracy import RoleAccuracy, evaluate_role, output_fidelity
from export.bundle_writer import golden_tolerance
from export.config import GateThresholds
from export.golden import Golden, load_golden

# The tolerance class of a variant precision that has no row in `golden_tolerance`.
TOLERANCE_AS = {"int8_ort": "int8"}
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
    """One `RoleAccuracy` per role and candidate graph; engines are opened and closed here.

    Every graph the device may choose for a role on this backend is checked
    (`variant_choice.role_candidates`): the manifest's model against its golden outputs with
    the manifest's tolerance; each variant and the FP32 original against the golden FP32
    outputs (the only reference a variant has), allowed its precision's tolerance
    (`golden_tolerance`; `int8_ort` as INT8). On TensorRT a variant's engine exists once
    `edgerun build` has built it.
    """
    from edge_runtime.engines import select_backend
    from edge_runtime.engines.variant_choice import role_candidates

    chosen = select_backend(backend)
    checks = []
    for role, spec in bundle.manifest.roles.items():
        if not spec.golden:
            continue
        golden = load_golden(bundle.path(spec.golden))
        for candidate in role_candidates(bundle, role, chosen):
            if candidate.file == spec.file:
                expected, against, tolerance = golden.outputs, "golden", dict(spec.tolerance)
            elif golden.fp32:
                expected, against = golden.fp32, "fp32"
                kind = TOLERANCE_AS.get(candidate.precision, candidate.precision)
                tolerance = golden_tolerance(kind, golden.fp32)
            else:
                continue  # no FP32 outputs to judge a variant by (bundles before variants)
            actual = _run(bundle, candidate, chosen, engine_cache, golden)
            check = evaluate_role(
                role, candidate.precision, expected, actual, tolerance_thresholds(tolerance)
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
                    tolerance=tolerance,
                    fp32_cosine_min=min(fp32_cosines, default=None),
                    against=against,
                )
            )
    return checks


def _run(
    bundle: Bundle, candidate: Candidate, backend: str, engine_cache: str | Path, golden: Golden
) -> dict[str, np.ndarray]:
    """The candidate's outputs on the golden inputs, stacked like the golden outputs."""
    from edge_runtime.engines import open_engine

    with open_engine(
        bundle.path(candidate.file),
        backend,
        precision=candidate.precision,
        engine_cache=engine_cache,
        onnx_sha256=candidate.sha256,
    ) as engine:
        produced = [
            engine.infer({k: v[i] for k, v in golden.inputs.items()}) for i in range(len(golden))
        ]
    return {name: np.stack([p[name] for p in produced]) for name in golden.outputs}
