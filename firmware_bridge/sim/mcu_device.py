"""Reference MCU for the MCU link, on a pty: the device side of docs/mcu-link.md in Python.

It is what firmware authors can read next to the spec, and the twin tests and `edgerun sim
mcu` run the host `McuBus` against. Protocol state lives here; physics is a `ServoPlant`
(`FirstOrderPlant` by default): `plant.command(goals, torque_on)` on every applied command and
on every torque change, `plant.measure()` for telemetry.

Timing: the watchdog deadline is checked by a worker thread that sleeps exactly until it (not
polled every tick), so it fires `watchdog_periods` x `period_s` after the last COMMAND or
HEARTBEAT, give or take the host scheduler. The same thread sends delayed replies.

Faults are injected here, never in the driver: `faults` drops incoming frames or replies,
corrupts reply bytes, delays replies or goes silent; `unplug()` / `replug()` come from
`PtyDevice`; `major` and `schema` can be set to model incompatible firmware.
"""

from __future__ import annotations

import collections
import heapq
import logging
import random
import select
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.errors import ProtocolError
from firmware_bridge.mcu import frame, messages
from firmware_bridge.mcu.errors import McuConfigError
from firmware_bridge.mcu.messages import Fault, McuState, MsgType, Status
from firmware_bridge.sim.plant import FirstOrderPlant, ServoPlant
from firmware_bridge.sim.pty_port import PtyDevice

log = logging.getLogger(__name__)


@dataclass
class McuFaults:
    """Fault injection; rates are probabilities in [0, 1]. Mutable while running."""

    drop_rx_rate: float = 0.0  # host frames lost before the MCU sees them
    drop_tx_rate: float = 0.0  # MCU replies lost on the way back
    corrupt_byte_rate: float = 0.0  # per byte of every reply
    reply_delay_s: float = 0.0
    silent: bool = False  # receive and act, but answer nothing


class SimulatedMcu(PtyDevice):
    def __init__(
        self,
        link: str | Path | None = None,
        motors: int = 6,
        period_s: float = 0.01,
        watchdog_periods: int = 4,
        plant: ServoPlant | None = None,
        faults: McuFaults | None = None,
        firmware: str = "edge-runtime sim-mcu",
        major: int = messages.PROTOCOL_MAJOR,
        schema: int = messages.SCHEMA_HASH,
        clock_start_us: int = 0,
        seed: int | None = None,
    ) -> None:
        if not 1 <= motors <= 64:
            raise ValueError(f"motors must be 1-64, got {motors}")
        if not 3 <= watchdog_periods <= 5:
            raise ValueError(f"watchdog_periods must be 3-5, got {watchdog_periods}")
        super().__init__(link, name="sim-mcu")
        self.motors = motors
        self.period_s = period_s
        self.watchdog_periods = watchdog_periods
        self.watchdog_s = period_s * watchdog_periods
        self.plant: ServoPlant = plant or FirstOrderPlant(motors)
        self.faults = faults or McuFaults()
        self.firmware = firmware
        self.major = major
        self.schema = schema
        self._rng = random.Random(seed)
        self._boot_us = time.monotonic_ns() // 1000 - clock_start_us
        self._cond = threading.Condition()
        self._reader = frame.FrameReader()
        self._outbox: list[tuple[float, int, bytes]] = []  # (due, order, wire) min-heap
        self._order = 0
        self._worker: threading.Thread | None = None
        self._seq = 0
        # protocol state, guarded by _cond
        self.state = McuState.IDLE
        self.fault = Fault.NONE
        self.host_compatible = False
        self.applied_seq = 0
        self.goal = np.zeros(motors)
        self._last_feed_s = 0.0
        self.counters = {"rx_frames": 0, "rx_bad": 0, "rx_dropped": 0, "applied": 0, "estops": 0}
        # The newest host frames acted on, oldest first, by type: what tests read the host's
        # order of e-stop and torque-off from (STATE_REQ and COMMAND are not kept).
        self.recent: collections.deque[str] = collections.deque(maxlen=32)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SimulatedMcu:
        super().start()
        self._worker = threading.Thread(target=self._work, name="sim-mcu-worker", daemon=True)
        self._worker.start()
        return self

    def stop(self) -> None:
        super().stop()  # sets _stop and joins the pty thread
        with self._cond:
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2.0)
            self._worker = None

    def replug(self) -> None:
        super().replug()
        with self._cond:
            self._reader = frame.FrameReader()  # half a frame from before the unplug is gone

    def status(self) -> dict[str, Any]:
        """State, fault, counters and the newest host frames, read consistently (for tests)."""
        with self._cond:
            return {"state": self.state.name, "fault": self.fault.name,
                    "recent": list(self.recent), **self.counters}  # fmt: skip

    @property
    def host_ns_at_mcu_zero(self) -> int:
        """Host monotonic ns when the MCU clock read 0: the truth a clock estimate is checked on."""
        return self._boot_us * 1000

    def mcu_time_us(self) -> int:
        return (time.monotonic_ns() // 1000 - self._boot_us) % frame.TIME_MOD

    # -- receiving (pty thread) ----------------------------------------------------------------

    def on_bytes(self, data: bytes) -> None:
        with self._cond:
            frames: list[frame.Frame] = []
            for item in self._reader.feed(data):
                if isinstance(item, ProtocolError):
                    self.counters["rx_bad"] += 1
                elif self.faults.drop_rx_rate and self._rng.random() < self.faults.drop_rx_rate:
                    self.counters["rx_dropped"] += 1
                else:
                    frames.append(item)
            # E-stop is top priority: act on it before anything queued in the same read.
            frames.sort(key=lambda f: f.msg_type != MsgType.ESTOP)
            for f in frames:
                self.counters["rx_frames"] += 1
                if f.msg_type not in (MsgType.STATE_REQ, MsgType.COMMAND):
                    known = f.msg_type in MsgType._value2member_map_
                    self.recent.append(MsgType(f.msg_type).name if known else hex(f.msg_type))
                self._handle(f)
            self._cond.notify_all()

    def _handle(self, f: frame.Frame) -> None:
        if f.msg_type == MsgType.ESTOP:
            self._estop(f.seq)  # no payload, no version check: stop whatever the host speaks
            return
        if f.msg_type != MsgType.HELLO and f.version != self.major:
            self._ack(f.seq, Status.INCOMPATIBLE)
            return
        try:
            body = messages.decode(f.msg_type, f.payload)
        except ProtocolError:
            known = f.msg_type in {int(t) for t in MsgType}
            self._ack(f.seq, Status.BAD_PAYLOAD if known else Status.UNKNOWN_TYPE)
            return
        handler = {
            MsgType.HELLO: self._hello,
            MsgType.ENABLE: self._enable,
            MsgType.DISABLE: self._disable,
            MsgType.COMMAND: self._command,
            MsgType.HEARTBEAT: self._heartbeat,
            MsgType.STATE_REQ: self._telemetry,
            MsgType.CLEAR: self._clear,
        }.get(MsgType(f.msg_type))
        if handler is None:  # an MCU -> host type sent to the MCU
            self._ack(f.seq, Status.UNKNOWN_TYPE)
        else:
            handler(f.seq, body)

    # -- protocol ------------------------------------------------------------------------------

    def _hello(self, seq: int, body: dict[str, Any]) -> None:
        self.host_compatible = body["major"] == self.major and body["schema"] == self.schema
        self._reply(
            MsgType.HELLO_ACK,
            {
                "echo": seq,
                "major": self.major,
                "minor": messages.PROTOCOL_MINOR,
                "schema": self.schema,
                "firmware": self.firmware,
                "motors": self.motors,
                "period_us": round(self.period_s * 1e6),
                "watchdog_periods": self.watchdog_periods,
            },
        )

    def _enable(self, seq: int, body: dict[str, Any]) -> None:
        if not self.host_compatible:
            self._ack(seq, Status.INCOMPATIBLE)
            return
        if self.state == McuState.FAULT:
            self._ack(seq, Status.FAULT_LATCHED)
            return
        if self.state != McuState.ARMED:
            self.goal = self.plant.measure()[0]  # hold where the joints are: no jump on enable
            self.state = McuState.ARMED
            self.plant.command(self.goal, np.ones(self.motors, dtype=bool))
        self._last_feed_s = time.monotonic()
        self._ack(seq, Status.OK)

    def _torque_off(self) -> None:
        self.plant.command(self.goal, np.zeros(self.motors, dtype=bool))

    def _disable(self, seq: int, body: dict[str, Any]) -> None:
        if self.state == McuState.ARMED:
            self.state = McuState.IDLE
        self._torque_off()
        self._ack(seq, Status.OK)

    def _command(self, seq: int, body: dict[str, Any]) -> None:
        goal = body["goal"]
        if self.state == McuState.FAULT:
            self._ack(seq, Status.FAULT_LATCHED)
        elif self.state != McuState.ARMED:
            self._ack(seq, Status.NOT_ARMED)
        elif len(goal) != self.motors or not messages.all_finite(goal):
            self._ack(seq, Status.BAD_PAYLOAD)
        else:
            self.goal = np.asarray(goal, dtype=np.float64)
            self.plant.command(self.goal, np.ones(self.motors, dtype=bool))
            self._last_feed_s = time.monotonic()
            self.applied_seq = seq
            self.counters["applied"] += 1
            self._ack(seq, Status.OK)

    def _heartbeat(self, seq: int, body: dict[str, Any]) -> None:
        if self.state == McuState.ARMED:
            self._last_feed_s = time.monotonic()

    def _telemetry(self, seq: int, body: dict[str, Any]) -> None:
        pos, vel, cur = self.plant.measure()
        self._reply(
            MsgType.TELEMETRY,
            {
                "echo": seq,
                "state": int(self.state),
                "fault": int(self.fault),
                "applied": self.applied_seq,
                "pos": pos.tolist(),
                "vel": vel.tolist(),
                "cur": cur.tolist(),
                "err": [0] * self.motors,
            },
        )

    def _clear(self, seq: int, body: dict[str, Any]) -> None:
        if self.state == McuState.FAULT:
            self.state, self.fault = McuState.IDLE, Fault.NONE
        self._ack(seq, Status.OK)

    def _estop(self, seq: int) -> None:
        self.counters["estops"] += 1
        self._torque_off()
        self.state, self.fault = McuState.FAULT, Fault.ESTOP
        self._ack(seq, Status.OK)

    def _trip_watchdog(self) -> None:
        self._torque_off()
        self.state, self.fault = McuState.FAULT, Fault.WATCHDOG
        log.info("sim-mcu: watchdog latched after %.0f ms without commands", self.watchdog_s * 1e3)
        self._reply(MsgType.FAULT, {"state": int(self.state), "fault": int(self.fault)})

    # -- sending, with faults ------------------------------------------------------------------

    def _ack(self, echo: int, code: Status) -> None:
        self._reply(MsgType.ACK, {"echo": echo, "code": int(code)})

    def _reply(self, msg_type: MsgType, body: dict[str, Any]) -> None:
        faults = self.faults
        wire = frame.DELIMITER + frame.encode(
            frame.Frame(
                self.major, msg_type, self._seq, self.mcu_time_us(), messages.encode(msg_type, body)
            )
        )
        self._seq = (self._seq + 1) % frame.SEQ_MOD
        if faults.silent or (faults.drop_tx_rate and self._rng.random() < faults.drop_tx_rate):
            return
        if faults.corrupt_byte_rate:
            wire = self._corrupt(wire, faults.corrupt_byte_rate)
        if faults.reply_delay_s > 0 or self._outbox:  # keep replies in order behind delayed ones
            self._order += 1
            heapq.heappush(
                self._outbox, (time.monotonic() + faults.reply_delay_s, self._order, wire)
            )
            self._cond.notify_all()
        else:
            self.send(wire)

    def _corrupt(self, wire: bytes, rate: float) -> bytes:
        out = bytearray(wire)
        for i in range(len(out)):
            if self._rng.random() < rate:
                out[i] ^= self._rng.randrange(1, 256)
        return bytes(out)

    # -- worker: watchdog deadline and delayed replies -----------------------------------------

    def _input_pending(self) -> bool:
        master = self._master
        try:
            return master >= 0 and bool(select.select([master], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def _work(self) -> None:
        # A real MCU's UART interrupt runs before its watchdog check, so a command that has
        # already arrived always counts. Here the pty thread may simply not have been scheduled
        # yet (a loaded host), so bytes waiting on the pty defer the trip by up to one period.
        grace_s = self.watchdog_s + self.period_s
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                late = self.state == McuState.ARMED and now - self._last_feed_s > self.watchdog_s
                if late and self._input_pending() and now - self._last_feed_s < grace_s:
                    self._cond.wait(0.001)  # let the pty thread apply what already arrived
                    continue
                if late:
                    self._trip_watchdog()
                while self._outbox and self._outbox[0][0] <= now:
                    self.send(heapq.heappop(self._outbox)[2])
                deadlines = [now + 0.1]
                if self.state == McuState.ARMED:
                    deadlines.append(self._last_feed_s + self.watchdog_s + 1e-4)
                if self._outbox:
                    deadlines.append(self._outbox[0][0])
                self._cond.wait(max(0.0, min(deadlines) - now))


def check_sim_mcu_ranges(
    motors: int,
    period_ms: float,
    watchdog_periods: int,
    drop_rate: float,
    corrupt_rate: float,
    delay_ms: float,
) -> None:
    """`edgerun sim mcu`'s settings within what the link allows: McuConfigError otherwise."""
    checks = [
        (1 <= motors <= 64, f"--motors {motors} is out of range; use 1-64"),
        (1 <= period_ms <= 1000, f"--period-ms {period_ms} is out of range; use 1-1000"),
        (
            3 <= watchdog_periods <= 5,
            f"--watchdog-periods {watchdog_periods} is out of range; use 3-5",
        ),
        (0 <= drop_rate <= 1, f"--drop-rate {drop_rate} is not in [0, 1]"),
        (0 <= corrupt_rate <= 1, f"--corrupt-rate {corrupt_rate} is not in [0, 1]"),
        (0 <= delay_ms <= 1000, f"--delay-ms {delay_ms} is out of range; use 0-1000"),
    ]
    for ok, sentence in checks:
        if not ok:
            raise McuConfigError(sentence)
