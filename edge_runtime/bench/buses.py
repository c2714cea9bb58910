"""`edgerun bench buses`: does a tick on two buses cost the slower bus, or the sum of both?

Two simulated servo chains (`edgerun sim servos`), each in its own process on its own pty, as
two U2D2 adapters with a chain each. One control tick (goal sync write + state read) is timed
three ways in the same run, in alternating blocks of 10 ticks so all three see the same
machine: bus A alone, bus B alone, and both through `MultiBus` (bus B on its own thread). The
figure is the ratio of the two-bus tick to the slower single bus (≤ 1.2: concurrent; ~2:
serial), at p50 and p99, paced at the control rate as the runtime paces it.

A pty carries bytes at memory speed, so each simulated chain waits `delay_ms` before it
answers, as a real bus's wire time makes the host wait: by default the time one tick's frames
(goal sync write, fast sync read, its answer) occupy a 1 Mbaud line (7 servos: 1.8 ms). With 0
the tick is all CPU (host and simulators), which two buses share on a small machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench.report import percentiles
from edge_runtime.bench.sim_process import sim_device_process
from firmware_bridge.base import MotorBus
from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.layout_group import STATE_SIZE
from firmware_bridge.dynamixel.timing import wire_time_s
from firmware_bridge.errors import BridgeError
from firmware_bridge.multi_bus import MultiBus

MODES = ("bus_a", "bus_b", "both")
TARGET_RATIO = 1.2


def _ticks(bus: MotorBus, count: int, period_s: float, costs: list[float]) -> tuple[int, float]:
    """`count` ticks at `period_s` (absolute deadlines), their costs in µs appended to `costs`;
    (failed reads, this process's CPU seconds in them: every thread, so both buses')."""
    goal = np.zeros(len(bus.motor_ids))
    failed = 0
    cpu_s = 0.0
    deadline = time.perf_counter()
    for _ in range(count):
        deadline += period_s
        wait = deadline - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        cpu = time.process_time()
        start = time.perf_counter()
        bus.write_goal(goal)
        failed += not bus.read_state().ok
        costs.append((time.perf_counter() - start) * 1e6)
        cpu_s += time.process_time() - cpu
    return failed, cpu_s


def measure(
    servos_per_bus: int = 7,
    rate_hz: float = 100.0,
    ticks: int = 600,
    block: int = 10,
    delay_ms: float | None = None,
) -> dict[str, Any]:
    """Everything `edgerun bench buses` reports, as the dict its JSON file holds."""
    if delay_ms is None:
        delay_ms = round(wire_time_s(tick_wire_bytes(servos_per_bus), 1_000_000) * 1e3, 2)
    if not 1 <= servos_per_bus <= 126:
        raise BridgeError(f"--servos must be within 1..126, got {servos_per_bus}")
    if ticks < 100 or block < 1:
        raise BridgeError(f"--ticks must be at least 100 for a p99, got {ticks}")
    ids_a = list(range(1, servos_per_bus + 1))
    ids_b = list(range(servos_per_bus + 1, 2 * servos_per_bus + 1))
    costs: dict[str, list[float]] = {mode: [] for mode in MODES}
    failed = dict.fromkeys(MODES, 0)
    cpu_s = dict.fromkeys(MODES, 0.0)
    with tempfile.TemporaryDirectory(prefix="edgerun-bench-") as tmp, ExitStack() as stack:
        links = []
        for name, ids in (("a", ids_a), ("b", ids_b)):
            link = Path(tmp) / f"ttyDXL-{name}"
            command = ["servos", "--ids", f"{ids[0]}-{ids[-1]}", "--delay-ms", str(delay_ms)]
            stack.enter_context(sim_device_process(command, link))
            links.append(str(link))
        # Patient timeouts: this machine is shared, and a timeout would measure the machine.
        bus_a = DynamixelBus(links[0], ids_a, latency_s=0.05 + delay_ms / 1e3, verify=False)
        bus_b = DynamixelBus(links[1], ids_b, latency_s=0.05 + delay_ms / 1e3, verify=False)
        both = MultiBus([("a", bus_a), ("b", bus_b)], ids_a + ids_b)
        buses: dict[str, MotorBus] = {"bus_a": bus_a, "bus_b": bus_b, "both": both}
        try:
            for k in range(3 * -(-ticks // block)):
                mode = MODES[k % 3]
                bad, cpu = _ticks(buses[mode], block, 1.0 / rate_hz, costs[mode])
                failed[mode] += bad
                cpu_s[mode] += cpu
        finally:
            both._close()  # the threads; torque was never on, so the links just close
            bus_a.link.close()
            bus_b.link.close()
    tick_us = {mode: percentiles(costs[mode]) for mode in MODES}
    slower = {q: max(tick_us["bus_a"][q], tick_us["bus_b"][q]) for q in ("p50", "p99")}
    ratio = {q: round(tick_us["both"][q] / slower[q], 2) for q in ("p50", "p99")}
    return {
        "servos_per_bus": servos_per_bus,
        "rate_hz": rate_hz,
        "ticks_per_mode": len(costs["both"]),
        "reply_delay_ms": delay_ms,
        "tick_us": tick_us,
        "ratio_to_slower_bus": ratio,
        "serial_sum_p50_us": round(tick_us["bus_a"]["p50"] + tick_us["bus_b"]["p50"], 1),
        # The host's own CPU per tick (the simulators' is theirs): what two real buses share.
        "host_cpu_us_per_tick": {m: round(cpu_s[m] / len(costs[m]) * 1e6, 1) for m in MODES},
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio["p50"] <= TARGET_RATIO,
        "failed_reads": failed,
        "uptime": _uptime(),
    }


def tick_wire_bytes(servos: int) -> int:
    """Bytes one tick puts on the line: goal SYNC_WRITE, FAST_SYNC_READ and its answer."""
    ids = list(range(1, servos + 1))
    write = len(ins.SyncWriteEncoder(116, ids).encode([2048] * servos))
    read = len(ins.sync_read(126, STATE_SIZE, ids, fast=True))
    return write + read + ins.fast_sync_read_length(servos, STATE_SIZE)


def _uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:  # pragma: no cover - no uptime binary
        return f"loadavg {os.getloadavg()}"


def summary(result: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """`bench buses`'s table: its title and (measure, value) rows."""
    ticks = result["tick_us"]
    rows = [
        (f"tick p50 / p99, {name}", "{p50} / {p99} µs".format(**ticks[mode]))
        for mode, name in (("bus_a", "bus A alone"), ("bus_b", "bus B alone"),
                           ("both", "both buses (MultiBus)"))
    ]  # fmt: skip
    ratio = result["ratio_to_slower_bus"]
    rows += [
        ("two-bus tick / slower bus, p50", f"{ratio['p50']}× (target ≤ {result['target_ratio']}×)"),
        ("two-bus tick / slower bus, p99", f"{ratio['p99']}×"),
        ("serial sum of the two buses, p50", f"{result['serial_sum_p50_us']} µs"),
        (
            "host CPU / tick A / B / both",
            "{bus_a} / {bus_b} / {both} µs".format(**result["host_cpu_us_per_tick"]),
        ),
        (
            "failed reads A / B / both",
            "{bus_a} / {bus_b} / {both}".format(**result["failed_reads"]),
        ),
        ("load", result["uptime"]),
    ]
    title = (
        f"2 buses x {result['servos_per_bus']} servos at {result['rate_hz']:g} Hz on ptys, "
        f"reply delay {result['reply_delay_ms']:g} ms"
    )
    return title, rows
