"""Where a robot keeps what must outlive its process: the latched stop, the ack log, bundle slots.

First match wins:
1. `[robot] state_dir` in the robot TOML (relative paths: to the TOML's directory);
2. `$EDGE_RUNTIME_STATE_DIR` (a second robot on one computer; tests);
3. `$STATE_DIRECTORY`, which systemd sets from the unit's `StateDirectory=` (first entry);
4. /var/lib/edge-runtime when it exists or can be created: the service's directory, so a
   person running `sudo edgerun status` / `ack` in a shell sees the same latch as the service;
5. `$XDG_STATE_HOME/edge-runtime` (default ~/.local/state/edge-runtime) on a developer's machine.

Resolving never creates anything (`status` only reads); `writable_state_dir` creates the
directory and proves it writable before a run arms, because a safety stop that cannot be
written down cannot be latched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from edge_runtime.config import RobotConfig
from edge_runtime.errors import ConfigError

ENV_STATE_DIR = "EDGE_RUNTIME_STATE_DIR"
SYSTEM_STATE_DIR = Path("/var/lib/edge-runtime")


def resolve_state_dir(config: RobotConfig | None = None) -> Path:
    """This robot's state directory (see the module docstring for the order)."""
    if config is not None and config.state_dir:
        return config.resolve(config.state_dir)
    for variable in (ENV_STATE_DIR, "STATE_DIRECTORY"):
        value = os.environ.get(variable, "").split(":")[0]
        if value:
            return Path(value).expanduser()
    system = SYSTEM_STATE_DIR
    if system.is_dir() or os.access(system.parent, os.W_OK):
        return system
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg).expanduser() / "edge-runtime"


def writable_state_dir(path: Path, needed_for: str) -> Path:
    """`path`, created if missing and proven writable; `ConfigError` with the fix otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(
            f"the state directory {path} is not writable ({exc.strerror or exc}); {needed_for} "
            "needs it: run as the service user (or with sudo), or set [robot] state_dir"
        ) from exc
    return path


ENV_RUNTIME_DIR = "EDGE_RUNTIME_RUNTIME_DIR"
SYSTEM_RUNTIME_DIR = Path("/run/edge-runtime")


def resolve_runtime_dir(state_dir: Path) -> Path:
    """Where files that die with the run go (the console's live status, camera previews).

    They are rewritten five times a second, so they belong in RAM, not on the robot's flash
    (whose writes are counted). First match wins: `$EDGE_RUNTIME_RUNTIME_DIR` (a second robot
    on one computer; tests); `$RUNTIME_DIRECTORY`, which systemd sets from `RuntimeDirectory=`
    (a tmpfs under /run, removed when the service stops); /run/edge-runtime when it exists
    and is writable, or /run lets us create it; else `state_dir` itself (a developer's
    machine). Never /dev/shm: that is the ipc channels' and must stay empty between runs.
    """
    for variable in (ENV_RUNTIME_DIR, "RUNTIME_DIRECTORY"):
        value = os.environ.get(variable, "").split(":")[0]
        if value:
            return Path(value).expanduser()
    system = SYSTEM_RUNTIME_DIR
    if os.access(system, os.W_OK) or (not system.exists() and os.access(system.parent, os.W_OK)):
        return system
    return state_dir
