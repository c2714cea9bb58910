"""Benchmark: real-shape models through automatic mixed precision, timed on ONNX Runtime CPU.

    PYTHONPATH=. python tools/bench/mixed_precision.py --out /tmp/mp-bench [--samples 160]

Exports a ResNet-18-like 224x224 encoder and a 4-layer transformer policy (seeded random
weights, tests/fixtures/real_shape_models.py) to one bundle with `auto_mixed`, then times each
role's candidates (FP32 original, the TensorRT INT8 graph, the `int8_ort` variant) and the
pipeline as the device would choose it. Candidates are timed in interleaved blocks and each
keeps its best block median, so a load spike from another process hurts every candidate alike.
Writes `<out>/mixed_precision.json` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

from real_shape_models import ShapeSizes, export_real_shape, observations  # noqa: E402

from edge_runtime.bundle.manifest import ActionSpec, Preprocessing  # noqa: E402
from edge_runtime.bundle.reader import Bundle, open_bundle  # noqa: E402
from edge_runtime.engines.variant_choice import choose_variant, role_candidates  # noqa: E402
from export.bundle_writer import RoleSource, write_bundle  # noqa: E402
from export.config import ExportConfig  # noqa: E402
from export.ort_session import open_session  # noqa: E402
from export.samples import Samples  # noqa: E402


def interleaved_median_ms(sessions: dict[str, Any], feeds: dict[str, dict], blocks: int,
                          runs: int) -> dict[str, float]:  # fmt: skip
    best = {k: float("inf") for k in sessions}
    for s in sessions:
        for _ in range(3):
            sessions[s].run(None, feeds[s])
    for _ in range(blocks):
        for key, session in sessions.items():
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                session.run(None, feeds[key])
                times.append(time.perf_counter() - start)
            best[key] = min(best[key], 1e3 * float(np.median(times)))
    return best


def bench_roles(bundle: Bundle, blocks: int, runs: int) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for role, spec in bundle.manifest.roles.items():
        sessions, feeds = {}, {}
        for cand in role_candidates(bundle, role, "onnxruntime"):
            sessions[cand.precision] = open_session(bundle.path(cand.file), threads=1)
            feeds[cand.precision] = {
                t.name: np.random.default_rng(0).normal(size=t.shape).astype(np.float32)
                for t in spec.inputs
            }
        found[role] = interleaved_median_ms(sessions, feeds, blocks, runs)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=160)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sizes = ShapeSizes.real()
    started = time.perf_counter()
    onnx_paths = export_real_shape(args.out / "onnx", sizes)
    torch_export_s = time.perf_counter() - started
    obs = observations(sizes, args.samples, seed=11)
    data = Samples({k: v[:, None] for k, v in obs.items()})
    roles = {
        "encoder": RoleSource(onnx_paths["resnet"], {"rgb": "observation.rgb"}),
        "policy": RoleSource(
            onnx_paths["head"],
            {"latent": "encoder.latent", "joints": "observation.joint_positions"},
        ),
    }
    action = ActionSpec(
        joint_names=tuple(f"j{i}" for i in range(sizes.joints)),
        limits_rad=tuple((-1.6, 1.6) for _ in range(sizes.joints)),
        chunk_length=sizes.chunk,
        dt_s=0.05,
    )
    config = ExportConfig(precision={"encoder": "int8", "policy": "int8"}, auto_mixed=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = write_bundle(
        args.out / "bundle", roles, data, Preprocessing(sizes.image_hw), action, 0.02, config
    )
    bundle_export_s = time.perf_counter() - started
    bundle_export_cpu_s = time.process_time() - cpu_started  # what a quiet machine would take
    bundle = open_bundle(result.path, development_mode=True)
    latency = bench_roles(bundle, args.blocks, args.runs)
    chosen = {
        role: choose_variant(bundle, role, "onnxruntime", args.out / "cache").precision
        for role in bundle.manifest.roles
    }
    reports = result.path / "reports"
    accuracy = json.loads((reports / "accuracy.json").read_text())
    variants_path = reports / "variants.json"
    variants = json.loads(variants_path.read_text()) if variants_path.is_file() else {}
    cosine = {r: {"int8": min(o["cosine_mean"] for o in d["outputs"].values())}
              for r, d in accuracy["roles"].items()}  # fmt: skip
    for key, d in variants.items():
        role, precision = key.split(".")
        cosine[role][precision] = min(o["cosine_mean"] for o in d["outputs"].values())
    precision_reports = {
        r: json.loads((reports / f"precision_{r}.json").read_text()) for r in bundle.manifest.roles
    }
    pipeline_fp32 = sum(latency[r]["fp32"] for r in latency)
    pipeline_chosen = sum(latency[r][chosen[r]] for r in latency)
    summary = {
        "uptime": os.getloadavg(),
        "samples": args.samples,
        "seconds": {
            "torch_to_onnx": torch_export_s,
            "write_bundle": bundle_export_s,
            "write_bundle_cpu": bundle_export_cpu_s,
        },
        "latency_ms": latency,
        "chosen": chosen,
        "cosine_mean": cosine,
        "float_layers": {r: len(p["float_layers"]) for r, p in precision_reports.items()},
        "layers": {r: p["layers_total"] for r, p in precision_reports.items()},
        "pipeline_ms": {"fp32": pipeline_fp32, "chosen": pipeline_chosen},
        "pipeline_ratio": pipeline_chosen / pipeline_fp32,
    }
    (args.out / "mixed_precision.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("| role | FP32 ms | INT8 (TRT Q/DQ) ms | int8_ort ms | chosen | cosine mean |")
    print("|---|---|---|---|---|---|")
    for role, lat in latency.items():
        cos = cosine.get(role, {}).get(chosen[role], 1.0)
        nan = float("nan")
        print(f"| {role} | {lat['fp32']:.2f} | {lat.get('int8', nan):.2f} | "
              f"{lat.get('int8_ort', nan):.2f} | {chosen[role]} | {cos:.5f} |")  # fmt: skip
    print(f"pipeline {pipeline_chosen:.2f} ms vs FP32 {pipeline_fp32:.2f} ms "
          f"({summary['pipeline_ratio']:.2f}x); write_bundle {bundle_export_s:.1f} s "
          f"({bundle_export_cpu_s:.1f} s CPU), "
          f"torch->onnx {torch_export_s:.1f} s; load {summary['uptime']}")  # fmt: skip


if __name__ == "__main__":
    main()
