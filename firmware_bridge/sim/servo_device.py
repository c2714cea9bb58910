"""A chain of simulated X-series servos on a pseudo-terminal, answering Protocol 2.0.

Any correct Protocol 2.0 client can open `chain.port` (the ROBOTIS SDK included) and talk to
it like a U2D2 with servos behind it. Physics is delegated to a `ServoPlant`: on every write
that changes a goal position or torque the chain calls `plant.command(goals_rad, torque_on)`,
and before answering a read of present values it calls `plant.measure()`; arrays are in the
order of the ids given at construction, sorted.

The chain reads the line's baud rate from the pty's termios, so a driver that opens the port
at another rate than the servos use hears nothing, as on a real bus. Device faults for fault
campaigns live here too: `silence(ids)` (a servo that hears and answers nothing, e.g. a broken
daisy-chain cable, while its own watchdog still runs), `hardware_error(id, bits)`, byte faults
(`faults`), `unplug()`; a `ServoWitness` records every goal and torque write accepted.
"""

from __future__ import annotations

import struct
import termios
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firmware_bridge.dynamixel.control_table import (
    AMPS_PER_TICK,
    CENTER_TICKS,
    RAD_PER_TICK,
    RAD_S_PER_TICK,
)
from firmware_bridge.dynamixel.protocol import (
    BROADCAST_ID,
    Instruction,
    Packet,
    PacketStream,
    encode_status,
)
from firmware_bridge.sim.plant import FirstOrderPlant, ServoPlant
from firmware_bridge.sim.pty_port import PtyDevice
from firmware_bridge.sim.servo_faults import FaultInjector, ServoFaults
from firmware_bridge.sim.servo_group import PRESENT, bulk_instruction, sync_instruction
from firmware_bridge.sim.servo_model import SimServo
from firmware_bridge.sim.servo_witness import ServoWitness

_PRESENT_STRUCT = struct.Struct("<hii")  # present current, velocity, position at 126
_READS = {Instruction.READ, Instruction.SYNC_READ, Instruction.BULK_READ}
_GOAL_POSITION = range(116, 120)
_TORQUE_ENABLE = 64
_SPEEDS = {
    getattr(termios, name): int(name[1:])
    for name in dir(termios)
    if name.startswith("B") and name[1:].isdigit()
}


@dataclass
class ChainStats:
    packets: int = 0
    replies: int = 0
    rx_crc_errors: int = 0
    watchdog_trips: int = 0


class SimServoChain(PtyDevice):
    def __init__(
        self,
        ids: Iterable[int],
        plant: ServoPlant | None = None,
        link: str | Path | None = None,
        baud: int = 1_000_000,
        faults: ServoFaults | None = None,
        fast_sync_read: bool = True,
        model_number: int = 1020,
        firmware: int = 46,
        witness: ServoWitness | None = None,
    ) -> None:
        super().__init__(link=link, name="sim-servos")
        order = sorted(int(i) for i in ids)
        if not order or len(set(order)) != len(order) or not all(0 <= i <= 252 for i in order):
            raise ValueError(f"servo ids must be unique and within 0..252, got {order}")
        self.servos = [SimServo(i, baud, model_number, firmware) for i in order]
        self.plant: ServoPlant = plant if plant is not None else FirstOrderPlant(len(order))
        self.faults = FaultInjector(faults)
        self.silent: set[int] = set()
        self.witness = witness
        self.fast_sync_read = fast_sync_read
        self.stats = ChainStats()
        self._stream = PacketStream()
        self._lock = threading.RLock()
        self._watchdog_thread: threading.Thread | None = None
        self._sync_goals_to_present()

    # -- lifetime ------------------------------------------------------------------------------

    def start(self) -> SimServoChain:
        super().start()
        self._watchdog_thread = threading.Thread(
            target=self._watch, name="sim-servos-watchdog", daemon=True
        )
        self._watchdog_thread.start()
        return self

    def stop(self) -> None:
        super().stop()
        if self._watchdog_thread is not None:
            self._watchdog_thread.join(timeout=2.0)
            self._watchdog_thread = None

    def _watch(self) -> None:
        """Checks the bus watchdogs every 5 ms, so a servo stops even when the host goes quiet."""
        while not self._stop.wait(0.005):
            with self._lock:
                self._check_watchdogs()

    # -- state helpers -------------------------------------------------------------------------

    def servo(self, servo_id: int) -> SimServo | None:
        for servo in self.servos:
            if servo.id == servo_id:
                return servo
        return None

    def silence(self, ids: Iterable[int]) -> None:
        """These servos hear and answer nothing from now on (empty: all talk again)."""
        with self._lock:
            self.silent = {int(i) for i in ids}

    def hardware_error(self, servo_id: int, bits: int) -> None:
        """Latch a hardware error on one servo (e.g. 0x20 overload), as its firmware would."""
        with self._lock:
            servo = self.servo(servo_id)
            if servo is None:
                raise ValueError(f"no servo {servo_id} on this chain")
            if servo.hardware_error(bits):
                self._witness(servo, "shutdown", bits)
                self._command_plant()

    def power_cycle(self) -> None:
        """What cutting and restoring the servos' power does: RAM defaults (torque off,
        watchdog and hardware errors cleared), goal := present."""
        with self._lock:
            for servo in self.servos:
                servo.reset_ram()
            self._sync_goals_to_present()

    def _witness(self, servo: SimServo, kind: str, value: int) -> None:
        if self.witness is not None:
            self.witness.record(servo.id, kind, value)

    def _accept(self, servo: SimServo, address: int, value: bytes) -> bool:
        """Store a write `check_write` accepted; True when it touched a goal or torque."""
        servo.apply_write(address, value)
        end = address + len(value)
        if self.witness is not None:
            if address < _GOAL_POSITION.stop and _GOAL_POSITION.start < end:
                self._witness(servo, "goal", struct.unpack_from("<i", servo.table, 116)[0])
            if address <= _TORQUE_ENABLE < end:
                self._witness(servo, "torque", servo.table[_TORQUE_ENABLE])
        return servo.touches_goal(address, len(value))

    def _line_baud(self) -> int | None:
        try:
            return _SPEEDS.get(termios.tcgetattr(self._slave)[4])
        except (termios.error, OSError, ValueError):
            return None

    def _refresh_present(self) -> None:
        positions, velocities, currents = self.plant.measure()
        i32 = (-(2**31), 2**31 - 1)
        pos = np.clip(np.rint(np.asarray(positions) / RAD_PER_TICK + CENTER_TICKS), *i32)
        vel = np.clip(np.rint(np.asarray(velocities) / RAD_S_PER_TICK), *i32)
        cur = np.clip(np.rint(np.asarray(currents) / AMPS_PER_TICK), -32768, 32767)
        # With torque off the motor driver is off: a servo reports no current, whatever load
        # the plant computes.
        cur = np.where([s.torque_on for s in self.servos], cur, 0)
        tick = struct.pack("<H", int(time.monotonic() * 1000) & 0x7FFF)
        rows = zip(cur.astype(np.int64).tolist(), vel.astype(np.int64).tolist(),
                   pos.astype(np.int64).tolist())  # fmt: skip
        for servo, (c, v, p) in zip(self.servos, rows):
            servo.table[120:122] = tick
            servo.table[126:136] = _PRESENT_STRUCT.pack(c, v, p)

    def _command_plant(self) -> None:
        raw = [struct.unpack_from("<i", s.table, 116)[0] for s in self.servos]
        goals_rad = (np.array(raw, dtype=np.float64) - CENTER_TICKS) * RAD_PER_TICK
        torque = np.array([s.torque_on for s in self.servos], dtype=bool)
        self.plant.command(goals_rad, torque)

    def _sync_goals_to_present(self) -> None:
        """Goal := present position, so torque-on or a watchdog stop holds the motor in place."""
        self._refresh_present()
        for servo in self.servos:
            servo.table[116:120] = servo.table[132:136]
        self._command_plant()

    def _check_watchdogs(self) -> None:
        now = time.monotonic()
        tripped = [s for s in self.servos if s.watchdog_expired(now)]
        if tripped:
            self.stats.watchdog_trips += len(tripped)
            self._refresh_present()
            for servo in tripped:
                servo.table[116:120] = servo.table[132:136]
                self._witness(servo, "watchdog", 1)
            self._command_plant()

    # -- bytes in, bytes out -------------------------------------------------------------------

    def on_bytes(self, data: bytes) -> None:
        data = self.faults.incoming(data)
        replies: list[bytes] = []
        with self._lock:
            self._stream.feed(data)
            while (packet := self._stream.next()) is not None:
                if packet.is_status:
                    continue  # our own echo or another master: servos ignore statuses
                self.stats.packets += 1
                self._check_watchdogs()
                replies += self._handle(packet)
            self.stats.rx_crc_errors = self._stream.crc_errors
        out = [r for r in (self.faults.reply(frame) for frame in replies) if r is not None]
        if out:
            self.faults.delay()
            self.stats.replies += len(out)
            self.send(b"".join(out))

    def _listening(self, baud: int | None) -> list[SimServo]:
        return [
            s for s in self.servos if (baud is None or s.baud == baud) and s.id not in self.silent
        ]

    def _handle(self, packet: Packet) -> list[bytes]:
        servos = self._listening(self._line_baud())
        now = time.monotonic()
        inst = packet.instruction
        p = packet.params
        broadcast = packet.id == BROADCAST_ID
        targets = servos if broadcast else [s for s in servos if s.id == packet.id]
        if inst in (Instruction.SYNC_READ, Instruction.FAST_SYNC_READ, Instruction.SYNC_WRITE):
            return sync_instruction(self, packet, servos, now)
        if inst in (Instruction.BULK_READ, Instruction.BULK_WRITE):
            return bulk_instruction(self, packet, servos, now)
        replies: list[bytes] = []
        changed = False
        for servo in sorted(targets, key=lambda s: s.id):
            servo.feed(now)
            reply_id = servo.id
            err, data = 0, b""
            if inst == Instruction.PING:
                data = bytes(servo.table[0:2]) + bytes(servo.table[6:7])
            elif inst == Instruction.READ and len(p) == 4:
                address, length = struct.unpack("<HH", p)
                if address < PRESENT.stop and PRESENT.start < address + length:
                    self._refresh_present()
                err, data = servo.read(address, length)
            elif inst in (Instruction.WRITE, Instruction.REG_WRITE) and len(p) >= 3:
                address = p[0] | (p[1] << 8)
                err = servo.check_write(address, p[2:])
                if not err and inst == Instruction.WRITE:
                    changed |= self._accept(servo, address, p[2:])
                elif not err:
                    servo.pending = (address, p[2:])
                    servo.table[69] = 1
            elif inst == Instruction.ACTION:
                if servo.pending is not None:
                    address, value = servo.pending
                    if not servo.check_write(address, value):
                        changed |= self._accept(servo, address, value)
                    servo.pending = None
                    servo.table[69] = 0
            elif inst == Instruction.REBOOT:
                servo.reset_ram()
                changed = True
            elif inst == Instruction.FACTORY_RESET and not servo.torque_on:
                pass  # tables keep their settings in simulation; answering is what matters
            elif inst == Instruction.CLEAR:
                pass
            else:
                err = 2  # instruction error
            unicast_or_ping = not broadcast or inst == Instruction.PING
            if unicast_or_ping and self._answers(servo, inst):
                replies.append(encode_status(reply_id, err | servo.alert, data))
        if changed:
            if inst == Instruction.REBOOT:
                self._sync_goals_to_present()
            self._command_plant()
        return replies

    @staticmethod
    def _answers(servo: SimServo, inst: int) -> bool:
        level = servo.table[68]
        return inst == Instruction.PING or level >= 2 or (level == 1 and inst in _READS)
