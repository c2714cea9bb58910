"""`edgerun sim servos`: simulated X-series servos on a pty until Ctrl-C or SIGTERM.

A stand-in for a U2D2 with servos behind it, for the runtime, the tests and the benchmark.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from firmware_bridge.dynamixel.bus import DynamixelConfigError
from firmware_bridge.sim.servo_device import SimServoChain
from firmware_bridge.sim.servo_faults import ServoFaults


def run_sim_servos(args: argparse.Namespace, ids: list[int], baud: int) -> int:
    """Serve until Ctrl-C or SIGTERM; the link is removed when it ends."""
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
    link = Path(args.link)
    if not link.parent.is_dir():
        raise DynamixelConfigError(f"cannot create {link}: folder {link.parent} does not exist")
    if link.exists() and not link.is_symlink():
        raise DynamixelConfigError(
            f"{link} exists and is not a symlink; pick another --link path (it gets replaced)"
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    chain = SimServoChain(ids, link=link, baud=baud, faults=faults, fast_sync_read=not args.no_fast)
    chain.start()
    print(
        f"simulated servos {args.ids} at {baud} baud on {link} -> {chain.port_name}; "
        "Ctrl-C to stop",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        chain.stop()
    print(f"stopped: {chain.stats.packets} packets, {chain.stats.replies} replies")
    return 0
