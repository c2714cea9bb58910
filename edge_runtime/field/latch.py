"""A safety stop that stays stopped: its reason on disk until a person acknowledges it.

A safety stop means the robot met something nobody planned for (a frozen camera, a plan that
never came, a world the model no longer predicts). Exit code 10 keeps the systemd unit from
restarting it (`RestartPreventExitStatus=10`), but anything else that starts `edgerun run`
again (a `systemctl restart`, a reboot, a script) must meet the same refusal, so the latch is
a file and `run` refuses to arm while it exists.

Files in the state directory (`edge_runtime.field.state_dir`):
- `safety-stop.json`: the latched stop (reason, when, robot, bundle, run report), written
  atomically and synced, so a power cut right after the stop cannot lose it;
- `acks.jsonl`: append-only, one JSON line per acknowledgement: who, why, when, the OS user
  and host, and the stop it cleared. It is written (and synced) before the latch is removed.
A latch file that cannot be parsed still counts as latched (fail safe); `ack` clears it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edge_runtime.calibration_artifacts.artifact import fsync_directory, write_atomic
from edge_runtime.errors import EdgeRuntimeError, StopLatched

LATCH_FILE = "safety-stop.json"
ACK_LOG = "acks.jsonl"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class LatchedStop:
    """A safety stop nobody has acknowledged yet."""

    reason: str
    stopped_at: str = ""  # UTC, ISO 8601
    robot: str = ""
    bundle: str = ""
    report: str = ""  # the run report of the run that stopped

    @staticmethod
    def from_json(data: Any) -> LatchedStop:
        fields = LatchedStop.__dataclass_fields__
        values = (
            {k: str(v) for k, v in data.items() if k in fields} if isinstance(data, dict) else {}
        )
        return LatchedStop(**{"reason": "(no reason recorded)", **values})


@dataclass(frozen=True)
class Acknowledgement:
    """One line of the ack log: who cleared which stop, and why."""

    by: str
    why: str
    at: str
    user: str  # the OS account that ran `edgerun ack` (the sudo caller when under sudo)
    host: str
    cleared: LatchedStop


class StopLatch:
    """The latch file and the ack log in one robot's state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LATCH_FILE
        self.log_path = self.state_dir / ACK_LOG

    def read(self) -> LatchedStop | None:
        """The latched stop, or None. An unreadable latch file is a latched stop too."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            return LatchedStop(reason=f"the latch file {self.path} is unreadable ({exc})")
        try:
            return LatchedStop.from_json(json.loads(text))
        except ValueError:
            return LatchedStop(reason=f"the latch file {self.path} is corrupt")

    def latch(self, stop: LatchedStop) -> None:
        """Write the stop down (atomic, synced); a later write replaces it with more detail."""
        if not stop.stopped_at:
            stop = LatchedStop(**{**asdict(stop), "stopped_at": utc_now()})
        write_atomic(self.path, (json.dumps(asdict(stop), indent=2) + "\n").encode("utf-8"))

    def refuse_if_latched(self) -> None:
        """Raise `StopLatched` (exit 10) while a stop is latched."""
        stop = self.read()
        if stop is not None:
            raise StopLatched(
                f"a safety stop is latched since {stop.stopped_at or 'an unknown time'} "
                f"({stop.reason}); the robot will not arm until a person has looked: see "
                f"`edgerun status`, then clear it with `edgerun ack --by NAME --why TEXT`"
            )

    def acknowledge(self, by: str, why: str) -> Acknowledgement | None:
        """Clear the latched stop, logging who and why first; None if nothing was latched."""
        by, why = by.strip(), why.strip()
        if not by or not why:
            raise EdgeRuntimeError(
                "an ack needs who clears the stop and why: pass --by NAME --why "
                '"what was checked and fixed"'
            )
        stop = self.read()
        if stop is None:
            return None
        ack = Acknowledgement(by, why, utc_now(), _os_user(), socket.gethostname(), stop)
        line = json.dumps(asdict(ack), separators=(",", ":")) + "\n"
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(line)
            log.flush()
            os.fsync(log.fileno())
        self.path.unlink(missing_ok=True)
        fsync_directory(self.state_dir)
        return ack

    def acknowledgements(self) -> list[Acknowledgement]:
        """Every acknowledgement in the log, oldest first (unparsable lines are skipped)."""
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        acks = []
        for line in lines:
            try:
                data = json.loads(line)
                data["cleared"] = LatchedStop.from_json(data.get("cleared"))
                acks.append(Acknowledgement(**data))
            except (ValueError, TypeError, AttributeError):
                continue
        return acks


def _os_user() -> str:
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return str(os.getuid())
