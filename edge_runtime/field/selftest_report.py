"""What `edgerun selftest` found: one line per check, a verdict, the thresholds it used.

A check is `ok`, `warn` (worth a look, does not fail), `fail`, or `skip` (could not run, and
why: no export package for golden parity, no bundle to run engines of). The report is the
same for the table a person reads, the JSON an OTA system reads, and the record `deploy`
keeps beside each bundle slot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from edge_runtime.bundle.reader import Bundle
from edge_runtime.config import SelftestConfig

STATUSES = ("ok", "warn", "fail", "skip")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # one of STATUSES
    detail: str
    values: Mapping[str, Any] = field(default_factory=dict)  # numbers for the JSON


# The golden-parity plug-in (the export package's `verify`): bundle, backend, engine cache.
ParityCheck = Callable[[Bundle, str, str], list[Check]]


@dataclass(frozen=True)
class SelftestReport:
    robot: str
    bundle: str
    checks: tuple[Check, ...]
    limits: SelftestConfig = field(default_factory=SelftestConfig)  # the robot's [selftest]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if c.status == "fail"]

    def to_json(self) -> dict[str, Any]:
        return {
            "robot": self.robot,
            "bundle": self.bundle,
            "passed": self.passed,
            "checks": [asdict(c) | {"values": dict(c.values)} for c in self.checks],
            "limits": asdict(self.limits),
        }

    def summary(self) -> str:
        counts = {s: sum(c.status == s for c in self.checks) for s in STATUSES}
        verdict = "passed" if self.passed else "FAILED"
        return f"selftest {verdict}: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
