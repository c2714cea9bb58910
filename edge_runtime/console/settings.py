"""Where the console listens and what it may touch: the bind address, the token, the roots.

Bound to localhost nobody else can reach it, so no token is needed. Any other address puts it
on a network: a fresh token is made at every start, printed once and stored owner-only (0600)
in the state directory, and every request that changes anything must carry it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.config import load_config
from edge_runtime.errors import ConfigError
from edge_runtime.field.state_dir import resolve_state_dir, writable_state_dir

DEFAULT_BIND = "127.0.0.1:8470"
TOKEN_FILE = "console-token"
LOCAL_NAMES = ("localhost",)


@dataclass(frozen=True)
class ConsoleSettings:
    host: str
    port: int
    state_dir: Path  # latch, ack log, bundle slots, live status
    data_dir: Path  # logs/ and calibration/ live below it: the only files the console serves
    config_path: str | None  # the robot TOML (rollback needs it; ack resolves the state dir)
    token: str | None  # None: bound to localhost, no token asked

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def calibration_dir(self) -> Path:
        return self.data_dir / "calibration"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"/?token={self.token}" if self.token else "/"
        return f"http://{host}:{self.port}{query}"


def parse_bind(text: str) -> tuple[str, int]:
    """`ADDR:PORT` (IPv6 as `[ADDR]:PORT`; port 0 picks a free one) -> (host, port)."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise ConfigError(
            f"--bind {text!r} is not ADDR:PORT; use e.g. 127.0.0.1:8470, or 0.0.0.0:8470 to "
            "serve the laptop on the robot's Ethernet port"
        )
    return host, int(port_text)


def is_local(host: str) -> bool:
    """Only this computer can reach `host` (a loopback address or `localhost`)."""
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def console_settings(
    bind: str = DEFAULT_BIND, config_path: str | None = None, data_dir: str | None = None
) -> ConsoleSettings:
    """The console's settings; a non-local bind gets a new token, stored 0600."""
    host, port = parse_bind(bind)
    config = load_config(config_path) if config_path else None
    state_dir = resolve_state_dir(config)
    data = Path(data_dir).expanduser() if data_dir else state_dir
    token = None
    if not is_local(host):
        token = secrets.token_urlsafe(24)
        store_token(writable_state_dir(state_dir, "serving the console on a network"), token)
    return ConsoleSettings(host, port, state_dir, data.resolve(), config_path, token)


def store_token(state_dir: Path, token: str) -> Path:
    """Owner-only token file: created 0600 (never world-readable, not even for an instant)."""
    path = state_dir / TOKEN_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return path
