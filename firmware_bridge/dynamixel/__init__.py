"""Dynamixel Protocol 2.0: pure codec, X-series control table, and the `DynamixelBus` driver."""

from firmware_bridge.dynamixel.bus import DynamixelBus, DynamixelConfigError
from firmware_bridge.dynamixel.client import ServoClient, ServoRefusedError
from firmware_bridge.dynamixel.link import DynamixelLink

__all__ = [
    "DynamixelBus",
    "DynamixelConfigError",
    "DynamixelLink",
    "ServoClient",
    "ServoRefusedError",
]
