"""`edgerun motors ...` (commissioning a Dynamixel chain), `sim servos` and `bench motors`.

Every command opens the port, does one job and closes it; mistakes (unknown item, id out of
range, wrong baud, missing port) end in one sentence from firmware_bridge's error tree.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.cli.tree import CommandTree
from firmware_bridge.dynamixel.bus import DynamixelConfigError
from firmware_bridge.dynamixel.control_table import BAUD_INDEX, describe_hardware_error, item

if TYPE_CHECKING:
    from firmware_bridge.dynamixel import DynamixelLink, ServoClient

SCAN_BAUDS = (1_000_000, 57_600, 2_000_000, 3_000_000, 4_000_000, 115_200, 9600)


def parse_ids(text: str) -> list[int]:
    """'1-6' or '1,3,5-7' -> sorted unique ids; DynamixelConfigError with the fix otherwise."""
    ids: set[int] = set()
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                ids.update(range(lo, hi + 1))
            elif part:
                ids.add(int(part))
    except ValueError:
        raise DynamixelConfigError(
            f"cannot read servo ids from '{text}'; write them like 1-6 or 1,3,5-7"
        ) from None
    if not ids or min(ids) < 0 or max(ids) > 252:
        raise DynamixelConfigError(f"servo ids must be within 0..252, got '{text}'")
    return sorted(ids)


def parse_baud(text: str) -> int:
    try:
        baud = int(float(text.replace("_", "")))
    except ValueError:
        baud = -1
    if baud not in BAUD_INDEX:
        raise DynamixelConfigError(
            f"X-series servos do not run at '{text}' baud; use one of {sorted(BAUD_INDEX)}"
        )
    return baud


def _client(args: argparse.Namespace) -> tuple[DynamixelLink, ServoClient]:
    from firmware_bridge.dynamixel import DynamixelLink, ServoClient

    link = DynamixelLink(args.port, parse_baud(args.baud))
    link.open()
    return link, ServoClient(link)


def _scan(args: argparse.Namespace) -> int:
    from firmware_bridge.dynamixel import DynamixelLink, ServoClient

    bauds = list(SCAN_BAUDS) if args.baud == "all" else [parse_baud(args.baud)]
    ids = parse_ids(args.ids) if args.ids else None
    total = 0
    for baud in bauds:
        link = DynamixelLink(args.port, baud)
        link.open()
        try:
            found = ServoClient(link).scan(ids)
        finally:
            link.close()
        for servo_id, (model, firmware) in found.items():
            print(f"id {servo_id:3d}  model {model:5d}  firmware {firmware:3d}  baud {baud}")
        total += len(found)
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
    entry = item(args.item)
    link, client = _client(args)
    try:
        raw = client.read_item(args.id, entry.name)
    finally:
        link.close()
    si = f"  ({entry.to_si(raw):.6g} {entry.unit})" if entry.unit else ""
    if entry.name == "hardware_error_status" and raw:
        si = f"  ({describe_hardware_error(raw)}; reboot the servo to clear it)"
    print(f"id {args.id} {entry.name} = {raw}{si}")
    return 0


def _write(args: argparse.Namespace) -> int:
    entry = item(args.item)
    try:
        value = float(args.value)
    except ValueError:
        raise DynamixelConfigError(f"'{args.value}' is not a number for {entry.name}") from None
    raw = entry.from_si(value) if args.si else int(value)
    if not args.si and value != raw:
        unit = entry.unit or "its unit"
        raise DynamixelConfigError(
            f"{entry.name} takes raw integer ticks; pass --si to give {value} in {unit}"
        )
    try:
        entry.encode(raw)
    except ValueError as exc:
        raise DynamixelConfigError(str(exc)) from None
    link, client = _client(args)
    try:
        client.write_item(args.id, entry.name, raw)
    finally:
        link.close()
    print(f"id {args.id} {entry.name} := {raw}")
    return 0


def _set_id(args: argparse.Namespace) -> int:
    if not 0 <= args.new_id <= 252:
        raise DynamixelConfigError(f"a servo id must be within 0..252, got {args.new_id}")
    link, client = _client(args)
    try:
        if client.ping(args.new_id) is not None:
            raise DynamixelConfigError(
                f"id {args.new_id} is already taken on {args.port}; pick a free id "
                "(`edgerun motors scan`) so two servos never share one"
            )
        client.write_item(args.id, "torque_enable", 0)  # the id lives in EEPROM
        client.write_item(args.id, "id", args.new_id)
        if client.ping(args.new_id) is None:
            print(f"servo {args.id} took the new id but does not answer as {args.new_id} yet")
            return 1
    finally:
        link.close()
    print(f"servo {args.id} is now id {args.new_id}")
    return 0


def _set_baud(args: argparse.Namespace) -> int:
    new_baud = parse_baud(args.new_baud)
    link, client = _client(args)
    try:
        client.write_item(args.id, "torque_enable", 0)  # the baud rate lives in EEPROM
        client.write_item(args.id, "baud_rate", BAUD_INDEX[new_baud])
    finally:
        link.close()
    from firmware_bridge.dynamixel import DynamixelLink, ServoClient

    check = DynamixelLink(args.port, new_baud)
    check.open()
    try:
        answered = ServoClient(check).ping(args.id) is not None
    finally:
        check.close()
    if not answered:
        print(f"servo {args.id} was told {new_baud} baud but does not answer there")
        return 1
    print(f"servo {args.id} now talks at {new_baud} baud (use --baud {new_baud} from now on)")
    return 0


def _reboot(args: argparse.Namespace) -> int:
    link, client = _client(args)
    try:
        client.reboot(args.id)  # the servo answers, then restarts with torque off
    finally:
        link.close()
    print(f"servo {args.id} rebooted: torque is off and hardware errors are cleared")
    return 0


def _monitor(args: argparse.Namespace) -> int:
    from rich.live import Live
    from rich.table import Table

    from firmware_bridge.dynamixel import DynamixelBus, DynamixelLink, ServoClient

    baud = parse_baud(args.baud)
    if args.ids:
        ids = parse_ids(args.ids)
    else:
        link = DynamixelLink(args.port, baud)
        link.open()
        try:
            ids = sorted(ServoClient(link).broadcast_ping())
        finally:
            link.close()
        if not ids:
            raise DynamixelConfigError(f"no servo answered on {args.port} at {baud} baud")
    bus = DynamixelBus(args.port, ids, baud=baud)

    def table() -> Table:
        state = bus.read_state()
        view = Table(title=f"{args.port} @ {baud} baud")
        for column in ("id", "position rad", "velocity rad/s", "current A", "error"):
            view.add_column(column, justify="right")
        for k, servo_id in enumerate(ids):
            view.add_row(
                str(servo_id),
                f"{state.positions_rad[k]:+.4f}",
                f"{state.velocities_rad_s[k]:+.3f}",
                f"{state.currents_a[k]:+.3f}",
                state.errors.get(servo_id, ""),
            )
        return view

    frames = 0
    try:
        with Live(table(), refresh_per_second=max(1.0, args.rate)) as live:
            while not args.count or frames < args.count:
                time.sleep(1.0 / args.rate)
                live.update(table())
                frames += 1
    except KeyboardInterrupt:
        pass
    finally:
        bus.link.close()  # monitoring never touched torque, so it leaves it as it was
    return 0


def _sim_servos(args: argparse.Namespace) -> int:
    from edge_runtime.cli.motors_sim import run_sim_servos

    return run_sim_servos(args, parse_ids(args.ids), parse_baud(args.baud))


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.cli.motors_bench import run_bench

    return run_bench(args.servos, args.cycles, args.json, realtime=args.rt)


def register(cli: CommandTree) -> None:
    """Add `motors ...`, `sim servos` and `bench motors` to `edgerun`."""
    group = dict(group="motors", group_help="commission and inspect Dynamixel servo chains")

    def port_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
        parser.add_argument("--baud", default="1000000", help="baud rate (default 1000000)")

    p = cli.command("scan", "list every servo on a port (id, model, firmware)", _scan, **group)
    port_args(p)
    p.add_argument("--ids", help="only these ids, e.g. 1-12 (default: broadcast ping)")
    p.epilog = "--baud all tries every X-series baud rate in turn."

    p = cli.command("read", "read one control-table item of one servo", _read, **group)
    port_args(p)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("item", help="item name, e.g. present_position, firmware_version")

    p = cli.command("write", "write one control-table item of one servo", _write, **group)
    port_args(p)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("item", help="item name, e.g. torque_enable, goal_position")
    p.add_argument("value", help="raw value (ticks), or SI with --si")
    p.add_argument("--si", action="store_true", help="value is in the item's SI unit")

    p = cli.command("monitor", "live table of positions, velocities, currents", _monitor, **group)
    port_args(p)
    p.add_argument("--ids", help="ids to watch, e.g. 1-6 (default: all that answer)")
    p.add_argument("--rate", type=float, default=10.0, help="refreshes per second")
    p.add_argument("--count", type=int, default=0, help="stop after N refreshes (0: Ctrl-C)")

    p = cli.command("set-id", "give one servo a new id (torque goes off)", _set_id, **group)
    port_args(p)
    p.add_argument("--id", type=int, required=True, help="current id")
    p.add_argument("new_id", type=int, help="new id, 0..252, not used by another servo")

    p = cli.command("set-baud", "change one servo's baud (torque goes off)", _set_baud, **group)
    port_args(p)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("new_baud", help=f"one of {sorted(BAUD_INDEX)}")

    p = cli.command("reboot", "reboot one servo (clears hardware errors)", _reboot, **group)
    port_args(p)
    p.add_argument("--id", type=int, required=True)

    p = cli.command(
        "servos",
        "simulated X-series servos on a pty, until Ctrl-C",
        _sim_servos,
        group="sim",
        group_help="simulated devices and worlds",
    )
    p.add_argument("--ids", default="1-6", help="servo ids, e.g. 1-6")
    p.add_argument("--baud", default="1000000")
    p.add_argument("--link", required=True, help="symlink to create, e.g. /tmp/ttyDXL")
    p.add_argument("--drop-rate", type=float, default=0.0, help="fraction of replies dropped")
    p.add_argument("--corrupt-rate", type=float, default=0.0, help="per-byte corruption rate")
    p.add_argument("--delay-ms", type=float, default=0.0, help="extra delay before replies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-fast", action="store_true", help="firmware without fast sync read")

    p = cli.command(
        "motors",
        "host CPU and latency per cycle: this driver vs dynamixel-sdk, simulated servos",
        _bench,
        group="bench",
        group_help="benchmarks",
    )
    p.add_argument("--servos", type=int, default=12)
    p.add_argument("--cycles", type=int, default=2000)
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--rt", action="store_true", help="run at SCHED_FIFO, as on the robot (root)")
