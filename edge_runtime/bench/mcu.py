"""`edgerun bench mcu`: what the MCU link costs the control loop, measured over a real pty.

The reference MCU runs in a child process (`edgerun sim mcu`), so this process's CPU time is
the host driver's alone (the control thread plus the link's reader thread). The loop runs
`cycles` periods of `read_state` + `write_goal` on absolute monotonic deadlines, skipping missed
periods like the runtime's control thread, and reports per-cycle host CPU, the read and cycle
latency, the command round trip from the MCU's echoes, losses, and the bytes each direction
carries per cycle with the wire time they need.
"""

from __future__ import annotations

import datetime
import os
import platform
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench.report import percentiles
from edge_runtime.bench.sim_process import sim_device_process
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


def measure(motors: int, cycles: int, period_s: float) -> dict[str, Any]:
    """Everything `edgerun bench mcu` reports, as the dict its JSON file holds."""
    if not 1 <= motors <= 64:
        raise McuConfigError(f"--motors {motors} is out of range; use 1-64")
    if not 10 <= cycles <= 1_000_000:
        raise McuConfigError(f"--cycles {cycles} is out of range; use 10-1000000")
    if not 0.001 <= period_s <= 1.0:
        raise McuConfigError(f"--period-ms {period_s * 1000:g} is out of range; use 1-1000")
    with tempfile.TemporaryDirectory(prefix="edgerun-bench-mcu-") as tmp:
        link = Path(tmp) / "mcu"
        command = ["mcu", "--motors", str(motors), "--period-ms", str(period_s * 1000)]
        with sim_device_process(command, link) as sim:
            try:
                return _drive(str(link), motors, cycles, period_s)
            except McuLinkError as exc:
                rc = sim.poll()
                state = "is still running" if rc is None else f"exited with code {rc}"
                raise McuLinkError(f"{exc} (the simulated MCU {state})") from exc


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
        "read_us": percentiles(np.asarray(reads) / 1000.0),
        "cycle_us": percentiles(np.asarray(totals) / 1000.0),
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


def summary(r: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """`bench mcu`'s table: its title and (measure, value) rows."""
    rows = [
        (name, " / ".join(f"{r[key][p]:.1f}" for p in ("p50", "p99", "max")) + " µs")
        for name, key in (
            ("read_state p50 / p99 / max", "read_us"),
            ("read + write cycle p50 / p99 / max", "cycle_us"),
            ("command round trip p50 / p99 / max", "command_rtt_us"),
        )
    ]
    wire, us = r["wire_bytes"], r["wire_us_per_direction"]
    rows += [
        ("host CPU per cycle, whole process", f"{r['cpu_us_per_cycle']:.1f} µs"),
        ("encode + decode per cycle, best of 5", f"{r['codec_us_per_cycle']:.1f} µs"),
        ("bytes per cycle (host→MCU / MCU→host)", f"{wire['host_to_mcu']} / {wire['mcu_to_host']}"),
        ("wire time at 1 / 4 Mbaud", f"{us['1mbaud']:.0f} / {us['4mbaud']:.0f} µs"),
        (
            "lost / bad frames / timeouts / missed / watchdog trips",
            f"{r['lost']} / {r['bad_frames']} / {r['telemetry_timeouts']} / "
            f"{r['missed_periods']} / {r['watchdog_trips']}",
        ),
    ]
    title = (
        f"MCU link over a pty: {r['motors']} motors, {r['cycles']} cycles of {r['period_ms']:g} ms"
    )
    return title, rows
