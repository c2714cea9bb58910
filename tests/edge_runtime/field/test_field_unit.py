"""The shipped systemd unit under systemd's restart rules: a safety stop is never restarted.

systemd cannot run here, so `systemd_rules` evaluates its documented rules against the unit
file itself, for every exit code the project's errors carry. The real exit code of a real
safety stop comes from `test_field_stop_sim.py`, which asks the same rules.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from systemd_rules import last, parse_unit, restarts

from edge_runtime.errors import EXIT_FAULT, EXIT_LATCHED, EdgeRuntimeError, SafetyStop, StopLatched

UNIT_FILE = Path(__file__).parents[3] / "tools" / "systemd" / "edge-runtime.service"


def _error_classes() -> set[type[EdgeRuntimeError]]:
    """Every error class the four packages define (modules found by their `class ...Error(`)."""
    root = Path(__file__).parents[3]
    for package in ("firmware_bridge", "edge_runtime", "export", "calibration"):
        for path in sorted((root / package).rglob("*.py")):
            if re.search(r"^class \w+\(.*Error\b", path.read_text(encoding="utf-8"), re.M):
                importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
    found, todo = set(), [EdgeRuntimeError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_a_safety_stop_is_never_restarted_and_a_fault_is() -> None:
    unit = parse_unit(UNIT_FILE)
    assert last(unit, "Service", "Restart") == "on-failure"
    assert not restarts(unit, exit_code=EXIT_LATCHED)  # the stop, and every refused start after
    assert restarts(unit, exit_code=EXIT_FAULT)
    assert restarts(unit, exit_code=2)  # refused before arming: a late USB adapter comes back
    assert not restarts(unit, exit_code=0)  # ended as asked
    assert not restarts(unit, signal="SIGTERM")  # systemctl stop
    assert restarts(unit, signal="SIGKILL")  # the OOM killer: a fault
    assert restarts(unit, cause="watchdog", signal="SIGABRT")  # hung: killed, then restarted


def test_only_the_latched_stop_codes_escape_the_restart_policy() -> None:
    unit = parse_unit(UNIT_FILE)
    classes = _error_classes()
    latched = {cls for cls in classes if cls.exit_code == EXIT_LATCHED}
    assert latched == {SafetyStop, StopLatched}
    for cls in classes:
        assert restarts(unit, exit_code=cls.exit_code) == (cls not in latched), cls.__name__


def test_unit_notifies_has_a_watchdog_and_a_state_directory() -> None:
    unit = parse_unit(UNIT_FILE)
    assert last(unit, "Service", "Type") == "notify"
    assert last(unit, "Service", "NotifyAccess") == "main"  # only the runtime process reports
    assert float(last(unit, "Service", "WatchdogSec").rstrip("s")) > 0
    assert last(unit, "Service", "StateDirectory") == "edge-runtime"
    command = last(unit, "Service", "ExecStart").split()
    assert command[1:3] == ["run", "--config"]  # the latched `run`, not the disposable demo
    assert int(last(unit, "Unit", "StartLimitBurst")) > 0  # a recurring fault stops retrying


def test_rules_follow_the_documented_examples(tmp_path: Path) -> None:
    path = tmp_path / "x.service"
    path.write_text(
        "[Service]\nRestart=on-failure\nSuccessExitStatus=1 2 8 \\\n SIGKILL\n"
        "RestartPreventExitStatus=1 6 SIGABRT\nRestartPreventExitStatus=\n"
        "RestartForceExitStatus=0\n"
    )
    unit = parse_unit(path)
    assert not restarts(unit, exit_code=8)  # a success status: clean, on-failure ignores it
    assert not restarts(unit, signal="SIGKILL")  # continued line: SIGKILL is a success too
    assert restarts(unit, exit_code=6)  # the empty assignment reset the prevent list
    assert restarts(unit, exit_code=0)  # forced
    assert restarts(unit, cause="timeout")
