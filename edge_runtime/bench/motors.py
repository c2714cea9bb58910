"""`edgerun bench motors`: one control cycle, this driver vs the ROBOTIS SDK, same servos.

A cycle is a sync write of goal positions plus a read of present current, velocity and
position (126..135) of every servo. The simulated chain runs in a child process (`edgerun sim
servos`), so the CPU measured here (`time.thread_time`, this thread only) is the host driver's
alone, and both drivers talk to the same device in the same run. Cycle latency is wall time
over the pty, back to back; it says what the host side costs, not what a real RS-485 bus at
1 Mbaud takes (that is `wire_us`).
"""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench.report import percentiles
from edge_runtime.bench.sim_process import sim_device_process
from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.control_table import STATE_ADDRESS, STATE_SIZE
from firmware_bridge.dynamixel.timing import wire_time_s
from firmware_bridge.errors import BridgeError


class _Ours:
    """DynamixelBus, goal write + fast sync read of present current/velocity/position."""

    name = "edgerun"

    def __init__(self, port: str, ids: list[int]) -> None:
        from firmware_bridge.dynamixel import DynamixelBus

        # Patient timeouts: this machine is shared, and a timeout would measure the machine.
        self.bus = DynamixelBus(port, ids, latency_s=0.05, verify=False)
        self.n = len(ids)
        self.goals: dict[int, np.ndarray] = {}

    def prepare(self, ks: range) -> None:
        """The block's goals, made before the clock starts: the driver is measured, not sin()."""
        self.goals = {k: np.full(self.n, 0.1 * math.sin(k * 0.01)) for k in ks}

    def cycle(self, k: int) -> bool:
        self.bus.write_goal(self.goals[k])
        return self.bus.read_state().ok

    def close(self) -> None:
        self.bus.link.close()  # leaves torque alone: the benchmark never turned it on


class _Sdk:
    """dynamixel-sdk as its examples use it: GroupSyncWrite + GroupSyncRead.txRxPacket."""

    name = "dynamixel_sdk"

    def __init__(self, port_name: str, ids: list[int]) -> None:
        import dynamixel_sdk as sdk

        self.sdk = sdk
        self.ids = ids
        self.port = sdk.PortHandler(port_name)
        if not self.port.openPort() or not self.port.setBaudRate(1_000_000):
            raise BridgeError(f"dynamixel-sdk could not open {port_name}")
        packets = sdk.PacketHandler(2.0)
        self.writer = sdk.GroupSyncWrite(self.port, packets, 116, 4)
        self.reader = sdk.GroupSyncRead(self.port, packets, STATE_ADDRESS, STATE_SIZE)
        for servo_id in ids:
            self.reader.addParam(servo_id)

    def prepare(self, ks: range) -> None:
        """The block's goals as the SDK takes them (4 little-endian bytes), made beforehand."""
        self.goals = {
            k: (2048 + round(651.9 * 0.1 * math.sin(k * 0.01))).to_bytes(4, "little", signed=True)
            for k in ks
        }

    def cycle(self, k: int) -> bool:
        goal = self.goals[k]
        self.writer.clearParam()
        for servo_id in self.ids:
            self.writer.addParam(servo_id, goal)
        self.writer.txPacket()
        ok = self.reader.txRxPacket() == self.sdk.COMM_SUCCESS
        get = self.reader.getData
        values = [(get(i, 126, 2), get(i, 128, 4), get(i, 132, 4)) for i in self.ids]
        return ok and len(values) == len(self.ids)

    def close(self) -> None:
        self.port.closePort()


_ECHO = """
import os, sys
fd = int(sys.argv[1]); size = int(sys.argv[2])
while True:
    data = os.read(fd, 4096)
    if not data or data.endswith(b"q"):
        break
    os.write(fd, bytes(size))
"""


def pty_floor_us(answer_bytes: int, rounds: int = 1000) -> dict[str, float]:
    """Round trip through a bare pty to a child that answers at once: what any driver pays.

    No protocol, no parsing: the time it takes the kernel to carry bytes both ways and wake
    both processes on this machine, the floor under `cycle_us`.
    """
    import pty
    import select
    import tty

    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    child = subprocess.Popen(
        [sys.executable, "-c", _ECHO, str(master), str(answer_bytes)], pass_fds=[master]
    )
    walls = np.empty(rounds)
    try:
        for k in range(-50, rounds):
            t0 = time.perf_counter()
            os.write(slave, bytes(16))
            got = 0
            while got < answer_bytes:
                select.select([slave], [], [], 1.0)
                got += len(os.read(slave, 4096))
            if k >= 0:
                walls[k] = (time.perf_counter() - t0) * 1e6
        os.write(slave, b"q")
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
        os.close(slave)
    return percentiles(walls, with_max=False)


def _block(driver: _Ours | _Sdk, start: int, cycles: int, walls: list[float]) -> tuple[float, int]:
    """Run `cycles` back-to-back cycles: (CPU seconds of this thread, failed reads)."""
    failed = 0
    driver.prepare(range(start, start + cycles))
    cpu0 = time.thread_time()
    for k in range(start, start + cycles):
        t0 = time.perf_counter()
        failed += not driver.cycle(k)
        walls.append(time.perf_counter() - t0)
    return time.thread_time() - cpu0, failed


def _realtime(priority: int) -> bool:
    """SCHED_FIFO for this process and the chain it spawns (children inherit the policy).

    This is how the runtime's control thread runs on the robot; it needs root or
    CAP_SYS_NICE. The kernel's RT throttling (95% by default) still leaves the machine usable.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError):
        return False
    return True


def _alternate(
    port: str, ids: list[int], blocks: int, per_block: int
) -> tuple[dict[str, float], dict[str, int], dict[str, list[float]]]:
    """Both drivers in alternating blocks: CPU seconds, failed reads and cycle walls by driver."""
    cpu = {"edgerun": 0.0, "dynamixel_sdk": 0.0}
    failed = {"edgerun": 0, "dynamixel_sdk": 0}
    walls: dict[str, list[float]] = {"edgerun": [], "dynamixel_sdk": []}
    gc.disable()  # same for both drivers: a collection inside a block would measure gc
    try:
        for block in range(-1, blocks):  # block -1 warms both up and is not counted
            for make in (_Ours, _Sdk):
                driver = make(port, ids)
                try:
                    scratch: list[float] = []
                    seconds, bad = _block(driver, block * per_block, per_block, scratch)
                finally:
                    driver.close()
                if block >= 0:
                    cpu[driver.name] += seconds
                    failed[driver.name] += bad
                    walls[driver.name] += scratch
    finally:
        gc.enable()
    return cpu, failed, walls


def measure(servos: int, cycles: int, blocks: int = 8, realtime: bool = False) -> dict[str, Any]:
    """Everything `edgerun bench motors` reports, as the dict its JSON file holds.

    Both drivers run in alternating blocks against one chain, so both see the same machine.
    """
    if not 1 <= servos <= 252:
        raise BridgeError(f"--servos must be within 1..252, got {servos}")
    if cycles < 100:
        raise BridgeError(f"--cycles must be at least 100 for a p99, got {cycles}")
    ids = list(range(1, servos + 1))
    per_block = max(1, cycles // blocks)
    policy = os.sched_getscheduler(0)
    rt = realtime and _realtime(20)
    try:
        with tempfile.TemporaryDirectory(prefix="edgerun-bench-") as tmp:
            link = Path(tmp) / "ttyDXL"
            with sim_device_process(["servos", "--ids", f"{ids[0]}-{ids[-1]}"], link):
                cpu, failed, walls = _alternate(str(link), ids, blocks, per_block)
    finally:
        if rt:
            os.sched_setscheduler(0, policy, os.sched_param(0))
    counted = per_block * blocks
    cpu_us = {name: seconds / counted * 1e6 for name, seconds in cpu.items()}
    write = len(ins.SyncWriteEncoder(116, ids).encode([2048] * servos))
    read = len(ins.sync_read(STATE_ADDRESS, STATE_SIZE, ids, fast=True))
    answer = ins.fast_sync_read_length(servos, STATE_SIZE)
    wire = write + read + answer
    floor = pty_floor_us(answer)
    return {
        "servos": servos,
        "cycles": counted,
        "sched_fifo": rt,
        "cpu_us_per_cycle": {name: round(us, 1) for name, us in cpu_us.items()},
        "cpu_ratio": round(cpu_us["dynamixel_sdk"] / cpu_us["edgerun"], 2),
        "cycle_us": percentiles(np.array(walls["edgerun"]) * 1e6),
        "sdk_cycle_us": percentiles(np.array(walls["dynamixel_sdk"]) * 1e6, with_max=False),
        "pty_round_trip_us": floor,
        "failed_reads": failed,
        "wire_bytes": wire,
        "wire_bytes_detail": {"sync_write": write, "fast_sync_read": read, "answer": answer},
        "wire_us": {str(b): round(wire_time_s(wire, b) * 1e6, 1) for b in (1_000_000, 4_000_000)},
    }


def summary(result: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """`bench motors`'s table: its title and (measure, value) rows."""
    sched = "SCHED_FIFO" if result["sched_fifo"] else "default scheduling"
    cpu = result["cpu_us_per_cycle"]
    rows = [
        ("host CPU / cycle, edgerun (fast sync read)", f"{cpu['edgerun']} µs"),
        ("host CPU / cycle, dynamixel-sdk (sync read)", f"{cpu['dynamixel_sdk']} µs"),
        ("CPU ratio sdk / edgerun", f"{result['cpu_ratio']}×"),
    ]
    for name, key in (
        ("cycle p50 / p99 over pty, edgerun", "cycle_us"),
        ("cycle p50 / p99 over pty, dynamixel-sdk", "sdk_cycle_us"),
        ("bare pty round trip p50 / p99 (floor)", "pty_round_trip_us"),
    ):
        rows.append((name, "{p50} / {p99} µs".format(**result[key])))
    failed = result["failed_reads"]
    rows.append(("failed reads edgerun / sdk", f"{failed['edgerun']} / {failed['dynamixel_sdk']}"))
    rows.append(("wire bytes / cycle", str(result["wire_bytes"])))
    for baud, us in result["wire_us"].items():
        rows.append((f"wire time at {int(baud) // 1000} kbaud", f"{us} µs"))
    servos = result.get("servos", "")
    return f"motor bus cycle, {servos} servos, sync write + sync read, {sched}", rows
