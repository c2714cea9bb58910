"""A process's descendants from /proc (Linux): whom to signal, and who is left after a kill."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's), [] when it is gone."""
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            text = (task / "children").read_text()
            found += [int(c) for c in text.split()]
    except OSError:
        return []
    return sorted(set(found))


def descendants(pid: int) -> list[int]:
    """Children, grandchildren, ... of `pid` (not `pid` itself)."""
    out: list[int] = []
    todo = children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += children(child)
    return sorted(out)


def cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running or sleeping: a zombie (dead, not yet reaped) does not count."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def find_child(pid: int, marker: str) -> int | None:
    """The first child of `pid` whose command line contains `marker`."""
    return next((c for c in children(pid) if marker in cmdline(c)), None)
