"""Serving a simulated device in the foreground: the link it appears at, and how it stops.

`edgerun sim servos` and `edgerun sim mcu` both start a device on a pty behind a symlink, run
until Ctrl-C or SIGTERM (so a terminal, a test or systemd stops them the same way), stop the
device, which removes its link, and report. The link is checked before anything starts,
because `PtyDevice` replaces whatever is at that path.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from firmware_bridge.errors import BridgeError

POLL_S = 0.5  # how often the wait re-checks for SIGTERM (a signal also wakes it sooner)


def check_link_path(link: str | Path, error: type[BridgeError]) -> Path:
    """`link` as a Path if a device may put its symlink there; `error` with the fix otherwise.

    Only a missing path or an old symlink may be replaced: a regular file there is someone's
    data, and a missing folder would fail later with a less helpful message.
    """
    path = Path(link)
    if not path.parent.is_dir():
        raise error(
            f"--link {path}: the folder {path.parent} does not exist; create it or pick "
            "another path"
        )
    if path.exists() and not path.is_symlink():
        raise error(
            f"--link {path} exists and is not a symlink; pick another path (the link there "
            "gets replaced)"
        )
    return path


def serve_until_signal(start: Callable[[], object], stop: Callable[[], object]) -> None:
    """Run `start()`, wait for Ctrl-C or SIGTERM, then run `stop()`.

    Either signal ends the wait normally, so `stop()` always runs once `start()` has returned.
    The previous SIGTERM handler is restored on the way out, which matters when the caller
    is a long-lived process (a test run) rather than a command that exits next.
    """
    stopping = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        start()
        try:
            while not stopping.wait(POLL_S):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
