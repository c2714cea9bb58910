"""Names of the runtime's shared memory and semaphores, and the sweep of dead runs' leftovers.

POSIX shared memory and named semaphores stay in /dev/shm (RAM) until someone unlinks them,
and a process that is SIGKILLed unlinks nothing: neither does its resource tracker when a
service manager kills the whole process group. A robot restarted after crashes would slowly
fill its RAM. Two rules keep /dev/shm empty:

1. The creator unlinks every name as soon as every process that needs it has attached (the
   mappings stay valid until the last process unmaps them): a running robot has no entries.
2. Every name carries its creator's pid (`edgerun-<pid>-<tag>-<random>`), so a kill inside the
   startup window leaves entries that say whose they were: every start removes the entries
   whose creator is dead (`remove_leftovers`).

It assumes one pid namespace per /dev/shm (a robot computer, a container with its own
/dev/shm): a live creator in another pid namespace would look dead.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from multiprocessing import shared_memory
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "edgerun"
SHM_DIR = Path("/dev/shm")
# Shared memory appears as `edgerun-<pid>-...`, a named semaphore as `sem.edgerun-<pid>-...`.
_OWNED = re.compile(rf"^(?:sem\.)?{PREFIX}-(\d+)-")


def new_name(tag: str) -> str:
    """A fresh name for one segment or semaphore of this process (without the leading '/')."""
    return f"{PREFIX}-{os.getpid()}-{tag}-{secrets.token_hex(4)}"


def create_segment(tag: str, size: int) -> shared_memory.SharedMemory:
    """A new shared-memory segment under one of our names (see the module docstring)."""
    return shared_memory.SharedMemory(name=new_name(tag), create=True, size=size)


def owner_pid(entry: str) -> int | None:
    """The pid in an /dev/shm entry's name, None when the entry is not one of ours."""
    match = _OWNED.match(entry)
    return int(match.group(1)) if match else None


def entries_of(pids: set[int], shm_dir: Path = SHM_DIR) -> list[str]:
    """The /dev/shm entries created by any of `pids` (what a kill must not leave behind)."""
    try:
        names = os.listdir(shm_dir)
    except OSError:
        return []
    return sorted(n for n in names if owner_pid(n) in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def remove_leftovers(shm_dir: Path = SHM_DIR) -> list[str]:
    """Unlink the entries of runs whose creator is dead; returns the names removed."""
    try:
        names = os.listdir(shm_dir)
    except OSError:  # no /dev/shm (not Linux): nothing to sweep
        return []
    removed = []
    for name in names:
        pid = owner_pid(name)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        try:
            (shm_dir / name).unlink()
        except OSError:  # gone already (another start swept it), or not ours to remove
            continue
        removed.append(name)
    if removed:
        log.info("removed %d shared-memory leftovers of killed runs from %s", len(removed), shm_dir)
    return removed
