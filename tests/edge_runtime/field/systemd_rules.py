"""systemd's documented restart rules, evaluated against a unit file (systemd cannot run here).

From systemd.service(5), `Restart=`: which causes of an exit restart the service under each
setting; `RestartPreventExitStatus=` (never restart on these codes or signals, whatever the
setting) and `RestartForceExitStatus=` (always restart on these); a clean exit is code 0, the
signals SIGHUP, SIGINT, SIGTERM, SIGPIPE, and what `SuccessExitStatus=` adds. The unit syntax
is systemd.syntax(7): `[Section]`, `Key=value`, `#`/`;` comments, a trailing backslash joins
lines, repeated list keys accumulate and an empty assignment resets the list.
"""

from __future__ import annotations

from pathlib import Path

CLEAN_SIGNALS = {"SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE"}
# systemd.service(5), table "Exit causes and the effect of the Restart= settings".
RESTART_TABLE = {
    "no": set(),
    "always": {"clean", "unclean-exit", "unclean-signal", "timeout", "watchdog"},
    "on-success": {"clean"},
    "on-failure": {"unclean-exit", "unclean-signal", "timeout", "watchdog"},
    "on-abnormal": {"unclean-signal", "timeout", "watchdog"},
    "on-abort": {"unclean-signal"},
    "on-watchdog": {"watchdog"},
}

Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    unit: Unit = {}
    section: dict[str, list[str]] = {}
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        values = section.setdefault(key.strip(), [])
        if value.strip():
            values.append(value.strip())
        else:
            values.clear()
    return unit


def last(unit: Unit, section: str, key: str, default: str = "") -> str:
    values = unit.get(section, {}).get(key, [])
    return values[-1] if values else default


def statuses(unit: Unit, key: str) -> set[str]:
    return {word for value in unit.get("Service", {}).get(key, []) for word in value.split()}


def restarts(
    unit: Unit, *, exit_code: int | None = None, signal: str = "", cause: str = ""
) -> bool:
    """Whether systemd restarts the service after it ended this way.

    Give `exit_code` (the main process exited), `signal` (it was killed by one, e.g. "SIGKILL")
    or `cause` ("watchdog", "timeout": systemd ended it, with SIGABRT / SIGTERM).
    """
    status = str(exit_code) if exit_code is not None else signal
    if status and status in statuses(unit, "RestartPreventExitStatus"):
        return False
    if status and status in statuses(unit, "RestartForceExitStatus"):
        return True
    if not cause:
        clean = {"0", *CLEAN_SIGNALS, *statuses(unit, "SuccessExitStatus")}
        if status in clean:
            cause = "clean"
        else:
            cause = "unclean-exit" if exit_code is not None else "unclean-signal"
    return cause in RESTART_TABLE[last(unit, "Service", "Restart", "no")]
