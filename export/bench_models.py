"""`edgerun bench models BUNDLE`: FP32 vs bundled (quantized) latency and fidelity per role.

Latency is ONNX Runtime on one intra-op thread (the robot's budget: the other core belongs to
the control loop), median and p99 over repeated runs of a golden input after a warm-up. A role
with precision variants runs whichever is fastest here (`engines.variant_choice`, as `run`
chooses it, from the same cache), so that graph is timed too ("runs"), beside FP32 and the
manifest's model; the ratio is the graph the robot runs over FP32.
Fidelity compares the bundled graph with the FP32 graph shipped in `reference/` on the golden
inputs, next to the held-out figures the export gate recorded in `reports/accuracy.json`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines import DEFAULT_ENGINE_CACHE
from edge_runtime.engines.variant_choice import choose_variant
from export.accuracy import action_fidelity, output_fidelity
from export.bundle_writer import FP32_REFERENCE
from export.golden import load_golden
from export.ort_session import open_session, run


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p99_ms: float
    runs: int


@dataclass
class RoleBench:
    role: str
    precision: str
    fp32: Latency
    bundled: Latency
    fidelity: dict[str, Any] = field(default_factory=dict)
    export_gate: dict[str, Any] = field(default_factory=dict)
    runs_precision: str = ""  # the variant `run` chooses on ONNX Runtime here
    runs: Latency | None = None  # its latency (the same figure when it is FP32 or the model)

    @property
    def ratio(self) -> float:
        """What the robot runs over FP32."""
        chosen = self.runs or self.bundled
        return chosen.median_ms / self.fp32.median_ms if self.fp32.median_ms else 0.0


def time_session(session: Any, feed: dict[str, np.ndarray], runs: int, warmup: int) -> Latency:
    names = [o.name for o in session.get_outputs()]
    for _ in range(warmup):
        session.run(names, feed)
    samples = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter_ns()
        session.run(names, feed)
        samples[i] = (time.perf_counter_ns() - start) / 1e6
    return Latency(float(np.median(samples)), float(np.percentile(samples, 99)), runs)


def bench_bundle(
    bundle: Bundle,
    runs: int = 300,
    warmup: int = 30,
    engine_cache: str | Path = DEFAULT_ENGINE_CACHE,
) -> list[RoleBench]:
    report = _read_report(bundle.path("reports/accuracy.json"))
    results = []
    action_role, _, action_name = bundle.manifest.action.output.partition(".")
    for role, spec in bundle.manifest.roles.items():
        fp32_path = bundle.path(FP32_REFERENCE.format(role=role))
        if not fp32_path.is_file() or not spec.golden:
            continue
        golden = load_golden(bundle.path(spec.golden))
        feeds = [{k: v[i] for k, v in golden.inputs.items()} for i in range(len(golden))]
        fp32 = open_session(fp32_path, threads=1)
        bundled = open_session(bundle.path(spec.file), threads=1)
        lat_fp32 = time_session(fp32, feeds[0], runs, warmup)
        lat_bundled = time_session(bundled, feeds[0], runs, warmup)
        chosen = choose_variant(bundle, role, "onnxruntime", engine_cache)
        timed = {FP32_REFERENCE.format(role=role): lat_fp32, spec.file: lat_bundled}
        lat_runs = timed.get(chosen.file) or time_session(
            open_session(bundle.path(chosen.file), threads=1), feeds[0], runs, warmup
        )
        ref = [run(fp32, f) for f in feeds]
        got = [run(bundled, f) for f in feeds]
        fidelity: dict[str, Any] = {}
        for name in ref[0]:
            a = np.stack([r[name] for r in ref])
            b = np.stack([g[name] for g in got])
            fidelity[name] = vars(output_fidelity(a, b))
            if role == action_role and name == action_name:
                act = action_fidelity(a, b, bundle.manifest.action.limits_rad)
                fidelity["action_error_max"] = act.max
        results.append(
            RoleBench(
                role,
                spec.precision,
                lat_fp32,
                lat_bundled,
                fidelity,
                report.get("roles", {}).get(role, {}),
                chosen.precision,
                lat_runs,
            )
        )
    return results


def _read_report(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def to_json(results: list[RoleBench], bundle: Bundle) -> dict[str, Any]:
    import platform

    import onnxruntime

    return {
        "bundle": str(bundle.root),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "onnxruntime": onnxruntime.__version__,
        "threads": 1,
        "roles": [
            {
                "role": r.role,
                "precision": r.precision,
                "fp32": vars(r.fp32),
                "bundled": vars(r.bundled),
                "runs_precision": r.runs_precision,
                "runs": vars(r.runs) if r.runs else None,
                "ratio": r.ratio,
                "fidelity_golden": r.fidelity,
                "fidelity_held_out": r.export_gate,
            }
            for r in results
        ],
    }
