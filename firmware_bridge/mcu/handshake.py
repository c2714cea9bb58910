"""The HELLO handshake: what each side announces and when the host refuses to arm.

Both checks that matter for safety happen before any torque: a different protocol major means
payloads may not mean what the host thinks, and a different schema hash with the same major
means someone edited a message without bumping the major. Either way the host refuses (and the
MCU refuses ENABLE from a host whose HELLO did not match). Pure: no I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from firmware_bridge.mcu import messages
from firmware_bridge.mcu.errors import McuConfigError, McuIncompatibleError

log = logging.getLogger(__name__)


def hello_body(host: str = "edge-runtime") -> dict[str, Any]:
    return {
        "major": messages.PROTOCOL_MAJOR,
        "minor": messages.PROTOCOL_MINOR,
        "schema": messages.SCHEMA_HASH,
        "host": host,
    }


@dataclass(frozen=True)
class McuInfo:
    """What the MCU said in HELLO_ACK."""

    major: int
    minor: int
    schema: int
    firmware: str
    motors: int
    period_us: int
    watchdog_periods: int

    @classmethod
    def from_body(cls, b: dict[str, Any]) -> McuInfo:
        return cls(
            b["major"], b["minor"], b["schema"], str(b["firmware"]), b["motors"], b["period_us"],
            b["watchdog_periods"],
        )  # fmt: skip

    @property
    def watchdog_s(self) -> float:
        return self.period_us * self.watchdog_periods / 1e6


def check_compatible(info: McuInfo, port: str, motor_count: int, period_s: float) -> None:
    """Raise unless this host may arm the MCU described by `info`."""
    where = f"MCU on {port} (firmware '{info.firmware}')"
    if info.major != messages.PROTOCOL_MAJOR:
        raise McuIncompatibleError(
            f"{where} speaks MCU link {info.major}.{info.minor} but this host speaks "
            f"{messages.PROTOCOL_MAJOR}.{messages.PROTOCOL_MINOR}; refusing to arm: update "
            "the firmware or edge-runtime so the major versions match"
        )
    if info.schema != messages.SCHEMA_HASH:
        raise McuIncompatibleError(
            f"{where} has schema hash 0x{info.schema:08x} but this host has "
            f"0x{messages.SCHEMA_HASH:08x} for the same major version {info.major}; refusing "
            "to arm: rebuild the firmware from the same docs/mcu-link.md schema"
        )
    if info.motors != motor_count:
        raise McuConfigError(
            f"{where} drives {info.motors} motors but {motor_count} ids were "
            f"configured; fix the motor list in the robot config"
        )
    if period_s * 1e6 > info.period_us * 1.01:
        raise McuConfigError(
            f"the control period {period_s * 1000:.1f} ms is longer than the {where} "
            f"period {info.period_us / 1000:.1f} ms, so its watchdog "
            f"({info.watchdog_s * 1000:.0f} ms) would fire; run the loop faster or flash "
            "the MCU with a longer period"
        )
    if info.minor != messages.PROTOCOL_MINOR:
        log.info("%s: protocol minor %d vs host %d", where, info.minor, messages.PROTOCOL_MINOR)
