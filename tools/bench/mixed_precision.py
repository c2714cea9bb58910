"""Benchmark: real-shape models through automatic mixed precision, timed on ONNX Runtime CPU.

    PYTHONPATH=. python tools/bench/mixed_precision.py --out /tmp/mp-bench [--samples 160]

Exports a ResNet-18-like 224x224 encoder and a 4-layer transformer policy (seeded random
weights, tests/fixtures/real_shape_models.py) to one bundle with `auto_mixed`, then times each
role's candidates (FP32 original, the TensorRT INT8 graph, the `int8_ort` variant) and the
pipeline as the device would choose it. Candidates are timed in interleaved blocks and each
keeps its best block median of the thread's CPU time per run (the machine this was written on
ran at load 9 on 2 cores: wall-time medians swung 2x between rounds).
Writes `<out>/mixed_precision.json` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
                start = time.thread_time()  # CPU time: see variant_choice.ort_interleaved_s
                session.run(None, feeds[key])
                times.append(time.thread_time() - start)
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


def export_bundle(out: Path, samples: int) -> tuple[Path, dict[str, float]]:
    """The two real-shape models exported to `out/bundle` with auto_mixed; times taken."""
    sizes = ShapeSizes.real()
    started = time.perf_counter()
    onnx_paths = export_real_shape(out / "onnx", sizes)
    torch_export_s = time.perf_counter() - started
    obs = observations(sizes, samples, seed=11)
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
        out / "bundle", roles, data, Preprocessing(sizes.image_hw), action, 0.02, config
    )
    return result.path, {
        "torch_to_onnx": torch_export_s,
        "write_bundle": time.perf_counter() - started,
        "write_bundle_cpu": time.process_time() - cpu_started,  # what a quiet machine takes
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=160)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="time the bundle already in --out")
    args = parser.parse_args()
    summary_path = args.out / "mixed_precision.json"
    if args.reuse:
        path, seconds = args.out / "bundle", json.loads(summary_path.read_text())["seconds"]
    else:
        path, seconds = export_bundle(args.out, args.samples)
    bundle = open_bundle(path, development_mode=True)
    latency = bench_roles(bundle, args.blocks, args.runs)
    shutil.rmtree(args.out / "cache", ignore_errors=True)  # the device's choice, timed afresh
    chosen = {
        role: choose_variant(bundle, role, "onnxruntime", args.out / "cache").precision
        for role in bundle.manifest.roles
    }
    reports = path / "reports"
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
        "seconds": seconds,
        "latency_ms": latency,
        "chosen": chosen,
        "cosine_mean": cosine,
        "float_layers": {r: len(p["float_layers"]) for r, p in precision_reports.items()},
        "layers": {r: p["layers_total"] for r, p in precision_reports.items()},
        "pipeline_ms": {"fp32": pipeline_fp32, "chosen": pipeline_chosen},
        "pipeline_ratio": pipeline_chosen / pipeline_fp32,
    }
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    print("| role | FP32 ms | INT8 (TRT Q/DQ) ms | int8_ort ms | chosen | cosine mean |")
    print("|---|---|---|---|---|---|")
    for role, lat in latency.items():
        cos = cosine.get(role, {}).get(chosen[role], 1.0)
        nan = float("nan")
        print(f"| {role} | {lat['fp32']:.2f} | {lat.get('int8', nan):.2f} | "
              f"{lat.get('int8_ort', nan):.2f} | {chosen[role]} | {cos:.5f} |")  # fmt: skip
    print(f"pipeline {pipeline_chosen:.2f} ms vs FP32 {pipeline_fp32:.2f} ms "
          f"({summary['pipeline_ratio']:.2f}x); write_bundle {seconds['write_bundle']:.1f} s "
          f"({seconds['write_bundle_cpu']:.1f} s CPU), "
          f"torch->onnx {seconds['torch_to_onnx']:.1f} s; load {summary['uptime']}")  # fmt: skip


if __name__ == "__main__":
    main()
