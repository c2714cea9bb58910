"""The portable C99 device-side framing (firmware/mcu_link/) against the host Python framing:
byte-identical frames (ctypes, hypothesis), and McuBus driving the example C device over a pty."""

from __future__ import annotations

import ctypes
import os
import pty
import random
import shutil
import subprocess
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcu_strategies import frames

from firmware_bridge.errors import MotorTimeoutError
from firmware_bridge.mcu import cobs, frame, messages
from firmware_bridge.mcu.bus import McuBus
from firmware_bridge.mcu.errors import McuFaultError

SRC = Path(__file__).resolve().parents[2] / "firmware" / "mcu_link"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-g"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


def _gcc(args: list[str]) -> bool:
    return subprocess.run(["gcc", *args], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("mcu_link_c")
    sources = [str(SRC / "mcu_link.c"), str(SRC / "mcu_msgpack.c")]
    device, lib = out / "posix_device", out / "libmcu_link.so"
    example = str(SRC / "examples" / "posix_device.c")
    # Sanitizers catch any out-of-bounds access the fuzzing below provokes; fall back without.
    if not _gcc([*CFLAGS, *SANITIZE, "-o", str(device), example, *sources]):
        result = subprocess.run(
            ["gcc", *CFLAGS, "-o", str(device), example, *sources], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    result = subprocess.run(
        ["gcc", *CFLAGS, "-shared", "-fPIC", "-o", str(lib), *sources],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return {"device": device, "lib": lib}


class CFrame(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint8),
        ("type", ctypes.c_uint8),
        ("seq", ctypes.c_uint16),
        ("mcu_time_us", ctypes.c_uint32),
        ("payload", ctypes.c_void_p),
        ("payload_len", ctypes.c_size_t),
    ]


class CRx(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_uint8 * cobs.max_encoded_len(frame.MAX_FRAME)),
        ("len", ctypes.c_size_t),
        ("overflow", ctypes.c_int),
        ("bad_frames", ctypes.c_uint32),
    ]


@pytest.fixture(scope="module")
def clib(build) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build["lib"]))
    lib.mcu_frame_encode.argtypes = [ctypes.POINTER(CFrame), ctypes.c_char_p, ctypes.c_size_t]
    lib.mcu_frame_encode.restype = ctypes.c_size_t
    lib.mcu_cobs_encode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
    lib.mcu_cobs_encode.restype = ctypes.c_size_t
    lib.mcu_rx_byte.argtypes = [ctypes.POINTER(CRx), ctypes.c_uint8, ctypes.POINTER(CFrame)]
    lib.mcu_rx_byte.restype = ctypes.c_int
    return lib


def c_encode(lib: ctypes.CDLL, f: frame.Frame) -> bytes:
    payload = ctypes.create_string_buffer(f.payload, max(1, len(f.payload)))
    cf = CFrame(f.version, f.msg_type, f.seq, f.mcu_time_us, ctypes.cast(payload, ctypes.c_void_p))
    cf.payload_len = len(f.payload)
    wire = ctypes.create_string_buffer(frame.MAX_WIRE + 2)
    n = lib.mcu_frame_encode(ctypes.byref(cf), wire, len(wire))
    return wire.raw[:n]


def c_decode(lib: ctypes.CDLL, data: bytes) -> list[frame.Frame | None]:
    """Every outcome of the C receiver: a Frame, or None for a dropped bad frame."""
    rx, out, got = CRx(), CFrame(), []
    for byte in data:
        status = lib.mcu_rx_byte(ctypes.byref(rx), byte, ctypes.byref(out))
        if status == 1:
            payload = ctypes.string_at(out.payload, out.payload_len) if out.payload_len else b""
            got.append(frame.Frame(out.version, out.type, out.seq, out.mcu_time_us, payload))
        elif status == -1:
            got.append(None)
    return got


FEW = settings(max_examples=60, deadline=None)


@FEW
@given(st.binary(max_size=600))
def test_mcu_c_cobs_matches_python(clib, data: bytes) -> None:
    out = ctypes.create_string_buffer(cobs.max_encoded_len(len(data)))
    n = clib.mcu_cobs_encode(data, len(data), out)
    assert out.raw[:n] == cobs.encode(data)


@FEW
@given(frames)
def test_mcu_c_frames_are_byte_identical_and_cross_decode(clib, f: frame.Frame) -> None:
    wire = c_encode(clib, f)
    assert wire == frame.DELIMITER + frame.encode(f)
    assert c_decode(clib, wire) == [f]


@FEW
@given(frames, st.integers(0, 10_000), st.integers(1, 255))
def test_mcu_c_receiver_drops_corrupted_frames(clib, f: frame.Frame, at: int, flip: int) -> None:
    wire = bytearray(frame.encode(f))
    wire[at % (len(wire) - 1)] ^= flip
    assert all(item is None for item in c_decode(clib, bytes(wire)))


@FEW
@given(st.binary(max_size=2500))
def test_mcu_c_receiver_fuzz_then_resyncs(clib, noise: bytes) -> None:
    good = frame.Frame(1, 5, 9, 0, b"\x80")
    got = c_decode(clib, noise + frame.DELIMITER + frame.encode(good))
    assert got[-1] == good


@pytest.fixture
def c_device(build) -> Iterator[tuple[str, subprocess.Popen]]:
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    proc = subprocess.Popen(
        [str(build["device"]), "--motors", "3", "--period-us", "100000"],
        stdin=master,
        stdout=master,
        stderr=subprocess.PIPE,
    )
    os.close(master)
    try:
        yield os.ttyname(slave), proc
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        os.close(slave)
        assert b"ERROR" not in err, err.decode(errors="replace")  # sanitizer reports


def test_mcu_c_selftest(build) -> None:
    result = subprocess.run([str(build["device"]), "--selftest"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "selftest ok" in result.stdout


def test_mcu_c_device_serves_mcubus(c_device) -> None:
    port, proc = c_device
    with McuBus(port, [1, 2, 3], period_s=0.1, reply_timeout_s=0.5) as bus:
        assert bus.info.firmware == "mcu_link posix_device"
        assert bus.info.schema == messages.SCHEMA_HASH  # the C constant is the spec's hash
        bus.enable()
        goal = np.array([0.1, -0.7, 2.5])
        bus.write_goal(goal)
        state = bus.read_state()
        np.testing.assert_array_equal(state.positions_rad, goal.astype(np.float32))
        assert bus.estop()
        assert bus.estop()
        with pytest.raises(McuFaultError):
            bus.write_goal(goal)
        bus.clear_fault()
        bus.enable()
        bus.write_goal(goal)
        end = time.monotonic() + 5
        while bus.read_state().ok:  # the loop stops writing: the C watchdog must latch
            assert time.monotonic() < end, "the C device's watchdog never fired"
            time.sleep(0.01)
        with pytest.raises(McuFaultError):
            bus.enable()
        bus.clear_fault()
    assert proc.poll() is None


def test_mcu_c_device_survives_garbage(c_device) -> None:
    port, proc = c_device
    rng = random.Random(5)
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    try:
        good = frame.encode(frame.Frame(1, messages.MsgType.STATE_REQ, 1, 0, b"\x80"))
        for _ in range(40):
            noisy = bytearray(good)
            noisy[rng.randrange(len(noisy) - 1)] ^= rng.randrange(1, 256)
            os.write(fd, bytes(rng.randbytes(rng.randrange(1, 300))) + bytes(noisy))
        os.write(fd, b"\x00" + frame.encode(frame.Frame(1, 0x04, 2, 0, b"\x81\xa4goal\xc3")))
    finally:
        os.close(fd)
    for _ in range(3):  # the device may still be answering some lucky garbage: retry HELLO
        try:
            with McuBus(port, [1, 2, 3], period_s=0.1, reply_timeout_s=0.5) as bus:
                assert bus.read_state().ok
            break
        except MotorTimeoutError:
            continue
    else:
        pytest.fail("the C device stopped answering after garbage")
    assert proc.poll() is None
