"""`edge_runtime.doctor`: every check reports, and a check that raises is a failed check."""

from __future__ import annotations

import pytest

from edge_runtime import doctor


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
