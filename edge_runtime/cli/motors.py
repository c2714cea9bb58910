"""`edgerun motors ...`: commissioning and watching a Dynamixel chain.

Parsing and printing only; the procedures are `firmware_bridge.dynamixel.commissioning`.
Every command opens the port, does one job and closes it; mistakes (unknown item, id out of
range, wrong baud, missing port) end in one sentence from firmware_bridge's error tree.
`sim servos` and `bench motors` are registered from here too.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from edge_runtime.cli import motors_bench, motors_sim
from edge_runtime.cli.tree import CommandTree, Handler
from firmware_bridge.dynamixel import commissioning as dxl
from firmware_bridge.dynamixel.control_table import BAUD_INDEX


def _scan(args: argparse.Namespace) -> int:
    bauds = list(dxl.SCAN_BAUDS) if args.baud == "all" else [dxl.parse_baud(args.baud)]
    ids = dxl.parse_ids(args.ids) if args.ids else None
    total = 0
    for servo in dxl.scan(args.port, bauds, ids):
        print(
            f"id {servo.servo_id:3d}  model {servo.model:5d} {servo.model_name:<17}  "
            f"firmware {servo.firmware:3d}  "
            f"baud {servo.baud}"
        )
        total += 1
    if not total:
        where = "any supported baud rate" if args.baud == "all" else f"{bauds[0]} baud"
        print(
            f"no servo answered on {args.port} at {where}; check power and wiring"
            + ("" if args.baud == "all" else ", or try --baud all")
        )
        return 1
    print(f"{total} servo(s) found")
    return 0


def _read(args: argparse.Namespace) -> int:
    value = dxl.read_item(args.port, dxl.parse_baud(args.baud), args.id, args.item)
    si = "" if value.value_si is None else f"  ({value.value_si:.6g} {value.item.unit})"
    if value.hardware_errors:
        si = f"  ({value.hardware_errors}; reboot the servo to clear it)"
    print(f"id {args.id} {value.item.name} = {value.raw}{si}")
    return 0


def _write(args: argparse.Namespace) -> int:
    baud = dxl.parse_baud(args.baud)
    value = dxl.write_item(args.port, baud, args.id, args.item, args.value, si=args.si)
    print(f"id {args.id} {value.item.name} := {value.raw}")
    return 0


def _set_id(args: argparse.Namespace) -> int:
    if not dxl.set_id(args.port, dxl.parse_baud(args.baud), args.id, args.new_id):
        print(f"servo {args.id} took the new id but does not answer as {args.new_id} yet")
        return 1
    print(f"servo {args.id} is now id {args.new_id}")
    return 0


def _set_baud(args: argparse.Namespace) -> int:
    new_baud = dxl.parse_baud(args.new_baud)
    if not dxl.set_baud(args.port, dxl.parse_baud(args.baud), args.id, new_baud):
        print(f"servo {args.id} was told {new_baud} baud but does not answer there")
        return 1
    print(f"servo {args.id} now talks at {new_baud} baud (use --baud {new_baud} from now on)")
    return 0


def _reboot(args: argparse.Namespace) -> int:
    dxl.reboot(args.port, dxl.parse_baud(args.baud), args.id)
    print(f"servo {args.id} rebooted: torque is off and hardware errors are cleared")
    return 0


def _monitor(args: argparse.Namespace) -> int:
    from rich.live import Live

    from edge_runtime.bench.report import make_table
    from firmware_bridge.dynamixel import DynamixelBus

    baud = dxl.parse_baud(args.baud)
    ids = dxl.parse_ids(args.ids) if args.ids else dxl.find_servos(args.port, baud)
    bus = DynamixelBus(args.port, ids, baud=baud)
    title = f"{args.port} @ {baud} baud"

    def table() -> Any:
        return make_table(title, dxl.state_rows(bus.read_state(), ids), dxl.STATE_COLUMNS)

    frames = 0
    # Only the link is closed, not the bus: closing a bus turns torque off, and monitoring
    # leaves torque as it found it.
    with bus.link, Live(table(), refresh_per_second=max(1.0, args.rate)) as live:
        try:
            while not args.count or frames < args.count:
                time.sleep(1.0 / args.rate)
                live.update(table())
                frames += 1
        except KeyboardInterrupt:
            pass
    return 0


def register(cli: CommandTree) -> None:
    """Add `motors ...`, then `sim servos` and `bench motors`."""
    group = {"group": "motors", "group_help": "commission and inspect Dynamixel servo chains"}

    def command(name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
        parser = cli.command(name, help, handler, **group)
        parser.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
        parser.add_argument("--baud", default="1000000", help="baud rate (default 1000000)")
        return parser

    p = command("scan", "list every servo on a port (id, model, firmware)", _scan)
    p.add_argument("--ids", help="only these ids, e.g. 1-12 (default: broadcast ping)")
    p.epilog = "--baud all tries every X-series baud rate in turn."

    p = command("read", "read one control-table item of one servo", _read)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("item", help="item name, e.g. present_position, firmware_version")

    p = command("write", "write one control-table item of one servo", _write)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("item", help="item name, e.g. torque_enable, goal_position")
    p.add_argument("value", help="raw value (ticks), or SI with --si")
    p.add_argument("--si", action="store_true", help="value is in the item's SI unit")

    p = command("monitor", "live table of positions, velocities, currents", _monitor)
    p.add_argument("--ids", help="ids to watch, e.g. 1-6 (default: all that answer)")
    p.add_argument("--rate", type=float, default=10.0, help="refreshes per second")
    p.add_argument("--count", type=int, default=0, help="stop after N refreshes (0: Ctrl-C)")

    p = command("set-id", "give one servo a new id (torque goes off)", _set_id)
    p.add_argument("--id", type=int, required=True, help="current id")
    p.add_argument("new_id", type=int, help="new id, 0..252, not used by another servo")

    p = command("set-baud", "change one servo's baud (torque goes off)", _set_baud)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("new_baud", help=f"one of {sorted(BAUD_INDEX)}")

    p = command("reboot", "reboot one servo (clears hardware errors)", _reboot)
    p.add_argument("--id", type=int, required=True)

    motors_sim.register(cli)
    motors_bench.register(cli)
