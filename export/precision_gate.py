"""The output gate for a role's extra precision variants, on the same held-out data.

A variant (`models/<role>.<precision>.onnx`, written by `export.mixed_precision`) enters the
manifest only if it passes the role's thresholds against FP32 on the held-out observations the
main gate used; a failing variant is deleted, so the device can only ever choose graphs that
passed. What was measured goes to `reports/variants.json`. With `auto_mixed` the FP32
original (`reference/`) is listed too, as the baseline the device times the others against.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import (
    FP32_REFERENCE,
    VARIANT_BACKENDS,
    ActionSpec,
    VariantSpec,
)
from export.accuracy import evaluate_role
from export.config import ExportConfig
from export.gate import GateOutcome
from export.ort_session import open_session, run


def gate_variants(
    stage: Path, gate: GateOutcome, config: ExportConfig, action: ActionSpec
) -> dict[str, tuple[VariantSpec, ...]]:
    """Variants that passed, by role; failing files are removed from the stage."""
    action_role, _, action_name = action.output.partition(".")
    passed: dict[str, list[VariantSpec]] = {}
    report: dict[str, dict[str, object]] = {}
    for path in sorted((stage / "models").glob("*.*.onnx")):
        role, precision = path.name.split(".")[:2]
        if precision not in VARIANT_BACKENDS or role not in gate.held_out_feeds:
            continue
        session = open_session(path, threads=1)
        outputs = [run(session, feed) for feed in gate.held_out_feeds[role].feeds()]
        stacked = {k: np.stack([o[k] for o in outputs]) for k in outputs[0]}
        result = evaluate_role(
            role,
            precision,
            gate.held_out_fp32[role],
            stacked,
            config.gate(role),
            action_output=action_name if role == action_role else None,
            limits_rad=action.limits_rad,
        )
        report[f"{role}.{precision}"] = result.to_dict()
        if result.passed:
            passed.setdefault(role, []).append(VariantSpec(f"models/{path.name}", precision))
        else:
            path.unlink()
    # With auto_mixed the float original is every quantized role's baseline on the device,
    # so a role whose variants all failed still never runs slower than FP32 there.
    for result in gate.results if config.auto_mixed else ():
        if result.role in gate.held_out_feeds and result.precision != "fp32":
            reference = VariantSpec(FP32_REFERENCE.format(role=result.role), "fp32")
            passed.setdefault(result.role, []).append(reference)
    if report:
        target = stage / "reports" / "variants.json"
        target.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {role: tuple(found) for role, found in passed.items()}
