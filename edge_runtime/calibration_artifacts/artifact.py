"""The envelope every calibration artifact shares, its integrity hash and its atomic write.

An artifact is one human-readable JSON file. Besides its payload (`data`) it says what it is
(`kind`, `version`), when and by what it was made, which devices it belongs to (camera serial,
motor ids), how good it is (`quality`) and a `sha256` over everything else, so a hand edit or
a half-copied file is caught before the robot trusts it. The hash is an integrity check, not a
signature: anyone can recompute it, but nobody does so by accident. Pure stdlib: the runtime
reads artifacts on the robot without OpenCV.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime import __version__
from edge_runtime.errors import CalibrationError
from edge_runtime.file_hash import sha256_file

SCHEMA = "edge-runtime/calibration"
ENVELOPE_KEYS = (
    "schema",
    "kind",
    "version",
    "created_utc",
    "tool_version",
    "device",
    "quality",
    "data",
    "files",
    "sha256",
)


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes the hash covers: every key but `sha256`, sorted, compact, UTF-8."""
    body = {k: v for k, v in document.items() if k != "sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Device:
    """Which hardware an artifact belongs to; empty fields mean "not tied to one"."""

    camera_serial: str = ""
    motor_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"camera_serial": self.camera_serial, "motor_ids": list(self.motor_ids)}


@dataclass(frozen=True)
class Envelope:
    """A parsed, hash-checked artifact; `data` is validated by the kind's own schema."""

    kind: str
    version: int
    created_utc: str
    tool_version: str
    device: Device
    quality: dict[str, Any]
    data: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    sha256: str = ""
    path: Path | None = None


def build_document(
    kind: str,
    version: int,
    device: Device,
    quality: dict[str, Any],
    data: dict[str, Any],
    files: dict[str, str] | None = None,
    created_utc: str | None = None,
) -> dict[str, Any]:
    """A complete artifact document with its hash, ready to write."""
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": kind,
        "version": version,
        "created_utc": created_utc or utc_now(),
        "tool_version": f"edge-runtime {__version__}",
        "device": device.to_json(),
        "quality": quality,
        "data": data,
        "files": dict(files or {}),
    }
    # Round-trip once so the hash covers exactly what a reader will parse (floats, tuples).
    document = json.loads(json.dumps(document, allow_nan=False))
    document["sha256"] = document_sha256(document)
    return document


def write_atomic(path: Path, payload: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over `path`.

    A crash or a full disk leaves either the old file or the new one, never half of one; the
    directory is synced too, so after a power cut the new name is there (a latched stop must be).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artifacts are meant to be read by the robot
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (it must survive a power cut)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_document(path: Path, document: dict[str, Any]) -> Path:
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n"
    write_atomic(path, text.encode("utf-8"))
    return path


def read_envelope(path: Path, expected_kind: str, command: str) -> Envelope:
    """Parse and hash-check one artifact file; raises `CalibrationError` with the fix.

    `command` is the `edgerun calibrate` subcommand that re-creates this kind, named in errors.
    """
    where = f"{path}"
    rerun = f"`edgerun calibrate {command}`"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalibrationError(f"{where} does not exist; run {rerun}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CalibrationError(
            f"{where} is not valid JSON ({exc}); restore it from backup or re-run {rerun}"
        ) from exc
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise CalibrationError(
            f"{where} is not an edge-runtime calibration artifact (schema must be '{SCHEMA}')"
        )
    unknown = sorted(set(document) - set(ENVELOPE_KEYS))
    if unknown:
        raise CalibrationError(
            f"{where} has unknown top-level key '{unknown[0]}'; restore the file or re-run the "
            "calibration"
        )
    if document.get("kind") != expected_kind:
        raise CalibrationError(
            f"{where} holds a '{document.get('kind')}' artifact, expected '{expected_kind}'; "
            "the file was renamed or copied to the wrong place"
        )
    expected = document.get("sha256")
    actual = document_sha256(document)
    if expected != actual:
        raise CalibrationError(
            f"{where} does not match its sha256 (it was edited or damaged after calibration); "
            f"restore it or re-run {rerun}"
        )
    device = document.get("device")
    if not isinstance(device, dict):
        raise CalibrationError(f"{where}: 'device' must be a table")
    ids = device.get("motor_ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise CalibrationError(f"{where}: device.motor_ids must be a list of whole numbers")
    for key in ("quality", "data", "files"):
        if not isinstance(document.get(key), dict):
            raise CalibrationError(f"{where}: '{key}' must be a table")
    files = document["files"]
    for relative, digest in sorted(files.items()):
        rel = Path(relative)
        if rel.is_absolute() or ".." in rel.parts:
            raise CalibrationError(f"{where} lists unsafe path '{relative}'")
        target = path.parent / rel
        if not target.is_file():
            raise CalibrationError(
                f"{where} lists {relative} but it is missing; copy the whole calibration directory"
            )
        if sha256_file(target) != digest:
            raise CalibrationError(
                f"{target} does not match its sha256 in {path.name}; it was modified after "
                "calibration — restore it or re-run the capture"
            )
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise CalibrationError(f"{where}: version must be a whole number")
    return Envelope(
        kind=expected_kind,
        version=version,
        created_utc=str(document.get("created_utc", "")),
        tool_version=str(document.get("tool_version", "")),
        device=Device(camera_serial=str(device.get("camera_serial", "")), motor_ids=tuple(ids)),
        quality=document["quality"],
        data=document["data"],
        files=dict(files),
        sha256=str(expected),
        path=path,
    )
