"""`edgerun selftest`, `edgerun deploy BUNDLE`, `edgerun rollback`: checks and A/B bundle slots.

The work is in edge_runtime.field; these commands live in the export package because they
pass it the export toolchain's golden parity (`verify`) and engine build (`build`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge_runtime.cli.tree import CommandTree
from edge_runtime.console.extensions import add_device_steps
from edge_runtime.field.selftest_report import SelftestReport

MARKS = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def register(cli: CommandTree) -> None:
    add_device_steps("export.field_steps:DEVICE_STEPS")  # the console's deploy button: ours
    selftest = cli.command(
        "selftest",
        "check this robot with its bundle before arming (torque stays off)",
        _selftest,
        description="Bundle signature, engines, golden parity, calibration, free disk, camera "
        "frames and intrinsics, the motor bus against the config, and a loop-timing run of bus "
        "reads at the control period. Exit code 1 if any check fails.",
    )
    selftest.add_argument("--bundle", help="bundle to check (default: the config's [model])")
    deploy = cli.command(
        "deploy",
        "verify, build and selftest a bundle, then make it the active slot",
        _deploy,
        description="Stage BUNDLE, verify its signature with the robot's trusted keys, build "
        "its engines, run the selftest with it (torque off), then switch the active slot; the "
        "previous bundle stays for `edgerun rollback`. Any failure leaves the active slot as it "
        "was. Stop the service first: the selftest needs the motor bus.",
    )
    deploy.add_argument("bundle", help="bundle directory or .tar")
    rollback = cli.command("rollback", "make the previous bundle slot active again", _rollback)
    for parser in (selftest, deploy, rollback):
        parser.add_argument("--config", required=True, help="robot config (TOML)")
    for parser in (selftest, deploy):
        parser.add_argument("--json", metavar="FILE", help="also write the selftest as JSON")


def _selftest(args: argparse.Namespace) -> int:
    from edge_runtime.config import load_config
    from edge_runtime.field.selftest import run_selftest
    from export.field_steps import golden_parity

    bundle = Path(args.bundle) if args.bundle else None
    report = run_selftest(load_config(args.config), golden_parity, bundle_path=bundle)
    _print_report(report, args.json)
    return 0 if report.passed else 1


def _deploy(args: argparse.Namespace) -> int:
    from edge_runtime.config import load_config
    from edge_runtime.field.deploy import deploy
    from export.field_steps import DEVICE_STEPS

    outcome = deploy(load_config(args.config), Path(args.bundle), DEVICE_STEPS)
    if outcome.selftest is not None:
        _print_report(outcome.selftest, args.json)
    error = outcome.error()
    if error is not None:
        raise error
    print(f"slot {outcome.slot} is active (previous: {outcome.previous or 'none'})")
    print("\n".join(outcome.notes))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from edge_runtime.config import load_config
    from edge_runtime.field.deploy import rollback

    outcome = rollback(load_config(args.config))
    print(f"slot {outcome.slot} is active again (was {outcome.previous})")
    print("\n".join(outcome.notes))
    return 0


def _print_report(report: SelftestReport, json_path: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"selftest {report.robot}: {report.bundle}")
    for column in ("check", "", "detail"):
        table.add_column(column)
    for check in report.checks:  # details are plain text: "[calibration]" is not markup
        table.add_row(check.name, MARKS.get(check.status, check.status), Text(check.detail))
    console = Console()
    console.print(table)
    console.print(report.summary())
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(report.to_json(), indent=2) + "\n")
        print(f"wrote {json_path}")
