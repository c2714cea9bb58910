"""Host/MCU clock offset from request/reply timestamps, so telemetry is stamped on host time.

Every reply that echoes a host sequence number gives one NTP-style sample: the host knows when
it sent the request and when the reply arrived, the header carries the MCU clock when the reply
was built. Assuming the MCU stamped it half-way through the round trip, `offset = midpoint -
mcu_time`, wrong by at most half the round-trip time. Delays on a serial link are one-sided
(queueing, USB polling), so the sample with the smallest round trip in a recent window is the
best one: that is the estimate. A sliding window (not the all-time minimum) follows a drifting
MCU crystal (50 ppm is 3 ms a minute).

The MCU clock is 32-bit microseconds and wraps every 71.6 minutes; it is unwrapped here.
"""

from __future__ import annotations

from collections import deque

WRAP_US = 1 << 32
HALF_WRAP_US = 1 << 31


class ClockSync:
    def __init__(self, window: int = 64) -> None:
        self._samples: deque[tuple[int, int]] = deque(maxlen=window)  # (rtt_ns, offset_ns)
        self._wraps = 0
        self._last_raw: int | None = None

    def unwrap_us(self, raw_us: int) -> int:
        """32-bit MCU microseconds -> a monotonic 64-bit count (tolerates slightly old stamps)."""
        if self._last_raw is None:
            self._last_raw = raw_us
        elif raw_us < self._last_raw - HALF_WRAP_US:
            self._wraps += 1
            self._last_raw = raw_us
        elif raw_us > self._last_raw + HALF_WRAP_US:
            return (self._wraps - 1) * WRAP_US + raw_us  # from just before the last wrap
        else:
            self._last_raw = max(self._last_raw, raw_us)
        return self._wraps * WRAP_US + raw_us

    def add(self, sent_ns: int, received_ns: int, mcu_raw_us: int) -> None:
        rtt_ns = received_ns - sent_ns
        if rtt_ns < 0:
            return
        midpoint_ns = sent_ns + rtt_ns // 2
        self._samples.append((rtt_ns, midpoint_ns - self.unwrap_us(mcu_raw_us) * 1000))

    @property
    def offset_ns(self) -> int | None:
        """host monotonic ns = MCU ns + offset; None until a sample arrived."""
        if not self._samples:
            return None
        return min(self._samples)[1]

    @property
    def uncertainty_ns(self) -> int | None:
        """Half the best round trip in the window: the bound on the offset's error."""
        if not self._samples:
            return None
        return min(self._samples)[0] // 2

    def to_host_ns(self, mcu_raw_us: int) -> int | None:
        offset = self.offset_ns
        if offset is None:
            return None
        return self.unwrap_us(mcu_raw_us) * 1000 + offset

    def reset(self) -> None:
        """Forget everything: after a reconnect the MCU may have rebooted."""
        self._samples.clear()
        self._wraps = 0
        self._last_raw = None
