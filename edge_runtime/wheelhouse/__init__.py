"""Offline install: one archive with every wheel a release needs, for machines without network.

`make wheelhouse` (tools/wheelhouse.py) builds it on a workstation with network; tools/setup.sh
installs from it with `pip install --no-index`. Split by concept: platforms (what each target
machine is and needs), closure (does a directory of wheels satisfy a requirement set, judged
for the target, not the builder), offline (checksums, manifest, pip's own offline
resolution), build (download, check, archive). Runs on the release workstation only; the
robot needs nothing of it (setup.sh checks the archive with sha256sum).
"""

from __future__ import annotations

from edge_runtime.errors import EdgeRuntimeError


class WheelhouseError(EdgeRuntimeError):
    """A wheelhouse cannot be built, or an archive does not verify. Exit code 2: fix, retry."""


__all__ = ["WheelhouseError"]
