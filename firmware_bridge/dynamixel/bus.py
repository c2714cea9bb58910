"""`DynamixelBus`: a chain of X-series servos as a `MotorBus`, one exchange per call.

Per control period the loop costs two frames: `write_goal` is one SYNC_WRITE of goal position
(no answer), `read_state` one FAST_SYNC_READ of present current, velocity and position
(addresses 126..135, one answer packet for the whole chain). When the fast read fails (old
firmware, a missing servo, a corrupted answer) the same period falls back to a plain SYNC_READ,
whose per-servo answers let the others through while the missing one is reported; retries are
bounded so they fit inside `period_s`. After three fast failures in a row the bus stays on
plain sync reads and tries the fast form again every 200 reads.

`enable()` holds every servo where it is (goal := present), turns torque on and arms the Bus
Watchdog, so servos stop on their own if this process dies. `disable()` turns torque off on
every servo, continuing past the ones that fail, and names them at the end.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Sequence

import numpy as np

from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.client import ServoClient
from firmware_bridge.dynamixel.control_table import (
    AMPS_PER_TICK,
    BAUD_INDEX,
    CENTER_TICKS,
    RAD_PER_TICK,
    RAD_S_PER_TICK,
    STATE_ADDRESS,
    STATE_SIZE,
    item,
)
from firmware_bridge.dynamixel.fast_cycle import FastStateReply, GoalFrame
from firmware_bridge.dynamixel.link import DynamixelLink, DynamixelLinkStats
from firmware_bridge.dynamixel.protocol import MAX_ID, STATUS, decode_frame
from firmware_bridge.errors import BridgeError, MotorBusError, MotorNotFoundError

log = logging.getLogger(__name__)

_STATE_FIELDS = "hii"  # present current, velocity, position (126..135)
_STATE = struct.Struct("<" + _STATE_FIELDS)
_GOAL = item("goal_position")
_TORQUE = item("torque_enable")
_WATCHDOG = item("bus_watchdog")
_TICKS_PER_RAD = 1.0 / RAD_PER_TICK
_INT32 = (-(2**31), 2**31 - 1)
FAST_STRIKES = 3
FAST_RETRY_EVERY = 200


TORQUE_OFF_ATTEMPTS = 3
# Reads of the state torque-on holds at: a read retries only within half a period, and a
# loaded machine (or a busy simulated chain) can miss that more than once in a row.
ENABLE_READ_ATTEMPTS = 5


class DynamixelConfigError(BridgeError, ValueError):
    """A DynamixelBus argument that cannot work (bad id, unsupported baud, watchdog range)."""


class DynamixelBus(MotorBus):
    """X-series servos on one serial port, positions in radians (2048 ticks = 0 rad).

    `period_s` is the control period the retries must fit in (`retry_fraction` of it).
    `latency_s` is the allowance beyond wire time for the adapter and the OS: 3 ms suits a
    U2D2 with the 1 ms latency timer; a simulated chain on a loaded machine may need more.
    `verify` pings every servo at open so a wrong id or baud fails here, in one sentence.
    """

    def __init__(
        self,
        port: str,
        motor_ids: list[int],
        baud: int = 1_000_000,
        period_s: float = 0.01,
        watchdog_ms: int = 100,
        latency_s: float = 0.003,
        fast_sync_read: bool = True,
        retry_fraction: float = 0.5,
        verify: bool = True,
    ) -> None:
        super().__init__(motor_ids)
        bad = [i for i in self.motor_ids if not 0 <= i <= MAX_ID]
        if bad:
            raise DynamixelConfigError(f"Dynamixel ids must be within 0..{MAX_ID}, got {bad}")
        if baud not in BAUD_INDEX:
            raise DynamixelConfigError(
                f"X-series servos do not run at {baud} baud; use one of {sorted(BAUD_INDEX)}"
            )
        if not 0 <= watchdog_ms <= 127 * 20:
            raise DynamixelConfigError(f"watchdog_ms must be within 0..2540, got {watchdog_ms}")
        self.period_s = period_s
        self.watchdog_ticks = -(-watchdog_ms // 20)  # round up: never shorter than asked
        self.retry_budget_s = period_s * retry_fraction
        self.link = DynamixelLink(port, baud, latency_s)
        self.link.open()
        self.client = ServoClient(self.link)
        self._goal = ins.SyncWriteEncoder(_GOAL.address, self.motor_ids)
        self._goal_frame = GoalFrame(_GOAL.address, self.motor_ids)
        self._fast_frame = ins.sync_read(STATE_ADDRESS, STATE_SIZE, self.motor_ids, fast=True)
        self._fast_reply = FastStateReply(self.motor_ids, STATE_SIZE, _STATE_FIELDS)
        self._fast_answer = self._fast_reply.new_buffer()
        self._si_pack = struct.Struct(f"<{3 * len(self.motor_ids)}d")
        self._fast_allowed = fast_sync_read
        self._fast = fast_sync_read
        self._fast_strikes = 0
        self._reads = 0
        self._index = {servo_id: k for k, servo_id in enumerate(self.motor_ids)}
        self.enabled = False
        if verify:
            try:
                self._verify_present()
            except BridgeError:
                self.link.close()
                raise

    def _verify_present(self) -> None:
        """Ping every servo once, so a wrong baud rate or id fails here in one sentence."""
        missing = [i for i in self.motor_ids if self.client.ping(i) is None]
        if not missing:
            return
        where = f"on {self.link.port} at {self.link.baud} baud"
        if len(missing) == len(self.motor_ids):
            raise MotorNotFoundError(
                f"no servo answered {where}; check the baud rate "
                f"(`edgerun motors scan --port {self.link.port} --baud all`), power and wiring"
            )
        raise MotorNotFoundError(
            f"servos {missing} did not answer {where} (the others did); check their ids "
            f"with `edgerun motors scan --port {self.link.port}` and their cables"
        )

    @property
    def stats(self) -> DynamixelLinkStats:
        """Timeouts, CRC errors, discarded bytes, reconnects: for the loop's telemetry."""
        return self.link.stats

    @property
    def using_fast_sync_read(self) -> bool:
        return self._fast

    # -- the control period --------------------------------------------------------------------

    def read_state(self) -> JointState:
        start = time.monotonic()
        self._reads += 1
        if not self._fast and self._fast_allowed and self._reads % FAST_RETRY_EVERY == 0:
            self._fast = True
        if self._fast:
            state = self._read_fast()
            if state is not None:
                return state
        found: dict[int, tuple[int, bytes]] = {}
        missing = list(self.motor_ids)
        for attempt in range(3):
            if attempt:  # a retry only when a whole one still fits in the budget
                n = len(missing)
                worst = self.link.timing.timeout_s(14 + n, (11 + STATE_SIZE) * n, n)
                if time.monotonic() - start + worst > self.retry_budget_s:
                    break
            found.update(self._read_sync(missing))
            missing = [i for i in self.motor_ids if i not in found]
            if not missing:
                break
        return self._state(found, missing)

    def _read_fast(self) -> JointState | None:
        """One fast sync read into a preallocated buffer, checked and decoded in bulk."""
        answer = self._fast_answer
        reply = self._fast_reply
        got = self.link.exchange_fixed(self._fast_frame, answer)
        if got == reply.size and reply.valid(answer):
            self._fast_strikes = 0
            if reply.has_errors(answer):  # rare: let the general path name the errors
                packet = decode_frame(bytes(answer))
                found = ins.parse_fast_sync_read(packet, self.motor_ids, STATE_SIZE)
                return self._state(found, [])
            # Scaled in Python and packed into one new array: for 3 x 12 values that is
            # cheaper than numpy ufuncs, whose dispatch dominates on a cold cache.
            raw = reply.values(answer)  # current, velocity, position per servo
            n = len(self.motor_ids)
            si = np.empty(3 * n)
            self._si_pack.pack_into(
                si, 0,
                *[c * AMPS_PER_TICK for c in raw[0::3]],
                *[v * RAD_S_PER_TICK for v in raw[1::3]],
                *[(p - CENTER_TICKS) * RAD_PER_TICK for p in raw[2::3]],
            )  # fmt: skip
            return JointState(
                positions_rad=si[2 * n :], velocities_rad_s=si[n : 2 * n], currents_a=si[:n],
                stamp_ns=time.monotonic_ns(),
            )  # fmt: skip
        if got == reply.size:
            self.link.stats.crc_errors += 1  # every byte came, but not the answer we asked for
        self._fast_strikes += 1
        if self._fast_strikes >= FAST_STRIKES:
            self._fast = False
            self._fast_strikes = 0
            log.info("%s: fast sync read keeps failing; using plain sync read", self.link.port)
        return None

    def _read_sync(self, ids: Sequence[int]) -> dict[int, tuple[int, bytes]]:
        frame = ins.sync_read(STATE_ADDRESS, STATE_SIZE, ids)
        wanted = set(ids)
        found: dict[int, tuple[int, bytes]] = {}
        for packet in self.link.exchange(frame, len(ids), len(ids) * (11 + STATE_SIZE)):
            if packet.instruction != STATUS or packet.id not in wanted:
                continue
            if len(packet.params) == STATE_SIZE or packet.error & 0x7F:
                found[packet.id] = (packet.error, packet.params)
        return found

    def _state(self, found: dict[int, tuple[int, bytes]], missing: list[int]) -> JointState:
        n = len(self.motor_ids)
        raw = np.full((3, n), np.nan)
        errors = {i: "no valid answer (timeout or corrupted packet)" for i in missing}
        for servo_id, (error, data) in found.items():
            if error:
                errors[servo_id] = ins.describe_error(error)
                if error & 0x7F:
                    continue  # a refused read carries no data; an alert alone still does
            k = self._index[servo_id]
            raw[:, k] = _STATE.unpack(data)
        return JointState(
            positions_rad=(raw[2] - CENTER_TICKS) * RAD_PER_TICK,
            velocities_rad_s=raw[1] * RAD_S_PER_TICK,
            currents_a=raw[0] * AMPS_PER_TICK,
            stamp_ns=time.monotonic_ns(),
            errors=errors,
        )

    def _write_goal(self, positions_rad: np.ndarray) -> None:
        # round() is round-half-even, as np.rint: the same ticks as the general encoder.
        ticks = [round(p * _TICKS_PER_RAD + CENTER_TICKS) for p in positions_rad.tolist()]
        try:
            frame = self._goal_frame.encode(ticks)
        except struct.error:  # beyond int32: clip (the general path below does the same)
            frame = None
        if frame is None:  # out of range, or a frame that needs byte stuffing
            clipped = np.clip(np.array(ticks, dtype=np.float64), *_INT32)
            frame = self._goal.encode_array(clipped)
        self.link.send(frame)
        self.link.stats.exchanges += 1

    # -- torque --------------------------------------------------------------------------------

    def enable(self) -> None:
        """Hold position, torque on, arm the watchdog; on any failure turn everything off."""
        try:
            for servo_id in self.motor_ids:
                self.client.write_item(servo_id, "bus_watchdog", 0)  # clears a latched trip
            state = self.read_state()
            for _attempt in range(ENABLE_READ_ATTEMPTS - 1):
                if not state.errors:
                    break
                state = self.read_state()  # not in a control period yet: a late answer may retry
            if state.errors:
                raise MotorNotFoundError(
                    f"cannot enable: servos {sorted(state.errors)} on {self.link.port} did not "
                    f"report their position ({'; '.join(sorted(set(state.errors.values())))})"
                )
            # Confirmed, one by one: a lost goal write here would make torque-on jump.
            ticks = np.rint(state.positions_rad / RAD_PER_TICK + CENTER_TICKS).astype(int)
            for servo_id, tick in zip(self.motor_ids, ticks.tolist()):
                self.client.write_item(servo_id, "goal_position", tick)
            for servo_id in self.motor_ids:
                self.client.write_item(servo_id, "torque_enable", 1)
                if self.watchdog_ticks:
                    self.client.write_item(servo_id, "bus_watchdog", self.watchdog_ticks)
        except BridgeError:
            try:
                self.disable()
            except BridgeError as exc:
                log.error("%s", exc)
            raise
        self.enabled = True

    def disable(self) -> None:
        """Torque off everywhere: one broadcast, then a confirmed write per servo."""
        self.enabled = False
        try:
            off = {servo_id: b"\x00" for servo_id in self.motor_ids}
            self.link.exchange(ins.sync_write(_TORQUE.address, 1, off), 0, 0)
        except MotorBusError as exc:
            log.warning("torque-off broadcast failed: %s", exc)
        failed: dict[int, str] = {}
        for servo_id in self.motor_ids:
            # A lost or late reply is not a servo holding torque: confirm a few times before
            # telling a person to cut the power (the broadcast above has usually done it).
            for _attempt in range(TORQUE_OFF_ATTEMPTS):
                try:
                    self.client.write_item(servo_id, "torque_enable", 0)
                    failed.pop(servo_id, None)
                    break
                except MotorBusError as exc:
                    failed[servo_id] = str(exc)
            if servo_id in failed:
                continue
            try:
                self.client.write_item(servo_id, "bus_watchdog", 0)
            except MotorBusError as exc:
                log.warning(
                    "servo %d: torque is off but the watchdog stays armed: %s", servo_id, exc
                )
        if failed:
            raise MotorBusError(
                f"torque off failed on servos {sorted(failed)} on {self.link.port}; they may "
                f"still hold torque, cut their power ({next(iter(failed.values()))})"
            )

    def _close(self) -> None:
        self.link.close()

    def __repr__(self) -> str:
        return f"DynamixelBus({self.link.port!r}, ids={self.motor_ids}, baud={self.link.baud})"
