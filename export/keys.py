"""`edgerun keys generate NAME`: an ed25519 key pair for signing bundles.

`NAME.key` (PKCS#8 PEM, mode 0600) stays on the export workstation; `NAME.pub` goes to every
robot's `[model] trusted_keys`. Existing files are never overwritten: losing a signing key
silently would orphan every robot that trusts it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_runtime.bundle.signing import key_id
from export.errors import ExportError


def generate_keys(prefix: str | Path) -> tuple[Path, Path, str]:
    """Write `<prefix>.key` and `<prefix>.pub`; return both paths and the key id."""
    prefix = Path(prefix)
    private_path = prefix.with_name(prefix.name + ".key")
    public_path = prefix.with_name(prefix.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise ExportError(f"{path} already exists; choose another name or move it away")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    return private_path, public_path, key_id(key.public_key())
