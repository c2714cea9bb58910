"""How long an exchange may take, computed from the baud rate and the bytes on the wire.

The ROBOTIS SDK waits `bytes * 10 / baud + 2 * 16 ms + 2 ms` for every packet, built around
the FTDI adapters' default 16 ms latency timer; a missing servo then costs 34 ms, more than three
10 ms control periods. Here the wait is the wire time of both directions (10 bits per byte:
start, 8 data, stop) plus each servo's return delay plus one fixed allowance for the USB
adapter and the OS (`latency_s`, 1 ms latency timer plus scheduling). That keeps one timeout
well inside a period, so a retry still fits.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BITS_PER_BYTE = 10
# Time a servo needs to start answering besides its Return Delay Time (processing, bus turn).
SERVO_TURNAROUND_S = 50e-6
# Servos answer a broadcast PING one after another in id order; the ROBOTIS SDK allows 3 ms per
# possible id for it, and so does a scan here (about 0.8 s for all 253 ids at 1 Mbaud).
BROADCAST_PING_SLOT_S = 0.003


def wire_time_s(n_bytes: int, baud: int) -> float:
    """Seconds `n_bytes` occupy a UART line at `baud` (8N1)."""
    return n_bytes * BITS_PER_BYTE / baud


@dataclass(frozen=True)
class Timing:
    """Timeouts of one bus. `latency_s` covers the USB adapter and the host's scheduler."""

    baud: int
    latency_s: float = 0.003
    return_delay_s: float = 0.0

    def timeout_s(self, tx_bytes: int, rx_bytes: int, answers: int = 1) -> float:
        """Deadline for an exchange: send `tx_bytes`, receive `rx_bytes` from `answers` servos."""
        per_answer = self.return_delay_s + SERVO_TURNAROUND_S
        return wire_time_s(tx_bytes + rx_bytes, self.baud) + answers * per_answer + self.latency_s

    def attempts_within(self, budget_s: float, one_timeout_s: float, cap: int = 3) -> int:
        """How many tries of an exchange fit in `budget_s` (at least 1, at most `cap`)."""
        if one_timeout_s <= 0:
            return cap
        return max(1, min(cap, int(budget_s // one_timeout_s)))


def usb_latency_timer_ms(port: str) -> int | None:
    """The FTDI latency timer of `port` in ms, or None when the port is not an FTDI adapter.

    At its default of 16 ms every reply waits up to 16 ms in the adapter: a 100 Hz loop is then
    impossible. The udev rule in tools/udev sets it to 1 ms when the adapter is plugged in.
    """
    with contextlib.suppress(OSError, ValueError):
        name = os.path.basename(os.path.realpath(port))
        path = Path("/sys/bus/usb-serial/devices") / name / "latency_timer"
        if path.exists():
            return int(path.read_text().strip())
    return None


def warn_if_slow_adapter(port: str) -> None:
    latency = usb_latency_timer_ms(port)
    if latency is not None and latency > 1:
        log.warning(
            "%s: USB latency timer is %d ms, so every reply waits up to that long; install "
            "tools/udev/99-edge-runtime-ftdi.rules (or write 1 to latency_timer in sysfs)",
            port,
            latency,
        )
