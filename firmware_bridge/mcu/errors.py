"""Errors specific to the MCU link, all under `MotorBusError` so callers can catch one thing."""

from __future__ import annotations

from firmware_bridge.errors import BridgeError, MotorBusError


class McuLinkError(MotorBusError):
    """The serial link to the MCU is down (unplugged, I/O error) or a request went unanswered."""


class McuIncompatibleError(McuLinkError):
    """HELLO showed a different protocol major or schema hash: the host refuses to arm."""


class McuFaultError(McuLinkError):
    """The MCU has latched a fault (watchdog or e-stop) and needs an explicit clear."""


class McuConfigError(BridgeError, ValueError):
    """A bad setting for the MCU link or its simulator (motor count, period, link path)."""
