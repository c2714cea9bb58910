"""Sequence-echo accounting: round-trip times and lost commands, from the MCU's echoes.

The MCU echoes a command's sequence number in an ACK when it applies it. The serial link is
ordered, so when the echo of command k arrives, every command sent before k that is still
unanswered was lost (either direction: the command or its ACK). Commands still unanswered after
`expiry_ns` are counted lost too, so a silent link shows up in the counters.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class McuLinkStats:
    """A snapshot of the link counters; round-trip figures in microseconds (NaN when none)."""

    frames_sent: int
    frames_received: int
    bad_frames: int
    commands_sent: int
    commands_acked: int
    commands_lost: int
    commands_rejected: int
    telemetry_timeouts: int
    reconnects: int
    rtt_us_p50: float
    rtt_us_p99: float
    rtt_us_max: float

    @property
    def loss_ratio(self) -> float:
        done = self.commands_acked + self.commands_lost
        return self.commands_lost / done if done else 0.0


class CommandTracker:
    def __init__(self, expiry_ns: int, window: int = 2000) -> None:
        self.expiry_ns = expiry_ns
        self._pending: OrderedDict[int, int] = OrderedDict()  # seq -> sent_ns, in send order
        self._rtt_ns: deque[int] = deque(maxlen=window)
        self.sent = 0
        self.acked = 0
        self.lost = 0
        self.rejected = 0

    def on_sent(self, seq: int, sent_ns: int) -> None:
        self._pending.pop(seq, None)  # a 16-bit seq wrapped onto a very old entry
        self._pending[seq] = sent_ns
        self.sent += 1
        self._expire(sent_ns)

    def on_echo(self, seq: int, received_ns: int, ok: bool) -> int | None:
        """Account an ACK; returns the round trip in ns, or None if `seq` was not pending."""
        if seq not in self._pending:
            return None
        while True:
            head, sent_ns = self._pending.popitem(last=False)
            if head == seq:
                break
            self.lost += 1
        rtt = received_ns - sent_ns
        self._rtt_ns.append(rtt)
        self.acked += 1
        if not ok:
            self.rejected += 1
        return rtt

    def _expire(self, now_ns: int) -> None:
        while self._pending:
            seq, sent_ns = next(iter(self._pending.items()))
            if now_ns - sent_ns < self.expiry_ns:
                return
            del self._pending[seq]
            self.lost += 1

    def rtt_us(self) -> tuple[float, float, float]:
        if not self._rtt_ns:
            return (float("nan"),) * 3
        rtt = np.asarray(self._rtt_ns, dtype=np.float64) / 1000.0
        p50, p99 = np.percentile(rtt, [50, 99])
        return float(p50), float(p99), float(rtt.max())
