"""The socket systemd listens on for a Type=notify unit, for the field tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_socket import NotifySocket


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[NotifySocket]:
    """What systemd does for a Type=notify unit: a bound datagram socket, its path exported."""
    sock = NotifySocket(tmp_path / "notify")
    try:
        yield sock
    finally:
        sock.close()
