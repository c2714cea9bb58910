"""`McuBus`: the `MotorBus` of a custom motor board speaking the MCU link (docs/mcu-link.md).

Per control period the loop calls `read_state()` (one STATE_REQ -> TELEMETRY exchange, bounded
by `reply_timeout_s`, one period by default) and `write_goal()` (one COMMAND frame, not waited
for: its ACK arrives on the reader thread and feeds the round-trip and loss counters). The
COMMAND frames are the MCU watchdog's food, so if the loop stalls the motors stop within 3-5
periods and stay stopped until `clear_fault()`.

When the link drops, the next call raises at once (the reader thread saw it), and every later
call tries to reopen the port at most once per period, so an unplugged adapter costs the loop
an exception per period, never a long block; on success HELLO runs again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import numpy as np

from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.errors import MotorTimeoutError, PortNotFoundError
from firmware_bridge.mcu.clock_sync import ClockSync
from firmware_bridge.mcu.errors import McuConfigError, McuFaultError, McuLinkError
from firmware_bridge.mcu.handshake import McuInfo, check_compatible, hello_body
from firmware_bridge.mcu.link import McuLink, Reply
from firmware_bridge.mcu.link_stats import CommandTracker, McuLinkStats
from firmware_bridge.mcu.messages import Fault, McuState, MsgType, Status

log = logging.getLogger(__name__)

ESTOP_COPIES = 3  # one write, three frames: one corrupted frame must not lose the e-stop


class McuBus(MotorBus):
    """Motors behind an MCU on `port`; `motor_ids[i]` names the MCU's motor channel i.

    The constructor opens the port and runs HELLO, raising `PortNotFoundError`,
    `MotorTimeoutError` (nobody answered), `McuIncompatibleError` (refusing to arm) or
    `McuConfigError` (motor count or period mismatch). `period_s` is the control loop's period:
    it bounds `read_state` (unless `reply_timeout_s` says otherwise) and the reconnect rate, and
    must not exceed the MCU's period, or its watchdog would fire between two commands.
    """

    def __init__(
        self,
        port: str,
        motor_ids: list[int],
        baud: int = 1_000_000,
        period_s: float = 0.01,
        reply_timeout_s: float | None = None,
        hello_timeout_s: float = 0.5,
    ) -> None:
        super().__init__(motor_ids)
        if not 0 < period_s <= 1.0:
            raise McuConfigError(f"period_s must be in (0, 1] seconds, got {period_s}")
        self.port = port
        self.baud = baud
        self.period_s = period_s
        self.reply_timeout_s = reply_timeout_s or period_s
        self.hello_timeout_s = hello_timeout_s
        self.clock = ClockSync()
        self._tracker = CommandTracker(expiry_ns=max(int(1e9), int(50 * period_s * 1e9)))
        self._stats_lock = threading.Lock()
        self._telemetry_timeouts = 0
        self._reconnects = 0
        self._bad_frames_before = 0
        self._frames_before = (0, 0)
        self._armed = False
        self.mcu_state = McuState.IDLE
        self.fault = Fault.NONE
        self._last_reopen_s = 0.0
        self._link: McuLink | None = None
        self._released = False
        self.info = self._connect()

    # -- connection ----------------------------------------------------------------------------

    def _connect(self) -> McuInfo:
        link = McuLink(self.port, self.baud, self.clock, self._on_reply)
        self._link = link
        try:
            return self._hello(link)
        except BaseException:
            self._retire_link()
            raise

    def _hello(self, link: McuLink) -> McuInfo:
        self.clock.reset()
        body = hello_body()
        reply = None
        for _ in range(3):  # a dropped HELLO or HELLO_ACK must not fail a connect
            (seq,) = link.send([(MsgType.HELLO, body)], wait=True)
            reply = link.wait_reply(seq, self.hello_timeout_s / 3)
            if reply is not None and reply.frame.msg_type == MsgType.HELLO_ACK:
                break
            reply = None
        if reply is None:
            raise MotorTimeoutError(
                f"no MCU answered HELLO on {self.port} at {self.baud} baud within "
                f"{self.hello_timeout_s * 1000:.0f} ms; check the port, the baud rate and that "
                "the firmware speaks the MCU link"
            )
        info = McuInfo.from_body(reply.body)
        check_compatible(info, self.port, len(self.motor_ids), self.period_s)
        return info

    def _retire_link(self) -> None:
        if self._link is not None:
            with self._stats_lock:
                sent, received = self._frames_before
                self._frames_before = (
                    sent + self._link.frames_sent,
                    received + self._link.frames_received,
                )
                self._bad_frames_before += self._link.bad_frames
            self._link.close()
            self._link = None

    def _live_link(self) -> McuLink:
        """The open link, or one reopen attempt per period, or McuLinkError at once."""
        if self._released:
            raise McuLinkError(f"the MCU bus on {self.port} is closed")
        link = self._link
        if link is not None and link.alive:
            return link
        down = link.down_error() if link is not None else None
        self._retire_link()
        self._armed = False
        now = time.monotonic()
        if now - self._last_reopen_s < self.period_s:
            raise down or McuLinkError(f"the MCU link on {self.port} is down; reconnecting")
        self._last_reopen_s = now
        try:
            self.info = self._connect()
        except (PortNotFoundError, MotorTimeoutError, McuLinkError) as exc:
            raise McuLinkError(
                f"the MCU link on {self.port} is down and reconnecting failed ({exc})"
            ) from exc
        self._reconnects += 1
        log.info("%s: MCU link reconnected (torque stays off until enable())", self.port)
        assert self._link is not None
        return self._link

    # -- replies (reader thread) ---------------------------------------------------------------

    def _on_reply(self, reply: Reply, sent_ns: int | None) -> None:
        msg_type, body = reply.frame.msg_type, reply.body
        if msg_type == MsgType.ACK:
            with self._stats_lock:
                self._tracker.on_echo(body["echo"], reply.received_ns, body["code"] == Status.OK)
            if body["code"] == Status.FAULT_LATCHED:
                self.mcu_state = McuState.FAULT
        elif msg_type in (MsgType.FAULT, MsgType.TELEMETRY):
            self.mcu_state = McuState(body["state"]) if body["state"] <= 2 else McuState.FAULT
            self.fault = Fault(body["fault"]) if body["fault"] <= 2 else Fault.WATCHDOG
            if msg_type == MsgType.FAULT:
                log.warning("%s: MCU latched a %s fault", self.port, self.fault.name.lower())
        if self.mcu_state != McuState.ARMED:
            self._armed = False

    # -- MotorBus ------------------------------------------------------------------------------

    def read_state(self) -> JointState:
        link = self._live_link()
        (seq,) = link.send([(MsgType.STATE_REQ, {})], wait=True)
        reply = link.wait_reply(seq, self.reply_timeout_s)
        if reply is None or reply.frame.msg_type != MsgType.TELEMETRY:
            with self._stats_lock:
                self._telemetry_timeouts += 1
            raise MotorTimeoutError(
                f"no telemetry from the MCU on {self.port} within "
                f"{self.reply_timeout_s * 1000:.1f} ms (request {seq}); the link is noisy or "
                "the MCU is stalled"
            )
        return self._joint_state(reply)

    def _joint_state(self, reply: Reply) -> JointState:
        b = reply.body
        n = len(self.motor_ids)
        if not all(len(b[k]) == n for k in ("pos", "vel", "cur", "err")):
            raise McuLinkError(
                f"telemetry from the MCU on {self.port} does not hold {n} motors; the firmware "
                "and the robot config disagree"
            )
        errors = {mid: f"motor error 0x{e:02x}" for mid, e in zip(self.motor_ids, b["err"]) if e}
        if b["state"] == McuState.FAULT:
            why = f"MCU {Fault(b['fault']).name.lower() if b['fault'] <= 2 else 'unknown'} fault"
            errors = {mid: f"{why} latched" for mid in self.motor_ids}
        stamp = self.clock.to_host_ns(reply.frame.mcu_time_us)
        return JointState(
            positions_rad=np.asarray(b["pos"], dtype=np.float64),
            velocities_rad_s=np.asarray(b["vel"], dtype=np.float64),
            currents_a=np.asarray(b["cur"], dtype=np.float64),
            stamp_ns=stamp if stamp is not None else reply.received_ns,
            errors=errors,
        )

    def _write_goal(self, positions_rad: np.ndarray) -> None:
        link = self._live_link()
        if self.mcu_state == McuState.FAULT:
            raise McuFaultError(
                f"the MCU on {self.port} latched a {self.fault.name.lower()} fault and turned "
                "torque off; find the cause, then call clear_fault() and enable()"
            )
        if not self._armed:
            raise McuLinkError(f"write_goal on {self.port} before enable(); torque is off")
        link.send([(MsgType.COMMAND, {"goal": positions_rad.tolist()})], before_write=self._track)

    def _track(self, seqs: list[int], sent_ns: int) -> None:
        with self._stats_lock:
            for seq in seqs:
                self._tracker.on_sent(seq, sent_ns)

    def heartbeat(self) -> None:
        """Feed the MCU watchdog without a new goal (a loop holding still still writes goals)."""
        self._live_link().send([(MsgType.HEARTBEAT, {})])

    def _request(self, msg_type: MsgType, what: str) -> Status:
        link = self._live_link()
        (seq,) = link.send([(msg_type, {})], wait=True)
        reply = link.wait_reply(seq, max(self.reply_timeout_s, 0.1))
        if reply is None or reply.frame.msg_type != MsgType.ACK:
            raise MotorTimeoutError(f"the MCU on {self.port} did not confirm {what}")
        return Status(reply.body["code"]) if reply.body["code"] <= 5 else Status.BAD_PAYLOAD

    def enable(self) -> None:
        """Torque on and watchdog armed; the MCU holds the present position until a goal."""
        status = self._request(MsgType.ENABLE, "torque on")
        if status == Status.FAULT_LATCHED:
            raise McuFaultError(
                f"the MCU on {self.port} refuses torque on: a {self.fault.name.lower()} fault is "
                "latched; call clear_fault() first"
            )
        if status != Status.OK:
            raise McuLinkError(f"the MCU on {self.port} refused torque on ({status.name})")
        self.mcu_state = McuState.ARMED
        self._armed = True

    def disable(self) -> None:
        """Torque off. If the link is down the MCU watchdog turns torque off by itself."""
        self._armed = False
        try:
            self._request(MsgType.DISABLE, "torque off")
        except (McuLinkError, MotorTimeoutError) as exc:
            watchdog_ms = self.info.watchdog_s * 1000
            raise McuLinkError(
                f"could not confirm torque off on {self.port} ({exc}); the MCU watchdog turns "
                f"torque off within {watchdog_ms:.0f} ms of the last command"
            ) from exc

    def estop(self) -> bool:
        """Emergency stop: torque off and latched. Never raises; True if the MCU confirmed.

        Safe to call repeatedly and from any thread (a signal handler's thread included). The
        host latches too: `write_goal` refuses until `clear_fault()`, confirmed or not.
        """
        self._armed = False
        self.mcu_state, self.fault = McuState.FAULT, Fault.ESTOP
        try:
            link = self._live_link()
            seqs = link.send([(MsgType.ESTOP, {})] * ESTOP_COPIES, wait=True)
            replies = [link.wait_reply(s, max(self.reply_timeout_s, 0.05)) for s in seqs]
        except Exception as exc:
            log.error("%s: e-stop not confirmed: %s", self.port, exc)
            return False
        return any(r is not None and r.body.get("code") == Status.OK for r in replies)

    def emergency_stop(self) -> bool:
        """`MotorBus` hook: the MCU e-stop (`estop()`), sent before torque off."""
        return self.estop()

    def clear_device_stop(self) -> str:
        """`MotorBus` hook: clear a fault latched before this run (asks the MCU first)."""
        # TELEMETRY carries the MCU's state and fault; unknown: enable() says if still latched
        with contextlib.suppress(MotorTimeoutError, McuLinkError):
            self.read_state()
        if self.mcu_state != McuState.FAULT:
            return ""
        fault = self.fault.name.lower()
        self.clear_fault()
        log.warning("%s: cleared the MCU's latched %s fault from an earlier stop", self.port, fault)
        return fault

    def clear_fault(self) -> None:
        """Clear a latched fault (torque stays off; call enable() to resume)."""
        status = self._request(MsgType.CLEAR, "the fault clear")
        if status != Status.OK:
            raise McuLinkError(f"the MCU on {self.port} refused to clear its fault ({status.name})")
        self.mcu_state = McuState.IDLE
        self.fault = Fault.NONE

    def _close(self) -> None:
        self._released = True
        self._retire_link()

    # -- figures -------------------------------------------------------------------------------

    @property
    def stats(self) -> McuLinkStats:
        with self._stats_lock:
            sent, received = self._frames_before
            bad = self._bad_frames_before
            link = self._link
            if link is not None:
                sent, received, bad = (
                    sent + link.frames_sent,
                    received + link.frames_received,
                    bad + link.bad_frames,
                )
            t = self._tracker
            return McuLinkStats(
                sent, received, bad, t.sent, t.acked, t.lost, t.rejected,
                self._telemetry_timeouts, self._reconnects, *t.rtt_us(),
            )  # fmt: skip
