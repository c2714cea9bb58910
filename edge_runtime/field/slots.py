"""Two bundle slots and an `active` link: a new bundle replaces nothing until it has passed its
checks on this robot, and the bundle it replaces stays for `edgerun rollback`.

    <state_dir>/bundles/
        a/  b/           bundle directories (unpacked; verified again by every `run`)
        a.json  b.json   where each came from, when, signed by whom, its selftest
        active -> a      the slot the service runs: [model] bundle = ".../bundles/active"
        .staging-*/      a bundle being deployed; removed when any step fails

Switching slots is one rename of a fresh symlink over `active` (atomic on POSIX, then the
directory is synced): a crash leaves the old slot active or the new one, never none.
Installing writes only the inactive slot: its old bundle is moved aside, the staged one renamed
into place, the old one deleted. The active slot's files are never touched while it is active.
`run` and `selftest` resolve `active` once, at start (`pin_bundle`), so a rollback meanwhile
cannot make one process read two bundles' files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge_runtime.bundle.reader import MANIFEST, extract_archive
from edge_runtime.calibration_artifacts.artifact import fsync_directory, write_atomic
from edge_runtime.config import RobotConfig
from edge_runtime.errors import DeployError

log = logging.getLogger(__name__)

SLOTS = ("a", "b")
ACTIVE = "active"
STAGING_PREFIX = ".staging-"


class BundleSlots:
    """The slots under `<state_dir>/bundles`."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / "bundles"
        self.active_link = self.root / ACTIVE

    @contextlib.contextmanager
    def locked(self, what: str) -> Iterator[BundleSlots]:
        """One deploy or rollback at a time (an flock, released if the process dies)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DeployError(
                    f"another deploy or rollback is running on {self.root}; wait for it, then "
                    f"retry the {what}"
                ) from None
            yield self

    def active(self) -> str | None:
        """The active slot's name, or None before the first deploy."""
        try:
            target = os.readlink(self.active_link)
        except OSError:
            return None
        return target if target in SLOTS else None

    def previous(self) -> str | None:
        """The other slot, if it holds a bundle (what `rollback` would switch to)."""
        other = self.inactive()
        return other if self.holds_bundle(other) else None

    def inactive(self) -> str:
        """The slot a deploy writes: the one not active (`a` before the first deploy)."""
        active = self.active()
        return SLOTS[0] if active is None else SLOTS[1 - SLOTS.index(active)]

    def path(self, slot: str) -> Path:
        return self.root / slot

    def holds_bundle(self, slot: str) -> bool:
        return (self.path(slot) / MANIFEST).is_file()

    def info(self, slot: str) -> dict[str, Any]:
        """What `install` recorded about the slot ({} if nothing or unreadable)."""
        try:
            data = json.loads((self.root / f"{slot}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def stage(self, source: Path) -> Path:
        """Copy (directory) or unpack (.tar) `source` into a fresh staging directory.

        Returns the staged bundle's root; pass it to `install` or `discard`.
        """
        if not source.exists():
            raise DeployError(f"bundle {source} does not exist; give a bundle directory or .tar")
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.glob(f"{STAGING_PREFIX}*"):  # an interrupted deploy's
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        try:
            if source.is_dir():
                shutil.copytree(source, staging / "bundle")
                return staging / "bundle"
            return extract_archive(source, staging / "bundle")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def discard(self, staged: Path) -> None:
        """Remove a staged bundle (and its staging directory)."""
        shutil.rmtree(self._staging_dir(staged), ignore_errors=True)

    def install(self, staged: Path, info: dict[str, Any]) -> str:
        """Move `staged` into the inactive slot, record `info`, switch to it; returns the slot."""
        staging = self._staging_dir(staged)
        slot = self.inactive()
        target = self.path(slot)
        trash = staging / "replaced"
        (self.root / f"{slot}.json").unlink(missing_ok=True)
        if target.exists() or target.is_symlink():
            os.rename(target, trash)
        os.rename(staged, target)
        write_atomic(self.root / f"{slot}.json", (json.dumps(info, indent=2) + "\n").encode())
        self.switch(slot)
        shutil.rmtree(staging, ignore_errors=True)
        return slot

    def switch(self, slot: str) -> None:
        """Make `slot` active: a new link renamed over `active` (atomic), then synced."""
        if slot not in SLOTS or not self.holds_bundle(slot):
            raise DeployError(f"slot {slot} holds no bundle; deploy one with `edgerun deploy`")
        fresh = self.root / f".{ACTIVE}-{os.getpid()}"
        fresh.unlink(missing_ok=True)
        os.symlink(slot, fresh)
        os.replace(fresh, self.active_link)
        fsync_directory(self.root)

    def _staging_dir(self, staged: Path) -> Path:
        for parent in (staged, *staged.parents):
            if parent.parent == self.root and parent.name.startswith(STAGING_PREFIX):
                return parent
        raise DeployError(f"{staged} is not a staged bundle under {self.root}")


def pin_bundle(config: RobotConfig) -> RobotConfig:
    """`[model] bundle` with every link resolved (the `active` slot becomes `bundles/a`)."""
    if not config.model.bundle:
        return config
    path = config.resolve(config.model.bundle)
    if not path.exists():
        return config  # open_bundle says what is missing, in its words
    resolved = path.resolve()
    if resolved != path:
        log.info("bundle %s is %s", path, resolved)
    return replace(config, model=replace(config.model, bundle=str(resolved)))
