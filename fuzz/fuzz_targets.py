"""Fuzz targets: every parser that reads bytes from outside, and the only errors it may raise.

Each target takes arbitrary bytes. It feeds them to the parser as they are, and (where a
checksum would stop almost every input at the door) also wrapped in a correct checksum, so
the fuzzer reaches the code behind the check. A target swallows exactly the error types its
docstring names; anything else escapes and is a crash: a bug to fix and a regression test to
write. The same functions run under atheris (`fuzz/run.py`, `make fuzz`) and under
hypothesis in the normal suite (tests/test_fuzz_targets.py). Not a package the
distribution installs: `run.py` and the tests put this directory on the path.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

from edge_runtime.bundle.manifest import Manifest
from edge_runtime.bundle.reader import open_bundle
from edge_runtime.calibration_artifacts.artifact import document_sha256
from edge_runtime.calibration_artifacts.schemas import KINDS, load_artifact
from edge_runtime.config import load_config
from edge_runtime.errors import BundleError, CalibrationError, ConfigError
from edge_runtime.recording.format import MAGIC, LogError, header_record, pack, record_head
from edge_runtime.recording.reader import SegmentReport, read_segment
from firmware_bridge.dynamixel import instructions as dxl
from firmware_bridge.dynamixel.protocol import HEADER, Packet, PacketStream, crc16, decode_frame
from firmware_bridge.errors import ProtocolError
from firmware_bridge.mcu import cobs, messages
from firmware_bridge.mcu import frame as mcu_frames

Target = Callable[[bytes], None]
TARGETS: dict[str, Target] = {}
_SCRATCH: list[Path] = []


def target(*allowed: type[BaseException]) -> Callable[[Target], Target]:
    """Register a target; `allowed` are the documented errors, the only ones swallowed."""

    def wrap(fn: Target) -> Target:
        def run(data: bytes) -> None:
            with contextlib.suppress(allowed):
                fn(data)

        run.__name__, run.__doc__ = fn.__name__, fn.__doc__
        run.allowed = allowed  # type: ignore[attr-defined]
        TARGETS[fn.__name__] = run
        return run

    return wrap


def scratch() -> Path:
    """A private directory for targets that read files (in RAM under /dev/shm when there)."""
    if not _SCRATCH:
        given = os.environ.get("EDGERUN_FUZZ_SCRATCH")  # campaign.py's, removed by it: libFuzzer
        if given:  # ends the process with C exit(), so atexit below never runs under atheris
            _SCRATCH.append(Path(given))
        else:
            base = "/dev/shm" if os.path.isdir("/dev/shm") else None
            _SCRATCH.append(Path(tempfile.mkdtemp(prefix="edgerun-fuzz-", dir=base)))
            atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


# -- firmware_bridge ---------------------------------------------------------------------------


def _parse_status(packet: Packet, data: bytes) -> None:
    dxl.describe_error(packet.error)
    for parse in (
        lambda: dxl.check_status(packet, packet.id, len(data) % 8),
        lambda: dxl.parse_ping(packet),
        lambda: dxl.parse_fast_sync_read(packet, list(range(1, 1 + data[0] % 6)), data[-1] % 9),
    ):
        with contextlib.suppress(ProtocolError):
            parse()


@target(ProtocolError)
def dxl_status(data: bytes) -> None:
    """Dynamixel Protocol 2.0 replies: the stream decoder (resynchronising on noise; raises
    nothing), then `decode_frame` and the status parsers. May raise: ProtocolError."""
    stream = PacketStream()
    half = len(data) // 2
    for chunk in (data[:half], data[half:]):
        stream.feed(chunk)
        while (packet := stream.next()) is not None:
            _parse_status(packet, data or b"\0")
    if len(data) < 2:
        return
    body = data[1:]
    frame = HEADER + bytes((data[0],)) + struct.pack("<H", len(body) + 2) + body
    frame += struct.pack("<H", crc16(frame))  # a correct CRC: reach the parsers behind it
    _parse_status(decode_frame(frame), data)


@target(ProtocolError)
def mcu_frame(data: bytes) -> None:
    """The MCU link: COBS, frame header and CRC32, msgpack messages checked against the
    schema. `FrameReader` yields errors rather than raising. May raise: ProtocolError."""
    for item in mcu_frames.FrameReader().feed(data):
        if isinstance(item, mcu_frames.Frame):
            with contextlib.suppress(ProtocolError):
                messages.decode(item.msg_type, item.payload)
    with contextlib.suppress(ProtocolError):
        cobs.decode(data)
    if len(data) < 2:
        return
    kinds = list(messages.MsgType)
    wire = mcu_frames.encode(
        mcu_frames.Frame(data[0], kinds[data[1] % len(kinds)], 7, 9, data[2 : 2 + 1024])
    )  # a correct frame around the bytes: reach the message decoder behind the CRC
    decoded = mcu_frames.decode(wire[:-1])
    messages.decode(decoded.msg_type, decoded.payload)


# -- edge_runtime ------------------------------------------------------------------------------


@target(LogError)
def episode_log(data: bytes) -> None:
    """An episode log segment: damage is skipped and reported, never raised. May raise:
    LogError (bytes that are not a log at all, or a header from a newer version)."""
    header = MAGIC + pack(header_record(0, {}), 0)
    for buf in (data, MAGIC + data, header + data, header + record_head(1, data) + data):
        try:
            for _record in read_segment(buf, SegmentReport(Path("fuzz.erlog"), len(buf))):
                pass
        except LogError:
            pass


@target(BundleError)
def bundle_manifest(data: bytes) -> None:
    """A bundle's manifest.json, parsed and its role wiring checked. May raise: BundleError."""
    Manifest.from_json(data.decode("utf-8", "replace"), "fuzz/manifest.json")


@target(BundleError)
def bundle_tar(data: bytes) -> None:
    """A bundle .tar: archive safety, manifest, file hashes, signature (development mode, so
    an unsigned bundle gets as far as it can). May raise: BundleError."""
    root = scratch() / "tar"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    path = root / "bundle.tar"
    path.write_bytes(data)
    saved, tempfile.tempdir = tempfile.tempdir, str(root)  # extraction lands in `root`
    try:
        open_bundle(path, development_mode=True)
    finally:
        tempfile.tempdir = saved


def _with_hash(text: bytes) -> bytes:
    """The document with its sha256 recomputed, so the fuzzer reaches the schema parsers."""
    try:
        document = json.loads(text)
        if isinstance(document, dict):
            document["sha256"] = document_sha256(document)
            return json.dumps(document).encode()
    except Exception:  # not JSON, or not hashable: read_envelope says so itself
        pass
    return text


@target(CalibrationError)
def calibration_artifact(data: bytes) -> None:
    """A calibration artifact of the kind the first byte picks, hash fixed up (second byte
    even) or as given, read by the runtime's reader. May raise: CalibrationError."""
    if len(data) < 2:
        return
    kind = KINDS[data[0] % len(KINDS)]
    text = _with_hash(data[2:]) if data[1] % 2 == 0 else data[2:]
    root = scratch() / "calibration"
    root.mkdir(exist_ok=True)
    (root / kind.filename).write_bytes(text)
    load_artifact(root, kind)


@target(ConfigError)
def robot_toml(data: bytes) -> None:
    """A robot config file, parsed and validated. May raise: ConfigError."""
    path = scratch() / "robot.toml"
    path.write_bytes(data)
    load_config(path)
