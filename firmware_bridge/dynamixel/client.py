"""Single-servo operations over a `DynamixelLink`: ping, scan, read/write items, reboot.

Used for commissioning (`edgerun motors ...`) and by `DynamixelBus` for the writes whose
success must be known (torque, watchdog). Every failure is one sentence naming the servo,
the item and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.control_table import Item, item
from firmware_bridge.dynamixel.link import DynamixelLink
from firmware_bridge.dynamixel.models import ServoModel
from firmware_bridge.dynamixel.protocol import BROADCAST_ID, MAX_ID, STATUS, Packet
from firmware_bridge.dynamixel.timing import BROADCAST_PING_SLOT_S
from firmware_bridge.errors import MotorBusError, MotorTimeoutError, ProtocolError


class ServoRefusedError(MotorBusError):
    """A servo answered with an error in its status packet."""

    def __init__(self, message: str, servo_id: int, error: int) -> None:
        super().__init__(message)
        self.servo_id = servo_id
        self.error = error


def _advice(error: int, entry: Item | None) -> str:
    code = error & 0x7F
    if code == 7 and entry is not None and entry.eeprom:
        return f"{entry.name} is in EEPROM: turn torque off first (torque_enable 0)"
    if code == 7 and entry is not None and not entry.writable:
        return f"{entry.name} is read-only"
    if code == 7 and entry is not None and entry.name.startswith("goal"):
        return "the bus watchdog has tripped: write 0 to bus_watchdog to clear it"
    if code == 4:
        return "the value is outside what the item accepts"
    if error & ins.HARDWARE_ALERT and not code:
        return "the servo reports a hardware alert: read hardware_error_status, then reboot it"
    return "check the address and length"


class ServoClient:
    """Request/response operations on single servos, each retried `attempts` times.

    These run outside the control period (commissioning, torque on/off), where being sure
    beats being fast: each answer may take `min_timeout_s` even when the wire time is shorter.
    """

    def __init__(self, link: DynamixelLink, attempts: int = 2, min_timeout_s: float = 0.05) -> None:
        self.link = link
        self.attempts = attempts
        self.min_timeout_s = min_timeout_s
        # Each servo's model (its table); items of servos not listed are the XM430's.
        self.models: dict[int, ServoModel] = {}

    def item_of(self, servo_id: int, name: str) -> Item:
        """Item `name` in servo `servo_id`'s own control table (X-series when unknown)."""
        model = self.models.get(servo_id)
        return model.item(name) if model is not None else item(name)

    def _status(self, servo_id: int, frame: bytes, rx_bytes: int, attempts: int = 0) -> Packet:
        timeout = max(self.min_timeout_s, self.link.timing.timeout_s(len(frame), rx_bytes))
        for _ in range(attempts or self.attempts):
            self.link.stats.exchanges += 1
            self.link.send(frame)
            for packet in self.link.receive(1, timeout):
                if packet.instruction == STATUS and packet.id == servo_id:
                    return packet
        raise MotorTimeoutError(
            f"servo {servo_id} did not answer on {self.link.port} at {self.link.baud} baud; "
            "check its id, baud rate, power and cable (`edgerun motors scan`)"
        )

    def ping(self, servo_id: int, attempts: int = 0) -> tuple[int, int] | None:
        """(model number, firmware version), or None when nothing answers."""
        try:
            return ins.parse_ping(self._status(servo_id, ins.ping(servo_id), 14, attempts))
        except (MotorTimeoutError, ProtocolError):
            return None

    def broadcast_ping(self, max_servos: int = MAX_ID + 1) -> dict[int, tuple[int, int]]:
        """Every servo answering a broadcast PING, {id: (model, firmware)}.

        Servos answer one after another in id order, so the wait covers `max_servos` answers
        of 14 bytes and one id slot each.
        """
        frame = ins.ping(BROADCAST_ID)
        self.link.send(frame)
        timing = self.link.timing
        timeout = timing.timeout_s(len(frame), 14 * max_servos) + BROADCAST_PING_SLOT_S * max_servos
        found: dict[int, tuple[int, int]] = {}
        for packet in self.link.receive(max_servos, timeout):
            if packet.instruction == STATUS and len(packet.params) == 3:
                found[packet.id] = ins.parse_ping(packet)
        return dict(sorted(found.items()))

    def scan(self, ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
        """Servos present among `ids` (all of them by broadcast when None)."""
        if ids is None:
            return self.broadcast_ping()
        found = {}
        for servo_id in ids:
            info = self.ping(servo_id, attempts=1)
            if info is not None:
                found[servo_id] = info
        return found

    def read(self, servo_id: int, address: int, length: int, entry: Item | None = None) -> bytes:
        packet = self._status(servo_id, ins.read(servo_id, address, length), 11 + length)
        self._raise_for(packet, servo_id, "reading", address, entry)
        data = ins.check_status(packet, servo_id, length)
        return data

    def write(self, servo_id: int, address: int, data: bytes, entry: Item | None = None) -> None:
        frame = ins.write(servo_id, address, data)
        if servo_id == BROADCAST_ID:
            self.link.exchange(frame, 0, 0)
            return
        packet = self._status(servo_id, frame, 11)
        self._raise_for(packet, servo_id, "writing", address, entry)

    def read_item(self, servo_id: int, name: str) -> int:
        entry = self.item_of(servo_id, name)
        return entry.decode(self.read(servo_id, entry.address, entry.size, entry))

    def write_item(self, servo_id: int, name: str, raw: int) -> None:
        entry = self.item_of(servo_id, name)
        if not entry.writable:
            raise ServoRefusedError(f"{entry.name} is read-only", servo_id, 7)
        self.write(servo_id, entry.address, entry.encode(raw), entry)

    def reboot(self, servo_id: int) -> None:
        packet = self._status(servo_id, ins.reboot(servo_id), 11)
        self._raise_for(packet, servo_id, "rebooting", 0, None)

    @staticmethod
    def _raise_for(
        packet: Packet, servo_id: int, verb: str, address: int, entry: Item | None
    ) -> None:
        if not packet.error & 0x7F:
            return
        what = entry.name if entry is not None else f"address {address}"
        raise ServoRefusedError(
            f"servo {servo_id} refused {verb} {what} ({ins.describe_error(packet.error)}): "
            f"{_advice(packet.error, entry)}",
            servo_id,
            packet.error,
        )
