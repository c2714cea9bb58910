"""`DynamixelBus`: a chain of DYNAMIXEL servos as a `MotorBus`, one exchange per call.

Per control period the loop costs two frames per control-table layout (`layout_group`; a chain
of one family is one layout): `write_goal` is one SYNC_WRITE of goal position (no answer),
`read_state` one FAST_SYNC_READ of present current, velocity and position (one answer packet
for the whole group). When the fast read fails (old firmware, a missing servo, a corrupted
answer) the same period falls back to a plain SYNC_READ, whose per-servo answers let the others
through while the missing one is reported; retries are bounded so they fit inside `period_s`.
After three fast failures in a row a group stays on plain sync reads and tries the fast form
again every 200 reads.

Each servo's model number, read by the PING at open, picks its control table and units
(`models`): X-, P- and Y-series positions, velocities and currents all come out in SI units.

`enable()` holds every servo where it is (goal := present), turns torque on and arms the Bus
Watchdog, so servos stop on their own if this process dies. `disable()` turns torque off on
every servo, continuing past the ones that fail, and names them at the end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np

from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.client import ServoClient
from firmware_bridge.dynamixel.control_table import BAUD_INDEX
from firmware_bridge.dynamixel.layout_group import STATE_SIZE, LayoutGroup, Readings
from firmware_bridge.dynamixel.link import DynamixelLink, DynamixelLinkStats
from firmware_bridge.dynamixel.models import XM430_W350, ServoModel, model_for
from firmware_bridge.dynamixel.protocol import MAX_ID
from firmware_bridge.errors import BridgeError, MotorBusError, MotorNotFoundError

log = logging.getLogger(__name__)

TORQUE_OFF_ATTEMPTS = 3
# Reads of the state torque-on holds at: a read retries only within half a period, and a
# loaded machine (or a busy simulated chain) can miss that more than once in a row.
ENABLE_READ_ATTEMPTS = 5
VERIFY_RETRY_ATTEMPTS = 3  # pings for a servo that missed the first round at open


class DynamixelConfigError(BridgeError, ValueError):
    """A DynamixelBus argument that cannot work (bad id, unsupported baud, watchdog range)."""


class DynamixelBus(MotorBus):
    """DYNAMIXEL servos on one serial port, positions in radians (0 rad = centre of range).

    `period_s` is the control period the retries must fit in (`retry_fraction` of it).
    `latency_s` is the allowance beyond wire time for the adapter and the OS: 3 ms suits a
    U2D2 with the 1 ms latency timer; a simulated chain on a loaded machine may need more.
    `verify` pings every servo at open so a wrong id or baud fails here, in one sentence; the
    pings' model numbers pick each servo's control table. Without `verify` nothing is sent
    at open (an emergency torque off must reach the wire first): `models` ({id: model
    number}, e.g. what an earlier verified open read) says which table each servo has, and a
    servo it does not name is taken for an XM430.
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
        models: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__(motor_ids)
        bad = [i for i in self.motor_ids if not 0 <= i <= MAX_ID]
        if bad:
            raise DynamixelConfigError(f"Dynamixel ids must be within 0..{MAX_ID}, got {bad}")
        if baud not in BAUD_INDEX:
            raise DynamixelConfigError(
                f"Dynamixel servos here run at {sorted(BAUD_INDEX)} baud, not {baud}; pick one"
            )
        if not 0 <= watchdog_ms <= 127 * 20:
            raise DynamixelConfigError(f"watchdog_ms must be within 0..2540, got {watchdog_ms}")
        self.period_s = period_s
        self.watchdog_ticks = -(-watchdog_ms // 20)  # round up: never shorter than asked
        self.retry_budget_s = period_s * retry_fraction
        self.link = DynamixelLink(port, baud, latency_s)
        self.link.open()
        self.client = ServoClient(self.link)
        self.enabled = False
        try:
            numbers = self._verify_present() if verify else dict(models or {})
            self.models = {i: model_for(numbers.get(i, XM430_W350)) for i in self.motor_ids}
        except BridgeError:
            self.link.close()
            raise
        self.client.models.update(self.models)
        self._groups = self._make_groups(fast_sync_read)
        self._requested = False  # request_state sent the first group's fast read

    def _make_groups(self, fast: bool) -> list[tuple[LayoutGroup, list[int]]]:
        """One group per layout, in the order of first appearance, with its servos' indices."""
        by_layout: dict[tuple[int, int], list[int]] = {}
        for k, servo_id in enumerate(self.motor_ids):
            by_layout.setdefault(self.models[servo_id].layout, []).append(k)
        groups = []
        for index in by_layout.values():
            ids = [self.motor_ids[k] for k in index]
            groups.append((LayoutGroup(self.link, ids, [self.models[i] for i in ids], fast), index))
        return groups

    def _verify_present(self) -> dict[int, int]:
        """Ping every servo once: {id: model number}, or one sentence on what is missing."""
        answers = {i: self.client.ping(i) for i in self.motor_ids}
        # A second, longer round for the silent ones only: a busy simulator or a loaded host can
        # miss two pings; it costs time only when something is wrong, and only at open.
        for servo_id in [i for i, info in answers.items() if info is None]:
            answers[servo_id] = self.client.ping(servo_id, attempts=VERIFY_RETRY_ATTEMPTS)
        missing = [i for i, info in answers.items() if info is None]
        if not missing:
            return {i: info[0] for i, info in answers.items() if info is not None}
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
        return all(group.fast for group, _index in self._groups)

    def model(self, servo_id: int) -> ServoModel:
        """The model servo `servo_id` answered with (its table and units)."""
        return self.models[servo_id]

    @property
    def model_numbers(self) -> dict[int, int]:
        """{id: model number}: what a later unverified open needs to use the same tables."""
        return {servo_id: model.number for servo_id, model in self.models.items()}

    # -- the control period --------------------------------------------------------------------

    splits_reads = True

    def request_state(self) -> None:
        """The first group's fast sync read goes out now; `read_state` collects its answer."""
        self._requested = self._groups[0][0].request_fast()

    def read_state(self) -> JointState:
        start = time.monotonic()
        requested, self._requested = self._requested, False
        errors: dict[int, str] = {}
        if len(self._groups) == 1:  # one family: the group's order is the bus's order
            group = self._groups[0][0]
            currents, velocities, positions = self._read_group(group, start, errors, requested)
        else:
            n = len(self.motor_ids)
            currents, velocities, positions = [0.0] * n, [0.0] * n, [0.0] * n
            for k, (group, index) in enumerate(self._groups):
                c, v, p = self._read_group(group, start, errors, requested and k == 0)
                for k, i in enumerate(index):
                    currents[i], velocities[i], positions[i] = c[k], v[k], p[k]
        n = len(self.motor_ids)
        si = np.array(currents + velocities + positions)
        return JointState(
            positions_rad=si[2 * n :], velocities_rad_s=si[n : 2 * n], currents_a=si[:n],
            stamp_ns=time.monotonic_ns(), errors=errors,
        )  # fmt: skip

    def _read_group(
        self, group: LayoutGroup, start: float, errors: dict[int, str], requested: bool = False
    ) -> Readings:
        """The group's readings: fast when it can, else plain sync reads within the budget
        (`requested`: its fast read's request already went out, from `request_state`)."""
        result = group.finish_fast() if requested else group.read_fast()
        if isinstance(result, tuple):
            return result
        if isinstance(result, dict):  # a servo flagged an error: name it
            return group.readings(result, errors)
        found: dict[int, tuple[int, bytes]] = {}
        missing = list(group.ids)
        for attempt in range(3):
            if attempt:  # a retry only when a whole one still fits in the budget
                n = len(missing)
                worst = self.link.timing.timeout_s(14 + n, (11 + STATE_SIZE) * n, n)
                if time.monotonic() - start + worst > self.retry_budget_s:
                    break
            found.update(group.read_sync(missing))
            missing = [i for i in group.ids if i not in found]
            if not missing:
                break
        return group.readings(found, errors)

    def _write_goal(self, positions_rad: np.ndarray) -> None:
        positions = positions_rad.tolist()
        if len(self._groups) == 1:
            self._groups[0][0].write_goal(positions)
            return
        for group, index in self._groups:
            group.write_goal([positions[i] for i in index])

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
            for servo_id, position in zip(self.motor_ids, state.positions_rad.tolist()):
                tick = self.models[servo_id].item("goal_position").from_si(position)
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
        by_address: dict[int, dict[int, bytes]] = {}
        for servo_id in self.motor_ids:
            address = self.models[servo_id].item("torque_enable").address
            by_address.setdefault(address, {})[servo_id] = b"\x00"
        for address, off in by_address.items():  # one broadcast per family
            try:
                self.link.exchange(ins.sync_write(address, 1, off), 0, 0)
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
