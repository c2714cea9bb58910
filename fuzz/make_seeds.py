"""Write the seed corpora (fuzz/corpus/NAME/): valid inputs made by the project's own writers.

Run from the repository root: ``python fuzz/make_seeds.py``. The seeds are committed; this
script is how they were made (re-run it when a format changes). Valid inputs teach the
fuzzer the structure (headers, CRCs, msgpack maps, JSON and TOML keys) it then mutates.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "edge_runtime")]

import numpy as np  # noqa: E402

from edge_runtime.calibration_artifacts import Device, build_document  # noqa: E402
from edge_runtime.calibration_artifacts.schemas import CAMERA, HANDEYE, JOINTS  # noqa: E402
from edge_runtime.pipeline.observer import ActionChunk, TickRecord  # noqa: E402
from edge_runtime.recording.recorder import EpisodeRecorder  # noqa: E402
from firmware_bridge.dynamixel import instructions as dxl  # noqa: E402
from firmware_bridge.dynamixel.protocol import encode_status  # noqa: E402
from firmware_bridge.mcu import frame as mcu_frames  # noqa: E402
from firmware_bridge.mcu import messages  # noqa: E402


def _write(target: str, name: str, data: bytes) -> None:
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def dxl_seeds() -> None:
    _write("dxl_status", "ping", encode_status(1, 0, bytes((0x06, 0x04, 0x2A))))
    _write("dxl_status", "read4", encode_status(3, 0, struct.pack("<i", 2048)))
    _write("dxl_status", "error", encode_status(2, 0x80 | 0x07, b""))
    blocks = [(i, 0, struct.pack("<i", 1000 * i)) for i in (1, 2, 3)]
    _write("dxl_status", "fast_sync", dxl.encode_fast_sync_reply(blocks))
    # As the CRC-fixing path reads them: id byte, then instruction + params.
    _write("dxl_status", "body", bytes((1, 0x55, 0x00, 0x06, 0x04, 0x2A)))


def mcu_seeds() -> None:
    for kind in messages.MsgType:
        try:
            payload = messages.encode(kind, _example_body(kind))
        except (ValueError, TypeError):
            continue
        wire = mcu_frames.encode(mcu_frames.Frame(1, kind, 5, 1234, payload))
        _write("mcu_frame", f"wire-{kind.name.lower()}", wire)
        _write(
            "mcu_frame",
            f"body-{kind.name.lower()}",
            bytes((1, list(messages.MsgType).index(kind))) + payload,
        )


def _example_body(kind: messages.MsgType) -> dict:
    """A body with every key the schema asks for, each of a plausible type."""
    examples = {"uint": 1, "str": "fw-1.0", "floats": [0.1, -0.2], "uints": [0, 0]}
    return {key: examples[spec] for key, spec in messages.SCHEMA[kind].items()}


def episode_seeds() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rec = EpisodeRecorder(Path(tmp) / "ep", process=False)
        rec.on_start(["a", "b"], 0.01)
        for i in range(6):
            pos = np.array([0.1 * i, -0.1 * i])
            rec.on_tick(TickRecord(i, i, i, 0, 0, pos, pos, pos, pos, pos, "run", 3))
        rec.on_chunk(ActionChunk(5, 20, np.zeros((2, 2)), 100, 0))
        rec.on_event("clamp", "b over its limit", 7)
        rec.on_stop()
        data = next((Path(tmp) / "ep").glob("*.erlog")).read_bytes()
    _write("episode_log", "episode", data)
    _write("episode_log", "torn", data[: len(data) * 2 // 3])


def bundle_seeds() -> None:
    from runtime_bundles import write_tiny_bundle

    with tempfile.TemporaryDirectory() as tmp:
        root = write_tiny_bundle(Path(tmp) / "bundle")
        _write("bundle_manifest", "manifest.json", (root / "manifest.json").read_bytes())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(root, arcname="bundle")
        _write("bundle_tar", "tiny.tar", buf.getvalue())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(root / "manifest.json", arcname="manifest.json")
        _write("bundle_tar", "manifest-only.tar", buf.getvalue())


def calibration_seeds() -> None:
    joints = {
        "offsets_applied": "host",
        "joints": [
            {"id": i, "zero_offset_rad": 0.01, "min_rad": -2.0, "max_rad": 2.0} for i in (1, 2)
        ],
    }
    camera = {
        "width": 640, "height": 480, "fx": 600.0, "fy": 601.0, "ppx": 320.0, "ppy": 240.0,
        "model": "brown_conrady", "coeffs": [0.1, -0.2, 0.0, 0.0, 0.05],
    }  # fmt: skip
    handeye = {
        "mode": "to-hand", "transform": np.eye(4).tolist(), "parent_frame": "base",
        "method": "PARK", "robot_model": "arm.xml", "ee_site": "ee_site",
    }  # fmt: skip
    from edge_runtime.calibration_artifacts.schemas import KINDS

    for kind, data in ((JOINTS, joints), (CAMERA, camera), (HANDEYE, handeye)):
        doc = build_document(kind.name, 1, Device("123", (1, 2)), {"ok": True}, data)
        prefix = bytes((KINDS.index(kind), 0))
        _write("calibration_artifact", kind.name, prefix + json.dumps(doc).encode())


def toml_seeds() -> None:
    _write(
        "robot_toml", "sim-robot.toml", (REPO / "edge_runtime" / "sim" / "robot.toml").read_bytes()
    )
    readme = (REPO / "README.md").read_text()
    start = readme.index("```toml\n") + len("```toml\n")
    _write("robot_toml", "readme.toml", readme[start : readme.index("```", start)].encode())


if __name__ == "__main__":
    dxl_seeds()
    mcu_seeds()
    episode_seeds()
    bundle_seeds()
    calibration_seeds()
    toml_seeds()
    for folder in sorted((HERE / "corpus").iterdir()):
        print(folder.name, len(list(folder.iterdir())), "seeds")
