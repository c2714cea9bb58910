"""`edgerun sim mcu` (the reference MCU on a pty, for bring-up without a board); `bench mcu`.

It runs in the foreground until Ctrl-C or SIGTERM (so systemd, a test or a terminal can stop it
the same way) and removes its link on the way out.
"""

from __future__ import annotations

import argparse

from edge_runtime.cli import mcu_bench
from edge_runtime.cli.groups import SIM
from edge_runtime.cli.tree import CommandTree
from firmware_bridge.mcu.errors import McuConfigError
from firmware_bridge.sim.mcu_device import McuFaults, SimulatedMcu, check_sim_mcu_ranges
from firmware_bridge.sim.serve import check_link_path, serve_until_signal


def register(cli: CommandTree) -> None:
    """Add `edgerun sim mcu`, then `edgerun bench mcu`."""
    p = cli.command(
        "mcu",
        "simulate a motor board speaking the MCU link on a pseudo-terminal",
        sim_mcu,
        description=(
            "Start the reference MCU (docs/mcu-link.md) on a pty and point --link at it, so\n"
            "`McuBus(PATH, ...)` or a robot config with that port drives simulated motors.\n"
            "Runs until Ctrl-C or SIGTERM."
        ),
        **SIM,
    )
    p.add_argument("--link", required=True, help="symlink to create to the pty (e.g. /tmp/mcu)")
    p.add_argument("--motors", type=int, default=6, help="number of motors (1-64, default 6)")
    p.add_argument(
        "--period-ms", type=float, default=10.0, help="MCU control period (1-1000, default 10)"
    )
    p.add_argument(
        "--watchdog-periods", type=int, default=4, help="watchdog in periods (3-5, default 4)"
    )
    p.add_argument("--drop-rate", type=float, default=0.0, help="fraction of replies dropped")
    p.add_argument("--corrupt-rate", type=float, default=0.0, help="fraction of reply bytes hit")
    p.add_argument("--delay-ms", type=float, default=0.0, help="extra delay on every reply")
    p.add_argument("--seed", type=int, default=None, help="random seed for the faults")
    mcu_bench.register(cli)


def sim_mcu(args: argparse.Namespace) -> int:
    """Serve the simulated MCU until Ctrl-C or SIGTERM, then print its counters."""
    link = check_link_path(args.link, McuConfigError)
    check_sim_mcu_ranges(
        args.motors, args.period_ms, args.watchdog_periods, args.drop_rate, args.corrupt_rate,
        args.delay_ms,
    )  # fmt: skip
    faults = McuFaults(
        drop_tx_rate=args.drop_rate,
        corrupt_byte_rate=args.corrupt_rate,
        reply_delay_s=args.delay_ms / 1000,
    )
    device = SimulatedMcu(
        link,
        motors=args.motors,
        period_s=args.period_ms / 1000,
        watchdog_periods=args.watchdog_periods,
        faults=faults,
        seed=args.seed,
    )

    def start() -> None:
        device.start()
        print(
            f"simulated MCU: {args.motors} motors on {link} -> {device.port_name}, period "
            f"{args.period_ms:g} ms, watchdog {args.watchdog_periods} periods; Ctrl-C to stop",
            flush=True,
        )

    serve_until_signal(start, device.stop)
    c = device.counters
    print(
        f"stopped: {c['rx_frames']} frames received, {c['rx_bad']} bad, {c['applied']} commands "
        f"applied, {c['estops']} e-stops"
    )
    return 0
