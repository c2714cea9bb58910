"""`McuLink`: the serial port, a reader thread, and request/reply matching by echoed sequence.

The MCU link is full duplex (unlike half-duplex Dynamixel), and the MCU speaks unasked (FAULT
when its watchdog latches). A reader thread therefore owns all reads: it timestamps each frame
the moment `read()` returns it, which is what makes round-trip times and clock-offset samples
honest, and it notices an unplugged adapter even while the control loop is between calls.
Writes happen on the caller's thread under a lock, one `write()` per batch of frames, so the
control loop's own writes are what feed the MCU watchdog (never a side thread that would keep
the motors alive after the loop hung).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from firmware_bridge.errors import PortNotFoundError, ProtocolError
from firmware_bridge.mcu import frame, messages
from firmware_bridge.mcu.clock_sync import ClockSync
from firmware_bridge.mcu.errors import McuLinkError
from firmware_bridge.mcu.messages import MsgType

log = logging.getLogger(__name__)

READ_POLL_S = 0.05  # how often the reader re-checks its stop flag when the line is quiet


@dataclass
class Reply:
    """A decoded frame from the MCU and the host monotonic time it was read."""

    frame: frame.Frame
    body: dict[str, Any]
    received_ns: int


class _Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: Reply | None = None


class McuLink:
    """One open serial connection. Closed for good on the first I/O error (reopen = new link)."""

    def __init__(
        self,
        port: str,
        baud: int,
        clock: ClockSync,
        on_reply: Callable[[Reply, int | None], None],
    ) -> None:
        self.port = port
        self.clock = clock
        self._on_reply = on_reply  # (reply, sent_ns of the echoed frame or None), reader thread
        try:
            self._serial = serial.Serial(port, baud, timeout=READ_POLL_S, write_timeout=0.1)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortNotFoundError(
                f"cannot open the MCU port {port} at {baud} baud ({exc}); check that the board "
                "is plugged in, the path is right and you are in the dialout group"
            ) from exc
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._seq = 0
        self._sent_ns: OrderedDict[int, int] = OrderedDict()  # recent seq -> sent time
        self._waiters: dict[int, _Waiter] = {}
        self.error: BaseException | None = None
        self.frames_sent = 0
        self.frames_received = 0
        self.bad_frames = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read_loop, name=f"mcu-link {port}", daemon=True
        )
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self.error is None and not self._stop.is_set()

    # -- writing -------------------------------------------------------------------------------

    def send(
        self,
        msgs: list[tuple[MsgType, dict[str, Any]]],
        wait: bool = False,
        before_write: Callable[[list[int], int], None] | None = None,
    ) -> list[int]:
        """Encode and write frames in one `write()`; returns their sequence numbers.

        With `wait`, a waiter is registered for each seq before the write, and `before_write`
        (seqs, sent_ns) runs before it too, so a fast reply can never beat its bookkeeping.
        """
        wire = bytearray(frame.DELIMITER)  # ends any noise before it, so our frame survives
        seqs: list[int] = []
        with self._write_lock:
            if not self.alive:
                raise self.down_error()
            now_ns = time.monotonic_ns()
            with self._lock:
                for msg_type, body in msgs:
                    seq = self._seq
                    self._seq = (self._seq + 1) % frame.SEQ_MOD
                    payload = messages.encode(msg_type, body)
                    wire += frame.encode(
                        frame.Frame(messages.PROTOCOL_MAJOR, msg_type, seq, 0, payload)
                    )
                    self._sent_ns.pop(seq, None)
                    self._sent_ns[seq] = now_ns
                    if len(self._sent_ns) > 1024:
                        self._sent_ns.popitem(last=False)
                    if wait:
                        self._waiters[seq] = _Waiter()
                    seqs.append(seq)
            if before_write is not None:
                before_write(seqs, now_ns)
            try:
                self._serial.write(wire)
            except (serial.SerialException, OSError) as exc:
                self._fail(exc)
                raise self.down_error() from exc
            self.frames_sent += len(msgs)
        return seqs

    def wait_reply(self, seq: int, timeout_s: float) -> Reply | None:
        """The reply echoing `seq`, or None on timeout; raises if the link went down."""
        with self._lock:
            waiter = self._waiters.get(seq)
        if waiter is None:
            raise ValueError(f"no waiter for seq {seq}: send(..., wait=True) first")
        try:
            waiter.event.wait(timeout_s)
        finally:
            with self._lock:
                self._waiters.pop(seq, None)
        if waiter.reply is None and not self.alive:
            raise self.down_error()
        return waiter.reply

    # -- reading (reader thread) ---------------------------------------------------------------

    def _read_loop(self) -> None:
        reader = frame.FrameReader()
        while not self._stop.is_set():
            try:
                data = self._serial.read(self._serial.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._stop.is_set():
                    self._fail(exc)
                return
            if not data:
                continue
            received_ns = time.monotonic_ns()
            for item in reader.feed(data):
                if isinstance(item, ProtocolError):
                    self.bad_frames += 1
                    log.debug("%s: dropped a bad frame: %s", self.port, item)
                    continue
                self._dispatch(item, received_ns)

    def _dispatch(self, f: frame.Frame, received_ns: int) -> None:
        try:
            body = messages.decode(f.msg_type, f.payload)
        except ProtocolError as exc:
            self.bad_frames += 1
            log.debug("%s: dropped a bad payload: %s", self.port, exc)
            return
        self.frames_received += 1
        reply = Reply(f, body, received_ns)
        echo = body.get("echo") if f.msg_type != MsgType.FAULT else None
        sent_ns = None
        if isinstance(echo, int):
            with self._lock:
                sent_ns = self._sent_ns.get(echo)
                waiter = self._waiters.get(echo)
            if sent_ns is not None:
                self.clock.add(sent_ns, received_ns, f.mcu_time_us)
            if waiter is not None:
                waiter.reply = reply
                waiter.event.set()
        self._on_reply(reply, sent_ns)

    # -- failure and shutdown ------------------------------------------------------------------

    def _fail(self, exc: BaseException, quiet: bool = False) -> None:
        if self.error is None:
            self.error = exc
            if not quiet:
                log.warning("%s: MCU link lost: %s", self.port, exc)
        with self._lock:
            waiters = list(self._waiters.values())
        for waiter in waiters:
            waiter.event.set()

    def down_error(self) -> McuLinkError:
        """The one-sentence error for calls made while this link is down."""
        why = self.error or "closed"
        return McuLinkError(
            f"the MCU link on {self.port} is down ({why}); check the USB cable and the board's "
            "power, the bus reconnects when the port comes back"
        )

    def close(self) -> None:
        """Stop the reader and release the port. Idempotent."""
        self._stop.set()
        with contextlib.suppress(Exception):
            self._serial.cancel_read()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        with contextlib.suppress(Exception):
            self._serial.close()
        self._fail(McuLinkError("closed"), quiet=True)
