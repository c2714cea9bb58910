"""The receiving end of sd_notify, as systemd has it: a bound datagram socket, read promptly.

A thread drains it as messages arrive, as systemd does (a unix datagram socket queues only
/proc/sys/net/unix/max_dgram_qlen messages, 10 by default, before senders get EAGAIN).
`take()` is exact, not timed: it drains what is still queued under the reader's lock.
"""

from __future__ import annotations

import select
import socket
import threading
from pathlib import Path


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._lock = threading.Lock()
        self._messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._sock], [], [], 0.05)
            if readable:
                with self._lock:
                    self._receive_queued()

    def _receive_queued(self) -> None:
        while True:
            try:
                self._messages.append(self._sock.recv(4096, socket.MSG_DONTWAIT).decode())
            except BlockingIOError:
                return

    def take(self) -> list[str]:
        """Every message sent before this call and not taken yet (sendto is synchronous)."""
        with self._lock:
            self._receive_queued()
            out, self._messages = self._messages, []
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._sock.close()
