"""The accuracy gate: quantize every role, then compare it with FP32 on held-out observations.

Observations are split once (tail held out), the same split for every role. Each role is
calibrated on the inputs the FP32 chain feeds it, then judged on its own held-out inputs; a
`pipeline` entry also judges the action end to end (quantized encoder -> quantized policy),
because errors compound along the chain and the robot only sees the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bundle.manifest import ActionSpec, TensorEntry
from export.accuracy import RoleAccuracy, evaluate_role
from export.chain import RunFn, run_chain
from export.config import ExportConfig
from export.ort_session import open_session, run
from export.quantize import quantize
from export.report import write_accuracy_json, write_accuracy_png
from export.samples import Samples, stack_feeds


@dataclass
class GateOutcome:
    results: list[RoleAccuracy]
    held_out_feeds: dict[str, Samples]
    held_out_fp32: dict[str, dict[str, np.ndarray]]
    held_out_quant: dict[str, dict[str, np.ndarray]]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        return [f for r in self.results for f in r.failures]

    @property
    def passed(self) -> bool:
        return not self.failures


def run_gate(
    stage: Path,
    roles: Mapping[str, Any],
    entries: Mapping[str, tuple[TensorEntry, ...]],
    precision: Mapping[str, str],
    observations: Samples,
    action: ActionSpec,
    config: ExportConfig,
    fp32_run: Mapping[str, RunFn],
    quantize_fn: Callable[..., Any] = quantize,
) -> GateOutcome:
    """Quantize into `stage/models/`, write `stage/reports/`, and return what was measured."""
    t0 = time.perf_counter()
    n = len(observations)
    held = max(1, round(n * config.held_out_fraction))
    calib_count = n - held
    feeds, fp32_out = _run_all(fp32_run, entries, observations)
    t1 = time.perf_counter()
    quant_run: dict[str, RunFn] = {}
    for role, src in roles.items():
        target = stage / "models" / f"{role}.onnx"
        target.parent.mkdir(parents=True, exist_ok=True)
        calibration = Samples({k: v[:calib_count] for k, v in feeds[role].arrays.items()})
        quantize_fn(
            Path(src.onnx),
            target,
            precision[role],
            calibration,
            config.float_ops,
            config.float_nodes,
            config.float_outputs,
        )
        session = open_session(target, threads=1)
        quant_run[role] = lambda feed, s=session: run(s, feed)
    t2 = time.perf_counter()

    held_feeds = {
        r: Samples({k: v[calib_count:] for k, v in s.arrays.items()}) for r, s in feeds.items()
    }
    held_fp32 = {r: {k: v[calib_count:] for k, v in o.items()} for r, o in fp32_out.items()}
    held_quant = {r: _stack([quant_run[r](f) for f in held_feeds[r].feeds()]) for r in roles}
    action_role, _, action_name = action.output.partition(".")
    results = [
        evaluate_role(
            role,
            precision[role],
            held_fp32[role],
            held_quant[role],
            config.gate(role),
            action_output=action_name if role == action_role else None,
            limits_rad=action.limits_rad,
        )
        for role in roles
    ]
    if action_role in roles and any(precision[r] != "fp32" for r in roles):
        held_obs = Samples({k: v[calib_count:] for k, v in observations.arrays.items()})
        _, pipe_out = _run_all(quant_run, entries, held_obs)
        results.append(
            evaluate_role(
                "pipeline",
                "+".join(f"{r}:{precision[r]}" for r in roles),
                {action_name: held_fp32[action_role][action_name]},
                {action_name: pipe_out[action_role][action_name]},
                config.gate(action_role),
                action_output=action_name,
                limits_rad=action.limits_rad,
            )
        )
    t3 = time.perf_counter()
    seconds = {"fp32_chain": t1 - t0, "quantize": t2 - t1, "compare": t3 - t2}
    extra = {"samples": {"calibration": calib_count, "held_out": held}, "seconds": seconds}
    write_accuracy_json(stage / "reports" / "accuracy.json", results, config, extra)
    write_accuracy_png(stage / "reports" / "accuracy.png", results, config)
    return GateOutcome(results, held_feeds, held_fp32, held_quant, seconds)


def _run_all(
    runners: Mapping[str, RunFn],
    entries: Mapping[str, tuple[TensorEntry, ...]],
    observations: Samples,
) -> tuple[dict[str, Samples], dict[str, dict[str, np.ndarray]]]:
    """Run the chain over every observation: stacked feeds and outputs per role."""
    per_role_feeds: dict[str, list[dict[str, np.ndarray]]] = {r: [] for r in entries}
    per_role_out: dict[str, list[dict[str, np.ndarray]]] = {r: [] for r in entries}
    for obs in observations.feeds():
        feeds, values = run_chain(runners, entries, obs)
        for role, feed in feeds.items():
            per_role_feeds[role].append(feed)
            prefix = f"{role}."
            per_role_out[role].append(
                {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
            )
    return (
        {r: stack_feeds(f) for r, f in per_role_feeds.items()},
        {r: _stack(o) for r, o in per_role_out.items()},
    )


def _stack(outputs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.stack([o[k] for o in outputs]) for k in outputs[0]} if outputs else {}
