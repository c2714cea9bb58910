"""The serial side of a Dynamixel bus: one port, one exchange at a time, reconnect after loss.

An exchange writes one complete frame in one `write()` (a gap of more than 1.5 ms inside a
packet makes servos drop it) and then collects status packets until the expected number have
arrived or the deadline computed from the baud rate passes. Waiting happens in `select()`, so
the host burns no CPU while the servos answer (the ROBOTIS SDK polls in a loop instead).

When the adapter disappears the next exchange raises `MotorBusError` at once; later calls
try to reopen the same path, so the bus comes back by itself when the adapter does.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import time
from dataclasses import dataclass

import serial

from firmware_bridge.dynamixel.protocol import Packet, PacketStream
from firmware_bridge.dynamixel.timing import Timing, warn_if_slow_adapter
from firmware_bridge.errors import MotorBusError, PortNotFoundError

log = logging.getLogger(__name__)


@dataclass
class DynamixelLinkStats:
    """What the link saw since it was created: every rejected byte and packet is counted."""

    exchanges: int = 0
    timeouts: int = 0
    short_answers: int = 0  # all expected bytes arrived but did not make valid packets
    crc_errors: int = 0
    discarded_bytes: int = 0
    stale_bytes: int = 0
    io_errors: int = 0
    reconnects: int = 0


class DynamixelLink:
    """A pyserial port carrying Protocol 2.0, with deadlines from `Timing`."""

    def __init__(self, port: str, baud: int = 1_000_000, latency_s: float = 0.003) -> None:
        self.port = str(port)
        self.baud = int(baud)
        self.timing = Timing(self.baud, latency_s)
        self.stats = DynamixelLinkStats()
        self._stream = PacketStream()
        self._serial: serial.Serial | None = None
        self._lost = False
        self._closed = False
        self._dirty = True
        self._fd = -1
        self._poll: select.poll | None = None
        self._fixed_timeouts: dict[tuple[int, int], float] = {}
        self._fixed_deadline = 0.0  # of the answer `request_fixed` asked for

    # -- port lifetime -------------------------------------------------------------------------

    def open(self) -> None:
        """Open the port (PortNotFoundError with a sentence saying what to check if it can't)."""
        self._serial = _open_serial(self.port, self.baud)
        self._fd = self._serial.fileno()
        self._poll = None
        self._dirty = True
        self._closed = False
        warn_if_slow_adapter(self.port)

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def close(self) -> None:
        """Release the port; later exchanges fail instead of reopening it. Idempotent."""
        self._closed = True
        self._drop_port()

    def __enter__(self) -> DynamixelLink:
        """Open the port unless it already is, so `with` also closes a link opened earlier."""
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _drop_port(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
        self._serial = None
        self._fd = -1
        self._poll = None

    def _readable(self) -> select.poll:
        """A poll object for the open port's fd, made once per open (cheaper than select)."""
        if self._poll is None:
            self._poll = select.poll()
            self._poll.register(self._fd, select.POLLIN)
        return self._poll

    def _ensure_open(self) -> serial.Serial:
        if self._serial is not None:
            return self._serial
        if self._closed:
            raise MotorBusError(f"the Dynamixel bus on {self.port} is closed")
        try:
            self._serial = _open_serial(self.port, self.baud)
        except PortNotFoundError as exc:
            raise MotorBusError(
                f"the serial adapter at {self.port} is gone (unplugged?); "
                "the bus reconnects as soon as it is back"
            ) from exc
        if self._lost:
            self._lost = False
            self.stats.reconnects += 1
            log.warning("%s: reconnected", self.port)
        self._fd = self._serial.fileno()
        self._dirty = True
        return self._serial

    def _fail(self, exc: BaseException) -> MotorBusError:
        self.stats.io_errors += 1
        self._lost = True
        self._drop_port()
        return MotorBusError(
            f"lost the serial adapter at {self.port} ({exc}); check the USB cable and power, "
            "the bus reconnects when the port returns"
        )

    # -- exchanges -----------------------------------------------------------------------------

    def send(self, frame: bytes) -> None:
        """Write one frame in one write(); after a failed exchange, drop stale input first.

        Stale bytes (a late answer to a question that already timed out) can only exist after
        an exchange that did not end cleanly, so the clean path costs a single syscall.
        """
        port = self._ensure_open()
        try:
            if self._dirty:
                self._drain(port)
            written = os.write(self._fd, frame)
            if written != len(frame):  # the kernel buffer was full: finish this frame now
                self._write_rest(frame[written:])
        except MotorBusError:
            raise
        except (serial.SerialException, OSError) as exc:
            raise self._fail(exc) from exc

    def _drain(self, port: serial.Serial) -> None:
        waiting = port.in_waiting
        if waiting:
            self.stats.stale_bytes += len(port.read(waiting))
        if self._stream.pending:
            self.stats.stale_bytes += self._stream.pending
            self._stream.clear()
        self._dirty = False

    def _write_rest(self, rest: bytes) -> None:
        """Finish a frame the kernel took only part of (the output queue is full)."""
        deadline = time.monotonic() + 1.0
        while rest:
            if time.monotonic() > deadline:
                self._dirty = True
                raise MotorBusError(
                    f"serial output to {self.port} is backed up: frames are sent faster than "
                    f"{self.baud} baud carries them; lower the control rate or raise the baud"
                )
            select.select([], [self._fd], [], 0.01)
            try:
                rest = rest[os.write(self._fd, rest) :]
            except BlockingIOError:
                continue

    def receive(self, count: int, timeout_s: float, rx_bytes: int = 0) -> list[Packet]:
        """Up to `count` valid packets arriving before `timeout_s` passes (fewer on a timeout).

        With `rx_bytes` (what the answers add up to), stop as soon as that many bytes have
        arrived without completing the packets: a corrupted answer then costs its wire time,
        not a whole timeout. Reads go straight to the descriptor pyserial opened and configured:
        its `read()` adds two select() calls per call, which is most of a period's host CPU.
        """
        if self._serial is None:
            raise MotorBusError(f"the Dynamixel bus on {self.port} is not open")
        fd = self._fd
        stream = self._stream
        packets: list[Packet] = []
        deadline = time.monotonic() + timeout_s
        received = 0
        clean = False
        try:
            while True:
                packet = stream.next()
                if packet is not None:
                    packets.append(packet)
                    if len(packets) == count:
                        clean = not stream.pending
                        break
                    continue
                if rx_bytes and received >= rx_bytes:
                    self.stats.short_answers += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stats.timeouts += 1
                    break
                ready, _, _ = select.select([fd], [], [], remaining)
                if ready:
                    try:
                        data = os.read(fd, 4096)
                    except BlockingIOError:
                        continue
                    if not data:
                        raise OSError(errno.EIO, "the port hung up")
                    received += len(data)
                    stream.feed(data)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise self._fail(exc) from exc
        finally:
            self._dirty = not clean
            self.stats.crc_errors = stream.crc_errors
            self.stats.discarded_bytes = stream.discarded_bytes
        return packets

    def exchange_fixed(self, frame: bytes | bytearray, answer: bytearray) -> int:
        """Send `frame` and read its answer of exactly `len(answer)` bytes into `answer`.

        The control period's read (`fast_cycle`): no packet stream, no allocation per byte,
        one poll + one read when the answer arrives in one piece. Returns how many bytes came;
        fewer is a timeout, and any leftover input is drained before the next request.
        """
        self.request_fixed(frame, len(answer))
        return self.receive_fixed(answer)

    def request_fixed(self, frame: bytes | bytearray, size: int) -> None:
        """The first half of `exchange_fixed`: send `frame` now, whose answer is `size` bytes
        due by a deadline that starts here. `receive_fixed` must follow before anything else
        is sent on this link; until it does the link counts as dirty, so an answer nobody
        collected is drained before the next request, never taken for its answer."""
        self.stats.exchanges += 1
        self.send(frame)
        self._dirty = True
        key = (len(frame), size)
        timeout_s = self._fixed_timeouts.get(key)
        if timeout_s is None:
            timeout_s = self._fixed_timeouts[key] = self.timing.timeout_s(len(frame), size, 1)
        self._fixed_deadline = time.monotonic() + timeout_s

    def receive_fixed(self, answer: bytearray) -> int:
        """The second half of `exchange_fixed`: the answer into `answer`; how many bytes came."""
        size = len(answer)
        view = memoryview(answer)
        got = 0
        deadline = self._fixed_deadline
        try:
            poll = self._readable()
            while got < size:
                remaining_ms = (deadline - time.monotonic()) * 1000.0
                if remaining_ms <= 0:
                    self.stats.timeouts += 1
                    break
                if not poll.poll(remaining_ms):
                    continue
                try:
                    n = os.readv(self._fd, [view[got:]])
                except BlockingIOError:
                    continue
                if not n:
                    raise OSError(errno.EIO, "the port hung up")
                got += n
        except (serial.SerialException, OSError, ValueError) as exc:
            raise self._fail(exc) from exc
        finally:
            self._dirty = got != size
        return got

    def exchange(self, frame: bytes, count: int, rx_bytes: int) -> list[Packet]:
        """Send `frame` and collect `count` answers totalling about `rx_bytes` bytes."""
        self.stats.exchanges += 1
        self.send(frame)
        if count == 0:
            return []
        return self.receive(count, self.timing.timeout_s(len(frame), rx_bytes, count), rx_bytes)

    def __repr__(self) -> str:
        return f"DynamixelLink({self.port!r}, baud={self.baud})"


def _open_serial(port: str, baud: int) -> serial.Serial:
    """pyserial open, with every way it fails turned into one sentence naming the port."""
    if not os.path.exists(port):
        raise PortNotFoundError(
            f"serial port {port} does not exist; check the USB cable and `ls /dev/ttyUSB*`, "
            "or start simulated servos with `edgerun sim servos --link PATH`"
        )
    try:
        # Non-blocking both ways: waiting happens in select() against our own deadlines.
        # Exclusive (flock): a second edgerun (a selftest while the service runs) is refused
        # here instead of interleaving its packets with the control loop's.
        return serial.Serial(port, baudrate=baud, timeout=0, write_timeout=0, exclusive=True)
    except serial.SerialException as exc:
        code = getattr(exc, "errno", None)
        if code in (errno.EACCES, errno.EPERM):
            hint = "add your user to the dialout group (`sudo usermod -aG dialout $USER`)"
        elif code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK):
            hint = (
                "another program holds it (the edge-runtime service? "
                "`sudo systemctl stop edge-runtime` first)"
            )
        else:
            hint = "check that it is a serial adapter and that the baud rate is supported"
        raise PortNotFoundError(f"cannot open serial port {port} at {baud} baud: {hint}") from exc
    except (OSError, ValueError) as exc:
        raise PortNotFoundError(
            f"cannot open serial port {port} at {baud} baud ({exc}); "
            "check the device path and the baud rate"
        ) from exc
