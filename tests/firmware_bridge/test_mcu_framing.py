"""Pure framing of the MCU link: COBS, frames, payloads. Round-trips and fuzzing with hypothesis."""

from __future__ import annotations

import zlib
from pathlib import Path

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcu_strategies import frames

from firmware_bridge.errors import ProtocolError
from firmware_bridge.mcu import cobs, frame, messages
from firmware_bridge.mcu.messages import MsgType

FAST = settings(max_examples=150, deadline=None)


@pytest.mark.parametrize(
    ("raw", "stuffed"),
    [
        (b"", b"\x01"),
        (b"\x00", b"\x01\x01"),
        (bytes([0x11, 0x22, 0x00, 0x33]), bytes([0x03, 0x11, 0x22, 0x02, 0x33])),
        (bytes([0x11, 0x00, 0x00, 0x00]), bytes([0x02, 0x11, 0x01, 0x01, 0x01])),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
        (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
    ],
)
def test_mcu_cobs_known_vectors(raw: bytes, stuffed: bytes) -> None:
    assert cobs.encode(raw) == stuffed
    assert cobs.decode(stuffed) == raw


@FAST
@given(st.binary(max_size=700))
def test_mcu_cobs_round_trip_has_no_zero(data: bytes) -> None:
    stuffed = cobs.encode(data)
    assert 0 not in stuffed
    assert len(stuffed) <= cobs.max_encoded_len(len(data))
    assert cobs.decode(stuffed) == data


@FAST
@given(st.binary(max_size=300))
def test_mcu_cobs_decode_fuzz_ends_in_value_or_protocol_error(data: bytes) -> None:
    try:
        result: object = cobs.decode(data)
    except ProtocolError as exc:
        result = exc
    assert isinstance(result, bytes | ProtocolError)


def test_mcu_crc32_is_the_ieee_polynomial() -> None:
    assert zlib.crc32(b"123456789") == 0xCBF43926


@FAST
@given(frames)
def test_mcu_frame_round_trip(f: frame.Frame) -> None:
    wire = frame.encode(f)
    assert wire.endswith(b"\x00")
    assert 0 not in wire[:-1]
    assert list(frame.FrameReader().feed(wire)) == [f]


@FAST
@given(frames, st.data())
def test_mcu_corrupted_frame_never_decodes_to_a_wrong_value(f: frame.Frame, data) -> None:
    wire = bytearray(frame.encode(f))
    at = data.draw(st.integers(0, len(wire) - 2))
    wire[at] ^= data.draw(st.integers(1, 255))
    for item in frame.FrameReader().feed(bytes(wire) + b"\x00"):
        assert isinstance(item, ProtocolError)


@FAST
@given(st.lists(frames, min_size=1, max_size=4), st.binary(max_size=64), st.data())
def test_mcu_reader_resyncs_after_noise_in_any_chunking(frames_, noise: bytes, data) -> None:
    stream = noise + b"\x00" + b"".join(frame.encode(f) for f in frames_)
    reader = frame.FrameReader()
    got: list = []
    i = 0
    while i < len(stream):
        step = data.draw(st.integers(1, 64))
        got += reader.feed(stream[i : i + step])
        i += step
    assert [g for g in got if isinstance(g, frame.Frame)][-len(frames_) :] == frames_
    assert all(isinstance(g, frame.Frame | ProtocolError) for g in got)


@FAST
@given(st.binary(max_size=3000))
def test_mcu_reader_fuzz_ends_in_frames_or_protocol_errors(data: bytes) -> None:
    for item in frame.FrameReader().feed(data):
        assert isinstance(item, frame.Frame | ProtocolError)


def test_mcu_reader_drops_an_oversized_run_once() -> None:
    reader = frame.FrameReader()
    got = list(reader.feed(b"\x01" * (frame.MAX_WIRE + 10)))
    got += reader.feed(b"\x01\x01\x00" + frame.encode(frame.Frame(1, 5, 1, 2)))
    assert [type(g) for g in got] == [ProtocolError, frame.Frame]


floats = st.lists(st.floats(-100, 100, width=32), max_size=64)
bodies = {
    MsgType.HELLO: st.fixed_dictionaries(
        {
            "major": st.integers(0, 255),
            "minor": st.integers(0, 255),
            "schema": st.integers(0, 2**32 - 1),
        }
    ),
    MsgType.COMMAND: st.fixed_dictionaries({"goal": floats}),
    MsgType.ACK: st.fixed_dictionaries({"echo": st.integers(0, 0xFFFF), "code": st.integers(0, 5)}),
    MsgType.TELEMETRY: st.fixed_dictionaries(
        {
            "echo": st.integers(0, 0xFFFF),
            "state": st.integers(0, 2),
            "fault": st.integers(0, 2),
            "applied": st.integers(0, 0xFFFF),
            "pos": floats,
            "vel": floats,
            "cur": floats,
            "err": st.lists(st.integers(0, 255), max_size=64),
        }
    ),
}


@FAST
@given(st.sampled_from(sorted(bodies)).flatmap(lambda t: st.tuples(st.just(t), bodies[t])))
def test_mcu_payload_round_trip(case) -> None:
    msg_type, body = case
    assert messages.decode(msg_type, messages.encode(msg_type, body)) == body


@FAST
@given(st.sampled_from(list(MsgType)), st.binary(max_size=200))
def test_mcu_payload_decode_fuzz(msg_type: MsgType, payload: bytes) -> None:
    try:
        result: object = messages.decode(msg_type, payload)
    except ProtocolError as exc:
        result = exc
    assert isinstance(result, dict | ProtocolError)


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"goal": "north"},
        {"goal": [1.0, "x"]},
        {"goal": [True]},
        {},
        {1: 2},
    ],
)
def test_mcu_bad_command_payloads_are_protocol_errors(body) -> None:
    with pytest.raises(ProtocolError):
        messages.decode(MsgType.COMMAND, msgpack.packb(body))


def test_mcu_unknown_type_and_extension_are_refused() -> None:
    with pytest.raises(ProtocolError, match="unknown"):
        messages.decode(0x42, b"\x80")
    with pytest.raises(ProtocolError, match="not valid msgpack"):
        messages.decode(MsgType.HEARTBEAT, msgpack.packb(msgpack.ExtType(1, b"x")))


def test_mcu_schema_hash_ignores_optional_keys_but_not_required_ones() -> None:
    edited = {**messages.SCHEMA, MsgType.COMMAND: {"goal": "floats", "torque": "uint"}}
    assert messages.schema_hash(edited) != messages.SCHEMA_HASH
    assert messages.schema_hash(dict(messages.SCHEMA)) == messages.SCHEMA_HASH
    extra = messages.encode(MsgType.COMMAND, {"goal": [1.0], "future_key": 3})
    assert messages.decode(MsgType.COMMAND, extra)["goal"] == [1.0]


SPEC = Path(__file__).resolve().parents[2] / "docs" / "mcu-link.md"


def test_mcu_spec_states_the_schema_text_and_hash_of_this_code() -> None:
    text = SPEC.read_text()
    assert messages.schema_text() in text
    assert f"0x{messages.SCHEMA_HASH:08X}" in text


def test_mcu_spec_worked_examples_are_the_bytes_this_code_sends() -> None:
    text = SPEC.read_text()
    heartbeat = frame.Frame(1, MsgType.HEARTBEAT, 7, 0, messages.encode(MsgType.HEARTBEAT))
    goal = messages.encode(MsgType.COMMAND, {"goal": [0.5, -0.25]})
    command = frame.Frame(1, MsgType.COMMAND, 0x0102, 0, goal)
    for f in (heartbeat, command):
        assert ("00 " + frame.encode(f).hex(" ")) in text
