"""systemd's notify protocol in the few lines it takes: one datagram to `$NOTIFY_SOCKET`.

With `Type=notify` systemd passes the socket in `$NOTIFY_SOCKET` (a path, or `@name` in the
Linux abstract namespace) and, with `WatchdogSec=`, the timeout in `$WATCHDOG_USEC`
(`$WATCHDOG_PID`: the process it is meant for). A message is newline-separated assignments:
`READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=free text` (shown by `systemctl status`).

Why not the `sdnotify` package: the protocol is one `sendto`, and a robot installed offline
has one dependency fewer. Without `$NOTIFY_SOCKET` every call does nothing, so `edgerun run`
behaves the same in a shell. Sending never blocks and never raises: a busy or absent supervisor
must not stall the runtime's loop or stop a robot mid-motion (if pings stop reaching systemd,
its watchdog acts, which is the point).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notify messages to systemd; a no-op when not started by a `Type=notify` unit."""

    def __init__(self, address: str = "", watchdog_usec: int = 0) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec  # 0: no watchdog expected
        self._socket: socket.socket | None = None
        self.failures = 0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
        """From `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID` (sd_watchdog_enabled)."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address and not address.startswith(("/", "@")):
            log.warning("NOTIFY_SOCKET=%s is not a unix socket path; not notifying", address)
            address = ""
        watchdog_usec = 0
        if env.get("WATCHDOG_PID", "") in ("", str(os.getpid())):
            text = env.get("WATCHDOG_USEC", "0")
            try:
                watchdog_usec = max(0, int(text))
            except ValueError:
                log.warning("WATCHDOG_USEC=%s is not a number; watchdog pings off", text)
        return cls(address, watchdog_usec)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def ping_interval_ns(self) -> int | None:
        """How often to ping: half the watchdog timeout, as sd_watchdog_enabled(3) advises."""
        if not self.enabled or self.watchdog_usec <= 0:
            return None
        return self.watchdog_usec * 1000 // 2

    def notify(self, *assignments: str) -> bool:
        """Send `assignments` as one message; True if it was sent. Never blocks, never raises."""
        if not self.enabled:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
                self._socket = socket.socket(socket.AF_UNIX, kind)
            self._socket.sendto("\n".join(assignments).encode("utf-8"), target)
        except OSError as exc:
            self.failures += 1
            if self.failures == 1:  # once: if pings stop reaching systemd, its watchdog acts
                log.error("cannot notify systemd at %s (%s)", self.address, exc)
            return False
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
