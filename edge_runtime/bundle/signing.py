"""ed25519 signatures over `manifest.json` (which lists the sha256 of every other file).

The `signature` file is JSON: ``{"algorithm": "ed25519", "key_id": ..., "signature": base64}``.
Keys are PEM files: `NAME.key` (private, PKCS#8) and `NAME.pub` (public). The key id is the
first 16 hex digits of the sha256 of the raw public key, so a log can say which key signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge_runtime.errors import BundleError


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    path = Path(path)
    key = _read_pem(
        path,
        serialization.load_pem_public_key,
        (ValueError,),
        f"trusted key {path} does not exist; fix [model] trusted_keys or --trusted-key",
        f"{path} is not a PEM public key; use the .pub from `edgerun keys generate`",
    )
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"{path} is not an ed25519 public key; use `edgerun keys generate`")
    return key


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    path = Path(path)
    key = _read_pem(
        path,
        lambda data: serialization.load_pem_private_key(data, password=None),
        (ValueError, TypeError),  # TypeError: the key is encrypted
        f"signing key {path} does not exist; create one with `edgerun keys generate`",
        f"{path} is not an unencrypted PEM private key; use `edgerun keys generate`",
    )
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path} is not an ed25519 private key; use `edgerun keys generate`")
    return key


def _read_pem(
    path: Path,
    load: Callable[[bytes], object],
    malformed_errors: tuple[type[Exception], ...],
    missing: str,
    malformed: str,
) -> object:
    """The key a PEM file holds, or `BundleError` with the caller's sentence for what failed."""
    try:
        return load(path.read_bytes())
    except FileNotFoundError as exc:
        raise BundleError(missing) from exc
    except malformed_errors as exc:
        raise BundleError(malformed) from exc


def sign_manifest(manifest_bytes: bytes, private_key: Ed25519PrivateKey) -> str:
    """The text of a `signature` file for these exact manifest bytes."""
    signature = private_key.sign(manifest_bytes)
    record = {
        "algorithm": "ed25519",
        "key_id": key_id(private_key.public_key()),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return json.dumps(record, indent=2) + "\n"


def verify_manifest(
    manifest_bytes: bytes, signature_text: str, trusted: list[Ed25519PublicKey], where: str
) -> str:
    """Return the id of the trusted key that signed; raise `BundleError` otherwise."""
    try:
        record = json.loads(signature_text)
        signature = base64.b64decode(record["signature"], validate=True)
        claimed = str(record.get("key_id", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{where}: the signature file is malformed; re-sign the bundle") from exc
    if not trusted:
        raise BundleError(
            f"{where} is signed by key {claimed} but no trusted keys are configured; add its .pub "
            "to [model] trusted_keys (or pass --trusted-key PUB)"
        )
    for key in trusted:
        try:
            key.verify(signature, manifest_bytes)
        except InvalidSignature:
            continue
        return key_id(key)
    raise BundleError(
        f"{where}: the signature (key {claimed}) does not match any trusted key; the bundle was "
        "tampered with or signed by an untrusted key"
    )
