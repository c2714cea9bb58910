"""`edgerun sim servos`: simulated X-series servos on a pty until Ctrl-C or SIGTERM.

A stand-in for a U2D2 with servos behind it, for the runtime, the tests and the benchmark.
"""

from __future__ import annotations

import argparse

from edge_runtime.cli.groups import SIM
from edge_runtime.cli.tree import CommandTree
from firmware_bridge.dynamixel.bus import DynamixelConfigError
from firmware_bridge.dynamixel.commissioning import parse_baud, parse_ids, parse_models
from firmware_bridge.sim.serve import check_link_path, serve_until_signal
from firmware_bridge.sim.servo_device import SimServoChain
from firmware_bridge.sim.servo_faults import ServoFaults


def register(cli: CommandTree) -> None:
    """Add `edgerun sim servos`."""
    p = cli.command("servos", "simulated DYNAMIXEL servos on a pty, until Ctrl-C", _serve, **SIM)
    p.add_argument("--ids", default="1-6", help="servo ids, e.g. 1-6")
    p.add_argument("--baud", default="1000000")
    p.add_argument("--link", required=True, help="symlink to create, e.g. /tmp/ttyDXL")
    p.add_argument("--drop-rate", type=float, default=0.0, help="fraction of replies dropped")
    p.add_argument("--corrupt-rate", type=float, default=0.0, help="per-byte corruption rate")
    p.add_argument("--delay-ms", type=float, default=0.0, help="extra delay before replies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-fast", action="store_true", help="firmware without fast sync read")
    p.add_argument("--models", default="", help="other models, e.g. 5=2020,6=4120 (id=number)")


def _serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; the link is removed when it ends."""
    ids, baud = parse_ids(args.ids), parse_baud(args.baud)
    try:
        faults = ServoFaults(
            drop_rate=args.drop_rate,
            corrupt_rate=args.corrupt_rate,
            corrupt_rx_rate=args.corrupt_rate,
            delay_s=args.delay_ms / 1000.0,
            seed=args.seed,
        )
    except ValueError as exc:
        raise DynamixelConfigError(f"bad fault setting: {exc}") from None
    link = check_link_path(args.link, DynamixelConfigError)
    models = parse_models(args.models)
    chain = SimServoChain(
        ids, link=link, baud=baud, faults=faults, fast_sync_read=not args.no_fast, models=models
    )

    def start() -> None:
        chain.start()
        print(
            f"simulated servos {args.ids} at {baud} baud on {link} -> {chain.port_name}; "
            "Ctrl-C to stop",
            flush=True,
        )

    serve_until_signal(start, chain.stop)
    print(f"stopped: {chain.stats.packets} packets, {chain.stats.replies} replies")
    return 0
