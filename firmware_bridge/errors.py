"""One exception tree for the serial links.

Messages are full sentences a field engineer can act on: what failed, where, and how to fix it.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error raised by firmware_bridge."""


class PortNotFoundError(BridgeError):
    """The serial port does not exist or cannot be opened."""


class MotorBusError(BridgeError):
    """A bus operation failed (I/O error, unplugged adapter, device refused a command)."""


class MotorTimeoutError(MotorBusError, TimeoutError):
    """A device did not answer within the time computed for the exchange."""


class MotorNotFoundError(MotorBusError):
    """A configured motor did not answer at all."""


class ProtocolError(BridgeError):
    """Bytes on the wire that do not decode: bad CRC, bad length, unknown instruction."""
