"""Shared-memory names carry their creator's pid, so a start sweeps what killed runs left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edge_runtime.ipc.names import entries_of, new_name, owner_pid, remove_leftovers


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def test_names_say_whose_they_are() -> None:
    name = new_name("slot")
    assert owner_pid(name) == os.getpid()
    assert owner_pid(f"sem.{name}") == os.getpid()
    assert owner_pid("edgerun-fuzz-abc") is None  # not one of the runtime's names
    assert owner_pid("psm_1234") is None


def test_a_start_removes_only_dead_creators_entries(tmp_path: Path) -> None:
    dead = _dead_pid()
    mine, parent = new_name("ring"), f"edgerun-{os.getppid()}-ring-00"
    orphans = [f"edgerun-{dead}-ring-0a", f"sem.edgerun-{dead}-lock-0b"]
    other = "someone-elses-segment"
    for name in [mine, parent, other, *orphans]:
        (tmp_path / name).write_bytes(b"")
    assert entries_of({dead}, tmp_path) == sorted(orphans)
    assert sorted(remove_leftovers(tmp_path)) == sorted(orphans)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine, parent, other])
