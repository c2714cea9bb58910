"""What ran: the identity a log's start record carries, and how replay compares it.

A log that cannot say which bundle produced it cannot be replayed honestly: a different
bundle's actions differ from the recorded ones and the difference reads as a regression. So
the start record holds the bundle's identity (name, sha256 of its manifest, which hashes every
model file, and the id of the key that signed it), the robot config's sha256, the calibration
artifacts' ids (each artifact's own integrity hash), the software version, and a wall-clock
(UTC) anchor taken beside the monotonic stamp so times in the log can be placed in the world.
Pure stdlib and small: the recorder builds it on the robot.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from edge_runtime import __version__
from edge_runtime.bundle.reader import MANIFEST, Bundle
from edge_runtime.calibration_artifacts.schemas import KINDS
from edge_runtime.config import RobotConfig
from edge_runtime.file_hash import sha256_file


def bundle_identity(bundle: Bundle, location: str | Path) -> dict[str, Any]:
    """Name, manifest sha256, signing key id ("" when unsigned) and exporter of a bundle."""
    exporter = bundle.manifest.exporter
    name = Path(location).name
    for suffix in (".tar", ".tgz", ".tar.gz"):
        name = name.removesuffix(suffix)
    return {
        "name": name,
        "manifest_sha256": sha256_file(bundle.root / MANIFEST),
        "key_id": bundle.signed_by,
        "exporter": exporter.get("model") or exporter.get("name", ""),
    }


def calibration_ids(directory: Path) -> dict[str, str]:
    """{kind: the artifact's own sha256} for every calibration artifact present in `directory`.

    Only the recorded hash is read (the runtime already checked the artifacts it uses): a
    missing or unreadable file is simply absent here, never an error while recording.
    """
    ids: dict[str, str] = {}
    for kind in KINDS:
        try:
            document = json.loads((directory / kind.filename).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and isinstance(document.get("sha256"), str):
            ids[kind.name] = document["sha256"]
    return ids


def config_identity(config: RobotConfig) -> dict[str, Any]:
    """The robot's name, its config file's sha256, its calibration ids and camera mode."""
    try:
        config_sha256 = sha256_file(config.path)
    except OSError:
        config_sha256 = ""  # e.g. a config built in memory by a test
    calibration = (
        calibration_ids(config.resolve(config.calibration_dir)) if (config.calibration_dir) else {}
    )
    camera = config.camera
    identity = {
        "robot": config.name,
        "config_sha256": config_sha256,
        "calibration": calibration,
        "camera": {"type": camera.type, "fps": camera.fps, "size": [camera.width, camera.height]},
    }
    if len(config.camera_configs) > 1:  # `camera` above is the primary; the log names them all
        identity["cameras"] = [
            {"name": c.name, "role": c.role, "type": c.type, "serial": c.serial, "fps": c.fps,
             "size": [c.width, c.height]}
            for c in config.camera_configs
        ]  # fmt: skip
    return identity


def run_identity(
    config: RobotConfig | None, bundle: Bundle | None = None, location: str | Path = ""
) -> dict[str, Any]:
    """Everything the start record says about what ran (keys absent when unknown)."""
    identity: dict[str, Any] = {"edgerun": __version__}
    if config is not None:
        identity.update(config_identity(config))
    if bundle is not None:
        identity["bundle"] = bundle_identity(bundle, location or bundle.root)
    return identity


def wall_anchor_ns() -> int:
    """UTC now (ns since the epoch): stored beside a monotonic stamp taken at the same moment."""
    return time.time_ns()


def bundle_mismatch(recorded: dict[str, Any] | None, replayed: dict[str, Any]) -> str | None:
    """One sentence when the replayed bundle is not the one that made the log, else None."""
    if not recorded:
        return (
            "the log does not say which bundle recorded it (recorded before edgerun stored "
            "bundle identities); action errors may reflect a different model"
        )
    if recorded.get("manifest_sha256") == replayed["manifest_sha256"]:
        return None
    return (
        f"the log was recorded with bundle {recorded.get('name', '?')} "
        f"(manifest {str(recorded.get('manifest_sha256', ''))[:12]}, key "
        f"{recorded.get('key_id') or 'unsigned'}) but is replayed through "
        f"{replayed['name']} (manifest {replayed['manifest_sha256'][:12]}); action errors "
        "measure the difference between the two models, not the recorded run"
    )
