"""Device-side commands: `edgerun build`, `edgerun verify`, `edgerun bench models`.

All three open the bundle through `open_bundle` first, so a bundle whose hashes or signature do
not match is refused before anything is built or run. Trusted keys come from `--trusted-key` or
from a robot config's `[model]` table, exactly as `edgerun run` will use them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from edge_runtime.bundle.reader import Bundle, open_bundle
from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree
from edge_runtime.cli.trust_flags import add_trust_flags
from edge_runtime.engines import BACKENDS, DEFAULT_ENGINE_CACHE


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle directory or .tar")
    add_trust_flags(parser)
    parser.add_argument("--config", help="robot TOML: use its [model] trusted_keys and cache")


def add_cache_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache", metavar="DIR", help=f"engine cache directory (default {DEFAULT_ENGINE_CACHE})"
    )


def open_trusted(args: argparse.Namespace) -> tuple[Bundle, str]:
    """The bundle and engine cache directory, trusting what `--trusted-key`/`--config` say."""
    keys: list[str | Path] = list(args.trusted_key)
    development = bool(args.allow_unsigned)
    cache = getattr(args, "cache", None) or DEFAULT_ENGINE_CACHE
    if args.config:
        from edge_runtime.config import load_config

        config = load_config(args.config)
        keys.extend(config.resolve(k) for k in config.model.trusted_keys)
        development = development or config.model.development_mode
        cache = getattr(args, "cache", None) or config.model.engine_cache
    return open_bundle(args.bundle, keys, development), cache


def register(cli: CommandTree) -> None:
    build = cli.command(
        "build",
        "build TensorRT engines for this device from a bundle (Jetson)",
        _build,
        description="Build TensorRT 10.3 engines for every role of BUNDLE and its variants on "
        "this device, cached by ONNX sha256, TensorRT version, GPU, compute capability, L4T "
        "and flags; time each role's engines and cache the fastest for `run`.",
    )
    add_trust_arguments(build)
    build.add_argument("--workspace-mb", type=int, default=None, help="builder workspace (MiB)")
    add_cache_argument(build)
    build.add_argument("--force", action="store_true", help="rebuild even valid engines")

    verify = cli.command(
        "verify", "run a bundle's golden inputs on this device and compare", _verify
    )
    add_trust_arguments(verify)
    verify.add_argument("--backend", default="auto", choices=BACKENDS, help="engine")
    add_cache_argument(verify)

    bench = cli.command(
        "models",
        "FP32 vs bundled latency (ONNX Runtime, 1 thread) and fidelity per role",
        _bench,
        **BENCH,
    )
    add_trust_arguments(bench)
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    bench.add_argument("--runs", type=int, default=300, help="timed runs per model")


def _build(args: argparse.Namespace) -> int:
    from export.trt_build import DEFAULT_WORKSPACE_MB, build_engines, check_workspace

    workspace = check_workspace(args.workspace_mb or DEFAULT_WORKSPACE_MB)
    bundle, cache = open_trusted(args)
    build_engines(bundle, Path(cache).expanduser(), Console().print, workspace, args.force)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from export.verify import verify_bundle

    bundle, cache = open_trusted(args)
    checks = verify_bundle(bundle, args.backend, cache)
    table = Table(title=f"verify {args.bundle} (signed by {bundle.signed_by or 'nobody'})")
    for col in ("role", "precision", "vs", "backend", "samples", "cosine min", "max abs", "tol"):
        table.add_column(col)
    for c in checks:
        tol = ", ".join(f"{k} {v:g}" for k, v in sorted(c.tolerance.items()))
        table.add_row(
            c.role,
            c.precision,
            c.against,
            c.backend,
            str(c.samples),
            f"{c.cosine_min:.6f}",
            f"{c.max_abs:.3g}",
            tol,
            style=None if c.passed else "red",
        )
    console = Console()
    console.print(table)
    failures = [f for c in checks for f in c.failures]
    if failures:
        console.print(f"[red]FAILED[/red]: {'; '.join(failures)}")
        return 1
    roles = len({c.role for c in checks})
    console.print(f"all {roles} roles match their golden outputs ({len(checks)} graphs)")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from export.bench_models import bench_bundle, to_json

    bundle, cache = open_trusted(args)
    results = bench_bundle(bundle, runs=max(10, args.runs), engine_cache=cache)
    table = Table(title=f"bench models {args.bundle} (ONNX Runtime, 1 thread)")
    for col in ("role", "precision", "fp32 p50/p99 ms", "bundled p50/p99 ms", "runs",
                "runs p50/p99", "runs/fp32", "cos mean/min", "max abs", "action err"):  # fmt: skip
        table.add_column(col)
    for r in results:
        gate = r.export_gate.get("outputs", {})
        cos = [(o["cosine_mean"], o["cosine_min"], o["max_abs"]) for o in gate.values()]
        action = (r.export_gate.get("action") or {}).get("max")
        table.add_row(
            r.role,
            r.precision,
            f"{r.fp32.median_ms:.3f} / {r.fp32.p99_ms:.3f}",
            f"{r.bundled.median_ms:.3f} / {r.bundled.p99_ms:.3f}",
            r.runs_precision,
            f"{r.runs.median_ms:.3f} / {r.runs.p99_ms:.3f}" if r.runs else "-",
            f"{r.ratio:.2f}",
            " ".join(f"{m:.5f}/{n:.5f}" for m, n, _ in cos) or "-",
            " ".join(f"{a:.3g}" for _, _, a in cos) or "-",
            f"{100 * action:.2f}%" if action is not None else "-",
        )
    Console().print(table)
    print("runs: the variant `run` picks here; fidelity: export gate (reports/accuracy.json)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(to_json(results, bundle), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
