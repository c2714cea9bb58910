"""Serial links to motor controllers: Dynamixel Protocol 2.0 and the custom MCU link.

The leaf of the package DAG: depends on numpy, pyserial and msgpack only.
"""

from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.errors import (
    BridgeError,
    MotorBusError,
    MotorNotFoundError,
    MotorTimeoutError,
    PortNotFoundError,
    ProtocolError,
)

__all__ = [
    "BridgeError",
    "JointState",
    "MotorBus",
    "MotorBusError",
    "MotorNotFoundError",
    "MotorTimeoutError",
    "PortNotFoundError",
    "ProtocolError",
]
