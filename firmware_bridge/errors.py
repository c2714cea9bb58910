"""The project's one exception tree starts here, in the leaf package.

`EdgeRuntimeError` is the root of every error edge-runtime raises on purpose, in all four
packages. It lives in firmware_bridge because that package imports nothing of the others
(the DAG is one-way); edge_runtime, export and calibration derive their errors from it.
Every error carries the exit code the CLI returns for it; messages are full sentences a
field engineer can act on: what failed, where, and how to fix it.
"""

from __future__ import annotations


class EdgeRuntimeError(Exception):
    """Root of every error the project raises on purpose. Exit code 2: refused, fix and retry."""

    exit_code = 2


class BridgeError(EdgeRuntimeError):
    """Root of every error raised by firmware_bridge (serial links and their devices)."""


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
