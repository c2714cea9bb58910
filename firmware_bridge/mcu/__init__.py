"""The custom MCU link: COBS + CRC32 framed msgpack messages to a motor board (docs/mcu-link.md).

`cobs`, `frame` and `messages` are pure encoding; `McuBus` is the host side (a `MotorBus`);
`firmware_bridge.sim.mcu_device.SimulatedMcu` is the reference device on a pty.
"""

from firmware_bridge.mcu.bus import McuBus
from firmware_bridge.mcu.errors import (
    McuConfigError,
    McuFaultError,
    McuIncompatibleError,
    McuLinkError,
)
from firmware_bridge.mcu.handshake import McuInfo
from firmware_bridge.mcu.link_stats import McuLinkStats

__all__ = [
    "McuBus",
    "McuConfigError",
    "McuFaultError",
    "McuIncompatibleError",
    "McuInfo",
    "McuLinkError",
    "McuLinkStats",
]
