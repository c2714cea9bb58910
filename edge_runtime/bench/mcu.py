"""`edgerun bench mcu`: what the MCU link costs the control loop, measured over a real pty.

The reference MCU runs in a child process (`edgerun sim mcu`), so this process's CPU time is
the host driver's alone (the control thread plus the link's reader thread). The loop runs
`cycles` periods of `read_state` + `write_goal` on absolute monotonic deadlines, skipping missed
periods like the runtime's control thread, and reports per-cycle host CPU, the read and cycle
latency, the command round trip from the MCU's echoes, losses, and the bytes each direction
carries per cycle with the wire time they need.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import MotorTimeoutError
from firmware_bridge.mcu import frame, messages
from firmware_bridge.mcu.bus import McuBus
from firmware_bridge.mcu.errors import McuConfigError, McuFaultError, McuLinkError
from firmware_bridge.mcu.messages import MsgType


def wire_bytes_per_cycle(motors: int) -> dict[str, int]:
    """Bytes each direction carries per cycle, leading delimiters included."""

    def size(msg_type: MsgType, body: dict[str, Any]) -> int:
        payload = messages.encode(msg_type, body)
        return 1 + len(frame.encode(frame.Frame(1, msg_type, 40000, 2**31, payload)))

    values = [0.123456] * motors
    telemetry = {
        "echo": 40000, "state": 1, "fault": 0, "applied": 40000,
        "pos": values, "vel": values, "cur": values, "err": [0] * motors,
    }  # fmt: skip
    return {
        "host_to_mcu": size(MsgType.STATE_REQ, {}) + size(MsgType.COMMAND, {"goal": values}),
        "mcu_to_host": size(MsgType.TELEMETRY, telemetry)
        + size(MsgType.ACK, {"echo": 40000, "code": 0}),
    }


def codec_us_per_cycle(motors: int) -> float:
    """Pure encode + decode of one cycle's four frames (best of 5), free of I/O and scheduling.

    On a loaded machine the process CPU figure swings with contention; this one does not, so
    it is the floor to compare drivers and versions on.
    """
    values = [0.123456] * motors
    telemetry = messages.encode(
        MsgType.TELEMETRY,
        {
            "echo": 1, "state": 1, "fault": 0, "applied": 1,
            "pos": values, "vel": values, "cur": values, "err": [0] * motors,
        },
    )  # fmt: skip
    replies = frame.encode(frame.Frame(1, MsgType.TELEMETRY, 1, 2, telemetry)) + frame.encode(
        frame.Frame(1, MsgType.ACK, 2, 3, messages.encode(MsgType.ACK, {"echo": 1, "code": 0}))
    )

    def cycle() -> None:
        for msg_type, body in ((MsgType.STATE_REQ, {}), (MsgType.COMMAND, {"goal": values})):
            frame.encode(frame.Frame(1, msg_type, 1, 0, messages.encode(msg_type, body)))
        for item in frame.FrameReader().feed(replies):
            assert isinstance(item, frame.Frame)
            messages.decode(item.msg_type, item.payload)

    best = min(timeit.repeat(cycle, number=200, repeat=5))
    return round(best / 200 * 1e6, 1)


def _percentiles(values_ns: list[int]) -> dict[str, float]:
    if not values_ns:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    us = np.asarray(values_ns, dtype=np.float64) / 1000.0
    p50, p99 = np.percentile(us, [50, 99])
    return {"p50": round(float(p50), 1), "p99": round(float(p99), 1), "max": round(us.max(), 1)}


def _start_sim(link: Path, motors: int, period_ms: float) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "sim", "mcu", "--link", str(link)]
    proc = subprocess.Popen(
        [*cmd, "--motors", str(motors), "--period-ms", str(period_ms)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.monotonic() + 30
    while not link.exists():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise McuConfigError(
                "the simulated MCU did not start; run `edgerun sim mcu` to see why"
            )
        time.sleep(0.02)
    return proc


def run_bench(motors: int, cycles: int, period_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="edgerun-bench-mcu-") as tmp:
        link = Path(tmp) / "mcu"
        sim = _start_sim(link, motors, period_s * 1000)
        try:
            return _drive(str(link), motors, cycles, period_s)
        except McuLinkError as exc:
            rc = sim.poll()
            state = "is still running" if rc is None else f"exited with code {rc}"
            raise McuLinkError(f"{exc} (the simulated MCU {state})") from exc
        finally:
            sim.send_signal(signal.SIGTERM)
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()
                sim.wait()


def _drive(port: str, motors: int, cycles: int, period_s: float) -> dict[str, Any]:
    reads: list[int] = []
    totals: list[int] = []
    timeouts = missed = trips = 0
    period_ns = int(period_s * 1e9)
    with McuBus(port, list(range(1, motors + 1)), period_s=period_s) as bus:
        bus.enable()
        goal = np.zeros(motors)
        cpu0 = time.process_time()
        deadline = time.monotonic_ns()
        for i in range(cycles):
            t0 = time.monotonic_ns()
            try:
                bus.read_state()
                reads.append(time.monotonic_ns() - t0)
            except MotorTimeoutError:
                timeouts += 1
            goal[:] = 0.2 * np.sin(i * period_s)
            try:
                bus.write_goal(goal)
            except McuFaultError:  # this machine stalled past the watchdog: count, re-arm
                trips += 1
                bus.clear_fault()
                bus.enable()
            totals.append(time.monotonic_ns() - t0)
            deadline += period_ns
            now = time.monotonic_ns()
            if now > deadline:  # skip missed periods instead of bursting
                missed += (now - deadline) // period_ns + 1
                deadline += ((now - deadline) // period_ns + 1) * period_ns
            time.sleep((deadline - now) / 1e9 if deadline > now else 0)
        cpu_s = time.process_time() - cpu0
        bus.disable()
        time.sleep(0.05)  # let the last echoes arrive
        stats = bus.stats
    wire = wire_bytes_per_cycle(motors)
    busiest = max(wire.values())
    return {
        "motors": motors,
        "cycles": cycles,
        "period_ms": period_s * 1000,
        "cpu_us_per_cycle": round(cpu_s / cycles * 1e6, 1),
        "codec_us_per_cycle": codec_us_per_cycle(motors),
        "read_us": _percentiles(reads),
        "cycle_us": _percentiles(totals),
        "command_rtt_us": {
            "p50": round(stats.rtt_us_p50, 1),
            "p99": round(stats.rtt_us_p99, 1),
            "max": round(stats.rtt_us_max, 1),
        },
        "commands": {"sent": stats.commands_sent, "acked": stats.commands_acked},
        "lost": stats.commands_lost,
        "bad_frames": stats.bad_frames,
        "telemetry_timeouts": timeouts,
        "missed_periods": int(missed),
        "watchdog_trips": trips,
        "wire_bytes": wire,
        "wire_us_per_direction": {
            "1mbaud": round(busiest * 10 / 1e6 * 1e6, 1),
            "4mbaud": round(busiest * 10 / 4e6 * 1e6, 1),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def bench_mcu(args: argparse.Namespace) -> int:
    if not 1 <= args.motors <= 64:
        raise McuConfigError(f"--motors {args.motors} is out of range; use 1-64")
    if not 10 <= args.cycles <= 1_000_000:
        raise McuConfigError(f"--cycles {args.cycles} is out of range; use 10-1000000")
    if not 1 <= args.period_ms <= 1000:
        raise McuConfigError(f"--period-ms {args.period_ms} is out of range; use 1-1000")
    if args.json and not Path(args.json).parent.is_dir():
        raise McuConfigError(f"--json {args.json}: its directory does not exist; create it first")
    result = run_bench(args.motors, args.cycles, args.period_ms / 1000)
    _print_table(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def _print_table(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"MCU link over a pty: {r['motors']} motors, {r['cycles']} cycles of "
        f"{r['period_ms']:g} ms"
    )
    for column in ("measure", "p50", "p99", "max"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, key in (
        ("read_state (µs)", "read_us"),
        ("read + write cycle (µs)", "cycle_us"),
        ("command round trip (µs)", "command_rtt_us"),
    ):
        table.add_row(name, *(f"{r[key][p]:.1f}" for p in ("p50", "p99", "max")))
    table.add_row("host CPU per cycle, whole process (µs)", f"{r['cpu_us_per_cycle']:.1f}")
    table.add_row("encode + decode per cycle, best of 5 (µs)", f"{r['codec_us_per_cycle']:.1f}")
    wire = r["wire_bytes"]
    table.add_row(
        "bytes per cycle (host→MCU / MCU→host)", f"{wire['host_to_mcu']} / {wire['mcu_to_host']}"
    )
    us = r["wire_us_per_direction"]
    table.add_row("wire time at 1 / 4 Mbaud (µs)", f"{us['1mbaud']:.0f} / {us['4mbaud']:.0f}")
    table.add_row(
        "lost / bad frames / timeouts / missed / watchdog trips",
        f"{r['lost']} / {r['bad_frames']} / {r['telemetry_timeouts']} / {r['missed_periods']}"
        f" / {r['watchdog_trips']}",
    )
    Console().print(table)
