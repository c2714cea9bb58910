"""The sha256 of a file, streamed: the one digest bundles, engines and calibration files use.

Bundle manifests, TensorRT engine sidecars and calibration artifacts all record files by this
hex digest, so they must compute it the same way. Streaming in 1 MiB blocks keeps memory flat
for multi-hundred-MB engines and observation sets. Pure stdlib: the robot imports it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK_BYTES = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["sha256_file"]
