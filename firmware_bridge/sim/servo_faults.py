"""Faults a simulated servo chain can inject, reproducibly (seeded), on the bytes it handles.

Fault injection lives here, in the device twin, never in the driver: the driver under test sees
exactly what a flaky cable or a browned-out servo would give it. Unplugging is `unplug()` on
the device itself (the pty disappears, like a pulled USB adapter).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass


@dataclass
class ServoFaults:
    """Rates are probabilities: per reply packet for drops, per byte for corruption."""

    drop_rate: float = 0.0  # a reply is never sent (servo missed the instruction)
    corrupt_rate: float = 0.0  # each byte of a reply is flipped to another value
    corrupt_rx_rate: float = 0.0  # each byte the chain receives is flipped
    delay_s: float = 0.0  # extra time before every reply (a slow or overloaded servo)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "corrupt_rate", "corrupt_rx_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if self.delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {self.delay_s}")

    @property
    def any(self) -> bool:
        return bool(self.drop_rate or self.corrupt_rate or self.corrupt_rx_rate or self.delay_s)


@dataclass
class FaultCounts:
    dropped_replies: int = 0
    corrupted_tx_bytes: int = 0
    corrupted_rx_bytes: int = 0


class FaultInjector:
    """Applies `ServoFaults` to byte strings with its own RNG, counting what it did."""

    def __init__(self, faults: ServoFaults | None = None) -> None:
        self.counts = FaultCounts()
        self.set(faults or ServoFaults())

    def set(self, faults: ServoFaults) -> None:
        """Inject these faults from now on (a campaign turns them on mid-run); counts go on."""
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def _corrupt(self, data: bytes, rate: float) -> tuple[bytes, int]:
        if rate <= 0.0:
            return data, 0
        rng = self._rng
        out = None
        flipped = 0
        for index in range(len(data)):
            if rng.random() < rate:
                if out is None:
                    out = bytearray(data)
                out[index] ^= rng.randrange(1, 256)  # always a different value
                flipped += 1
        return (bytes(out) if out is not None else data), flipped

    def incoming(self, data: bytes) -> bytes:
        data, flipped = self._corrupt(data, self.faults.corrupt_rx_rate)
        self.counts.corrupted_rx_bytes += flipped
        return data

    def reply(self, frame: bytes) -> bytes | None:
        """One reply packet as it leaves the servo: dropped (None) or possibly corrupted."""
        if self.faults.drop_rate and self._rng.random() < self.faults.drop_rate:
            self.counts.dropped_replies += 1
            return None
        frame, flipped = self._corrupt(frame, self.faults.corrupt_rate)
        self.counts.corrupted_tx_bytes += flipped
        return frame

    def delay(self, since_s: float) -> None:
        """Hold the reply until `delay_s` after the request arrived (`since_s`, monotonic).

        Counted from the request's arrival, not from the end of the simulator's own work: on
        a robot the wait is wire time and the servo's firmware, which run on the servo, so the
        simulator's Python time (on the host's cores) must not add to it."""
        wait_s = since_s + self.faults.delay_s - time.monotonic()
        if wait_s > 0:
            time.sleep(wait_s)
