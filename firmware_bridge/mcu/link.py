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
import errno
import fcntl
import logging
import os
import select
import termios
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
WRITE_TIMEOUT_S = 0.1  # a full transmit buffer that does not drain means a stuck adapter
MAX_EMPTY_READS = 100  # consecutive wakeups without data before the port counts as gone


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
            # Exclusive (flock): a second edgerun is refused rather than sharing the link.
            self._serial = serial.Serial(port, baud, timeout=0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortNotFoundError(
                f"cannot open the MCU port {port} at {baud} baud ({exc}); check that the board "
                "is plugged in, the path is right, you are in the dialout group and no other "
                "program (the edge-runtime service?) holds it"
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
        self.spurious_wakeups = 0
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()  # close() wakes the reader at once
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
                self._write_all(bytes(wire))
            except OSError as exc:
                self._fail(exc)
                raise self.down_error() from exc
            self.frames_sent += len(msgs)
        return seqs

    def _write_all(self, data: bytes) -> None:
        """One `os.write` in the normal case; waits for room only if the driver's buffer is full.

        (pyserial's `write` adds a `select` after every write when a write timeout is set.)
        """
        fd = self._serial.fd
        deadline = time.monotonic() + WRITE_TIMEOUT_S
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view) :]
                continue
            except (BlockingIOError, InterruptedError):
                pass
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise OSError(errno.ETIMEDOUT, f"write of {len(data)} bytes timed out")

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
        """Read whatever arrived, stamp it, decode it. Runs until close() or a lost port.

        Reads the fd directly rather than through `Serial.read`, which raises on a wakeup that
        brings no data and throws away the bytes it had gathered. A pty (and, rarely, a USB
        adapter) can report readiness and then deliver nothing; a port that is really gone
        fails the TIOCINQ ioctl with EIO, so that probe tells the two apart.
        """
        reader = frame.FrameReader()
        fd = self._serial.fd
        empty_in_a_row = 0
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd, self._wake_r], [], [], READ_POLL_S)
                if self._wake_r in ready or self._stop.is_set():
                    return
                if not ready:
                    continue
                data = os.read(fd, 4096)
                if not data:
                    fcntl.ioctl(fd, termios.TIOCINQ, b"\0\0\0\0")  # EIO once the port is gone
                    empty_in_a_row += 1
                    if empty_in_a_row > MAX_EMPTY_READS:
                        raise OSError(errno.EIO, "the port keeps waking up with no data")
                    self.spurious_wakeups += 1
                    time.sleep(0.0005)
                    continue
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError) as exc:
                if not self._stop.is_set():
                    self._fail(exc)
                return
            empty_in_a_row = 0
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
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        with contextlib.suppress(Exception):
            self._serial.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fail(McuLinkError("closed"), quiet=True)

    def __enter__(self) -> McuLink:
        """The constructor already opened the port; `with` only guarantees the close."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
