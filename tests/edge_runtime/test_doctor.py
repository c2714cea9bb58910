"""`edge_runtime.doctor`: every check reports, and a check that raises is a failed check.

The robot-computer checks read the real system paths; tests point them at a directory here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge_runtime import doctor
from edge_runtime.field import device_checks


def test_every_check_reports_in_order() -> None:
    results = doctor.run_checks()
    assert [r.name for r in results] == [name for name, _ in doctor.CHECKS]
    by_name = {r.name: r for r in results}
    assert by_name["python"].ok  # the tests run on a supported Python
    assert by_name["python"].essential
    assert not by_name["serial"].essential


def test_a_check_that_raises_is_reported_not_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("library exploded")

    monkeypatch.setattr(doctor, "CHECKS", [("onnxruntime", broken)])
    (result,) = doctor.run_checks()
    assert (result.ok, result.detail) == (False, "check failed: library exploded")
    assert result.essential


REPO = Path(__file__).parents[2]


def test_udev_rules_are_found_and_the_shipped_ftdi_rule_sets_1_ms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.d"
    rules.mkdir()
    monkeypatch.setattr(device_checks, "UDEV_RULES", rules)
    ok, detail = device_checks.check_udev_rules()
    assert not ok
    assert "ftdi: missing" in detail
    for shipped in (REPO / "tools" / "udev").glob("*.rules"):
        shutil.copy(shipped, rules / shipped.name)  # what the README's install step does
    assert device_checks.check_udev_rules()[0]
    assert 'ATTR{latency_timer}="1"' in (rules / "99-edge-runtime-ftdi.rules").read_text()


def test_ftdi_latency_timer_behind_a_udev_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device_checks, "USB_SERIAL", tmp_path / "usb-serial")
    (tmp_path / "usb-serial" / "ttyUSB0").mkdir(parents=True)
    (tmp_path / "usb-serial" / "ttyUSB0" / "latency_timer").write_text("16\n")
    (tmp_path / "dynamixel").symlink_to("/dev/ttyUSB0")  # like the rule's SYMLINK+=
    assert device_checks.ftdi_latency_ms(str(tmp_path / "dynamixel")) == 16
    assert device_checks.ftdi_latency_ms("/dev/ttyACM0") is None  # not an FTDI adapter


def test_clocks_and_governor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = tmp_path / "cpufreq"
    cpu.mkdir()
    for name, value in (("scaling_cur_freq", 729600), ("scaling_max_freq", 1728000)):
        (cpu / name).write_text(f"{value}\n")  # kHz
    (cpu / "scaling_governor").write_text("schedutil\n")
    monkeypatch.setattr(device_checks, "CPU_FREQ", cpu)
    monkeypatch.setattr(device_checks, "DEVFREQ", tmp_path / "none")
    monkeypatch.setattr(device_checks.shutil, "which", lambda _name: None)  # no nvpmodel here
    ok, detail = device_checks.check_power()
    assert not ok
    assert "cpu0 730 MHz of 1728" in detail
    assert "jetson_clocks" in detail
