"""The servos of one chain that share a control-table layout: one sync read, one sync write.

SYNC_READ and SYNC_WRITE carry one address and one size for every servo they name, so a chain
mixing families (X-series state at 126, P-series at 574, Y-series at 546) cannot be read in one
of them. `DynamixelBus` keeps one `LayoutGroup` per layout instead: a pure X chain is one group
and costs what it always did (one FAST_SYNC_READ and one SYNC_WRITE per period); an X + P chain
costs one more pair. Indirect addressing (mapping every model's state onto common addresses)
would save that pair but means writing EEPROM indirect-address items on every servo at
commissioning, with torque off, and a chain that silently breaks when a servo is swapped for a
fresh one; per-layout groups need nothing on the servos (docs/dynamixel.md).

Models in one group may still differ in units (an XM430 beside an XL330: 2.69 mA vs 1 mA per
tick), so the scales are per servo.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence

import numpy as np

from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.fast_cycle import FastStateReply, GoalFrame
from firmware_bridge.dynamixel.link import DynamixelLink
from firmware_bridge.dynamixel.models import ServoModel
from firmware_bridge.dynamixel.protocol import STATUS, decode_frame

log = logging.getLogger(__name__)

STATE_SIZE = 10  # present current (2), velocity (4), position (4) on every family
STATE_FIELDS = "hii"
_STATE = struct.Struct("<" + STATE_FIELDS)
_INT32 = (-(2**31), 2**31 - 1)
FAST_STRIKES = 3
FAST_RETRY_EVERY = 200

# (currents A, velocities rad/s, positions rad) per servo of the group, NaN where missing.
Readings = tuple[list[float], list[float], list[float]]


class LayoutGroup:
    """Servos `ids` (models alike in layout) on `link`: frames, scales and fast-read state."""

    def __init__(
        self, link: DynamixelLink, ids: Sequence[int], models: Sequence[ServoModel], fast: bool
    ) -> None:
        self.link = link
        self.ids = list(ids)
        first = models[0]
        self.state_address, self.goal_address = first.layout
        self.amps = [m.amps_per_tick for m in models]
        self.rad_s = [m.rad_s_per_tick for m in models]
        self.rad = [m.rad_per_tick for m in models]
        self.center = [m.center_ticks for m in models]
        self._ticks_per_rad = [1.0 / m.rad_per_tick for m in models]
        self._goal = ins.SyncWriteEncoder(self.goal_address, self.ids)
        self._goal_frame = GoalFrame(self.goal_address, self.ids)
        self._fast_frame = ins.sync_read(self.state_address, STATE_SIZE, self.ids, fast=True)
        self._fast_reply = FastStateReply(self.ids, STATE_SIZE, STATE_FIELDS)
        self._fast_answer = self._fast_reply.new_buffer()
        self.fast_allowed = fast
        self.fast = fast
        self._strikes = 0
        self._reads = 0

    # -- reads ---------------------------------------------------------------------------------

    def read_fast(self) -> Readings | dict[int, tuple[int, bytes]] | None:
        """One fast sync read: SI readings, raw answers when a servo flagged an error, or None."""
        return self.finish_fast() if self.request_fast() else None

    def request_fast(self) -> bool:
        """Send the fast sync read's request now (False: this group reads the plain way now,
        and nothing was sent); `finish_fast` collects the answer."""
        self._reads += 1
        if not self.fast and self.fast_allowed and self._reads % FAST_RETRY_EVERY == 0:
            self.fast = True
        if not self.fast:
            return False
        self.link.request_fixed(self._fast_frame, self._fast_reply.size)
        return True

    def finish_fast(self) -> Readings | dict[int, tuple[int, bytes]] | None:
        """The answer to `request_fast`, as `read_fast` returns it."""
        answer = self._fast_answer
        reply = self._fast_reply
        got = self.link.receive_fixed(answer)
        if got == reply.size and reply.valid(answer):
            self._strikes = 0
            if reply.has_errors(answer):  # rare: let the general path name the errors
                packet = decode_frame(bytes(answer))
                return ins.parse_fast_sync_read(packet, self.ids, STATE_SIZE)
            raw = reply.values(answer)  # current, velocity, position per servo
            # Python floats, not numpy ufuncs: for a dozen values their dispatch costs more.
            return (
                [c * a for c, a in zip(raw[0::3], self.amps)],
                [v * s for v, s in zip(raw[1::3], self.rad_s)],
                [(p - c) * r for p, c, r in zip(raw[2::3], self.center, self.rad)],
            )
        if got == reply.size:
            self.link.stats.crc_errors += 1  # every byte came, but not the answer we asked for
        self._strikes += 1
        if self._strikes >= FAST_STRIKES:
            self.fast = False
            self._strikes = 0
            log.info("%s: fast sync read keeps failing; using plain sync read", self.link.port)
        return None

    def read_sync(self, ids: Sequence[int]) -> dict[int, tuple[int, bytes]]:
        """Plain SYNC_READ of `ids`: per-servo answers, so one missing servo hides no other."""
        frame = ins.sync_read(self.state_address, STATE_SIZE, ids)
        wanted = set(ids)
        found: dict[int, tuple[int, bytes]] = {}
        for packet in self.link.exchange(frame, len(ids), len(ids) * (11 + STATE_SIZE)):
            if packet.instruction != STATUS or packet.id not in wanted:
                continue
            if len(packet.params) == STATE_SIZE or packet.error & 0x7F:
                found[packet.id] = (packet.error, packet.params)
        return found

    def readings(self, found: dict[int, tuple[int, bytes]], errors: dict[int, str]) -> Readings:
        """SI readings from raw answers (NaN for servos without data); names errors in `errors`."""
        nan = float("nan")
        out: Readings = ([nan] * len(self.ids), [nan] * len(self.ids), [nan] * len(self.ids))
        for k, servo_id in enumerate(self.ids):
            if servo_id not in found:
                errors[servo_id] = "no valid answer (timeout or corrupted packet)"
                continue
            error, data = found[servo_id]
            if error:
                errors[servo_id] = ins.describe_error(error)
                if error & 0x7F:
                    continue  # a refused read carries no data; an alert alone still does
            current, velocity, position = _STATE.unpack(data)
            out[0][k] = current * self.amps[k]
            out[1][k] = velocity * self.rad_s[k]
            out[2][k] = (position - self.center[k]) * self.rad[k]
        return out

    # -- writes --------------------------------------------------------------------------------

    def ticks(self, positions_rad: Sequence[float]) -> list[int]:
        """Goal ticks; round() is round-half-even, as np.rint: the general encoder's ticks."""
        return [
            round(p * k + c) for p, k, c in zip(positions_rad, self._ticks_per_rad, self.center)
        ]

    def write_goal(self, positions_rad: Sequence[float]) -> None:
        ticks = self.ticks(positions_rad)
        try:
            frame = self._goal_frame.encode(ticks)
        except struct.error:  # beyond int32: clip (the general path below does the same)
            frame = None
        if frame is None:  # out of range, or a frame that needs byte stuffing
            clipped = np.clip(np.array(ticks, dtype=np.float64), *_INT32)
            frame = self._goal.encode_array(clipped)
        self.link.send(frame)
        self.link.stats.exchanges += 1
