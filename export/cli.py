"""`edgerun export ...` and `edgerun keys generate`; device commands live in `cli_device` and
`cli_field` (selftest, deploy, rollback).

torch is imported only inside the handlers that export or train, so `edgerun --help` and the
device commands stay fast on a Jetson without torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.bundle.manifest import PRECISIONS
from edge_runtime.cli.tree import CommandTree
from export import cli_device, cli_field
from export.export_log import quiet_console

if TYPE_CHECKING:
    from export.bundle_writer import BundleResult


def register(cli: CommandTree) -> None:
    """Add the export-side commands, then the device-side ones."""
    onnx = cli.command(
        "onnx",
        "bundle ready-made ONNX files described by a spec TOML",
        _export_onnx,
        group="export",
        group_help="make signed model bundles",
    )
    onnx.add_argument("--spec", required=True, help="bundle spec TOML (roles, action, wiring)")
    onnx.add_argument("--data", required=True, help=".npz of observations keyed by source")
    _add_common(onnx, default_out="out/bundle")

    ref = cli.command(
        "reference",
        "train (--train) and/or bundle the reference world and behaviour models",
        _export_reference,
        group="export",
    )
    ref.add_argument("--train", action="store_true", help="collect episodes and retrain first")
    ref.add_argument(
        "--logs",
        nargs="+",
        metavar="LOG",
        help="fine-tune the current checkpoint on these episode logs (directories from "
        "--record, .erlog files, or directories of them) instead of retraining; implies --train",
    )
    ref.add_argument(
        "--checkpoint-out",
        metavar="PT",
        help="checkpoint --train writes and the bundle is made from (default: the committed "
        "one when retraining, OUT.pt beside the bundle with --logs)",
    )
    ref.add_argument("--steps", type=int, default=600, help="fine-tuning steps (with --logs)")
    ref.add_argument(
        "--sim-episodes",
        type=int,
        default=60,
        help="simulator episodes mixed into a fine-tune against forgetting (with --logs)",
    )
    ref.add_argument("--precision", default="int8", choices=PRECISIONS)
    ref.add_argument(
        "--evaluate",
        type=int,
        default=0,
        metavar="EPISODES",
        help="then run the bundle closed-loop in the simulator on unseen targets",
    )
    _add_common(ref, default_out="out/reference-bundle")

    keys = cli.command(
        "generate", "create an ed25519 signing key pair", _keys, group="keys", group_help="keys"
    )
    keys.add_argument("name", help="path prefix: writes NAME.key and NAME.pub")
    cli_device.register(cli)
    cli_field.register(cli)


def _add_common(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument("--out", default=default_out, help="bundle directory to write")
    parser.add_argument("--config", help="export config TOML (precision, gate thresholds)")
    parser.add_argument("--sign-key", help="ed25519 private key from `edgerun keys generate`")
    parser.add_argument("--tar", action="store_true", help="also write OUT.tar")


def _keys(args: argparse.Namespace) -> int:
    from export.keys import generate_keys

    private, public, kid = generate_keys(args.name)
    print(f"wrote {private} (keep it secret) and {public} (key id {kid})")
    print(f'robots trust it with: [model] trusted_keys = ["{public}"]')
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from export.bundle_spec import load_bundle_spec, load_observations
    from export.bundle_writer import write_bundle
    from export.config import load_export_config

    config = load_export_config(args.config)
    spec = load_bundle_spec(args.spec)
    observations = load_observations(args.data, spec.roles, config.min_calibration_samples + 1)
    with quiet_console(args.out):
        result = write_bundle(
            args.out,
            spec.roles,
            observations,
            spec.preprocessing,
            spec.action,
            spec.control_period_s,
            config,
            sign_key=args.sign_key,
            tar=args.tar,
        )
    print_summary(result)
    return 0


def _export_reference(args: argparse.Namespace) -> int:
    from export.reference.bundle import build_reference_bundle
    from export.reference.finetune import checkpoint_for_export

    logs = tuple(map(Path, args.logs or ()))
    checkpoint = checkpoint_for_export(
        args.train, logs, args.checkpoint_out, Path(args.out), args.steps, args.sim_episodes
    )
    with quiet_console(args.out):
        path = build_reference_bundle(
            Path(args.out),
            precision=args.precision,
            sign_key=args.sign_key,
            config_path=args.config,
            tar=args.tar,
            echo=print,
            checkpoint=checkpoint,
        )
    print(f"bundle: {path}")
    if args.evaluate > 0:
        from edge_runtime.sim.evaluate import evaluate_bundle
        from export.reference.bundle import EVALUATION_SEED

        result = evaluate_bundle(path, episodes=args.evaluate, seed=EVALUATION_SEED)
        print(
            f"simulator task success ({args.precision}): {result.successes}/{result.episodes} "
            f"= {100 * result.success_rate:.0f}% (seed {EVALUATION_SEED}, unseen targets)"
        )
    return 0


def print_summary(result: BundleResult) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bundle {result.path}")
    for col in ("role", "precision", "cosine mean", "cosine min", "max abs", "action err"):
        table.add_column(col)
    for acc in result.accuracy:
        for name, fid in acc.outputs.items():
            table.add_row(
                f"{acc.role}.{name}",
                acc.precision,
                f"{fid.cosine_mean:.6f}",
                f"{fid.cosine_min:.6f}",
                f"{fid.max_abs:.4g}",
                f"{100 * acc.action.max:.3f}%" if acc.action else "-",
            )
    console = Console()
    console.print(table)
    signed = f"signed by {result.signed_by}" if result.signed_by else "UNSIGNED"
    total = result.seconds.get("total", 0.0)
    task = result.task.summary() if result.task else {"skipped": "not run"}
    skipped = task.get("skipped")
    console.print(f"task gate skipped: {skipped}" if skipped else "task gate passed")
    console.print(f"accuracy gate passed; {signed} bundle written in {total:.1f} s")
