"""Handlers of `calibrate validate` and `calibrate show`: read-only views of a directory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from edge_runtime.calibration_artifacts import KINDS, load_artifact, validate_calibration
from edge_runtime.errors import CalibrationError

console = Console()
STYLES = {"ok": "green", "missing": "yellow", "error": "bold red"}


def _ids(text: str) -> list[int]:
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError as exc:
        raise CalibrationError(f"--ids {text!r} must be motor ids like 1,2,3") from exc


def _required(text: str) -> list[str]:
    names = [k.name for k in KINDS]
    if text == "all":
        return names
    wanted = [v for v in text.replace(" ", "").split(",") if v]
    aliases = {k.command: k.name for k in KINDS}
    resolved = [aliases.get(v, v) for v in wanted]
    unknown = [v for v in resolved if v not in names]
    if unknown:
        raise CalibrationError(
            f"--require {unknown[0]!r} is not a calibration kind; use {', '.join(aliases)} or all"
        )
    return resolved


def validate(args: argparse.Namespace) -> int:
    motor_ids = _ids(args.ids) if args.ids else None
    serial = args.serial
    probe_problem = ""
    if args.config:
        from edge_runtime.config import load_config

        config = load_config(args.config)
        motor_ids = motor_ids or config.motor_ids
        serial = serial or config.camera.serial
        if args.probe:
            probe_problem = _probe(args.config)
    report = validate_calibration(args.dir, motor_ids, serial, _required(args.require))
    if probe_problem:
        report.lines.append(("motors", "error", probe_problem))
    table = Table(title=f"calibration {report.root}")
    table.add_column("kind")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for kind, status, detail in report.lines:
        table.add_row(kind, f"[{STYLES[status]}]{status}[/]", detail)
    console.print(table)
    for kind, status, detail in report.lines:
        if status == "error":  # the full sentence, unwrapped, for logs and copy-paste
            console.print(f"{kind}: {detail}", soft_wrap=True, markup=False, highlight=False)
    if not report.ok:
        bad = [kind for kind, status, _ in report.lines if status == "error"]
        raise CalibrationError(
            f"{report.root} is not valid for this robot ({', '.join(bad)}); fix the lines marked "
            "error above"
        )
    console.print("complete" if report.complete else "valid (some optional kinds missing)")
    return 0


def _probe(config_path: str) -> str:
    """Open the configured motors once: missing or extra motors show up before arming."""
    from calibration.session import open_robot
    from firmware_bridge.errors import BridgeError

    try:
        with open_robot(config_path, camera=False) as robot:
            assert robot.bus is not None
            state = robot.bus.read_state()
            if state.errors:
                return f"motors not answering: {sorted(state.errors)}"
    except BridgeError as exc:
        return str(exc)
    return ""


def show(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise CalibrationError(f"calibration directory {root} does not exist")
    found = 0
    for kind in KINDS:
        if not (root / kind.filename).exists():
            continue
        found += 1
        artifact = load_artifact(root, kind)
        env = artifact.envelope
        table = Table(title=f"{kind.filename}", show_header=False)
        table.add_column("key", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in envelope_rows(env):
            table.add_row(key, value)
        table.add_row("sha256", env.sha256[:16] + "… (verified)")
        console.print(table)
    if not found:
        raise CalibrationError(f"{root} holds no calibration artifact")
    return 0


def envelope_rows(env: Any) -> list[tuple[str, str]]:
    """An artifact's envelope as (key, value) rows: `calibrate show` and the console's pages."""
    device = []
    if env.device.camera_serial:
        device.append(f"camera {env.device.camera_serial}")
    if env.device.motor_ids:
        device.append(f"motors {list(env.device.motor_ids)}")
    rows = [("created", f"{env.created_utc} by {env.tool_version}")]
    rows.append(("device", ", ".join(device) or "-"))
    rows += [(key, short_value(value)) for key, value in env.quality.items()]
    rows += [(f"data.{key}", short_value(value)) for key, value in env.data.items()]
    return rows


def short_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = json.dumps(value, default=str)
    return text if len(text) < 300 else text[:297] + "..."
