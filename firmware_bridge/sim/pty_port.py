"""The device side of a pseudo-terminal, so real drivers open simulated devices like real ports.

A `PtyDevice` owns the master end, keeps the slave end open (so the master never sees EIO
while no driver is connected), and points a symlink (`--link PATH`) at the slave's name.
Subclasses implement `on_bytes`; `send` writes a reply in one write, like a real device.
`unplug()` / `replug()` model a USB adapter being pulled and plugged back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pty
import select
import threading
import tty
from pathlib import Path

log = logging.getLogger(__name__)


class PtyDevice:
    def __init__(self, link: str | Path | None = None, name: str = "pty-device") -> None:
        self.link = Path(link) if link else None
        self.name = name
        self._master = -1
        self._slave = -1
        self.port_name = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def port(self) -> str:
        """The path a driver should open: the link if one was asked for, else the slave name."""
        return str(self.link) if self.link else self.port_name

    def start(self) -> PtyDevice:
        self._open_pty()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()
        return self

    def _open_pty(self) -> None:
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.port_name = os.ttyname(self._slave)
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self.port_name)

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def _serve(self) -> None:
        while not self._stop.is_set():
            master = self._master
            if master < 0:
                self._stop.wait(0.01)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except (OSError, ValueError):
                self._stop.wait(0.01)  # unplugged, or closed under us
                continue
            if data:
                try:
                    self.on_bytes(data)
                except Exception:  # a device bug must not kill the simulated port silently
                    log.exception("%s: error handling %d bytes", self.name, len(data))

    def on_bytes(self, data: bytes) -> None:
        """Bytes the driver wrote. Override."""
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        """Write bytes towards the driver in one write (no-op while unplugged)."""
        with self._write_lock:
            if self._master < 0:
                return
            with contextlib.suppress(OSError):
                os.write(self._master, data)

    def unplug(self) -> None:
        """Close the pty and remove the link, like pulling the USB adapter."""
        with self._write_lock:
            self._close_pty()

    def replug(self) -> None:
        """A fresh pty behind the same link, like plugging the adapter back in."""
        with self._write_lock:
            if self._master < 0:
                self._open_pty()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        with self._write_lock:
            self._close_pty()

    def __enter__(self) -> PtyDevice:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
