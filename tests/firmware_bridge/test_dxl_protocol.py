"""Protocol 2.0 codec: CRC, stuffing, framing, resync; property-tested and fuzzed.

The ROBOTIS SDK's own CRC and stuffing serve as an independent oracle.
"""

from __future__ import annotations

import contextlib
import importlib.util

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.protocol import (
    BROADCAST_ID,
    HEADER,
    Instruction,
    PacketStream,
    crc16,
    decode_frame,
    encode,
    encode_status,
    stuff,
    unstuff,
)
from firmware_bridge.errors import ProtocolError

# The ROBOTIS SDK is an oracle for a few tests; the codec tests run without it.
needs_sdk = pytest.mark.skipif(
    importlib.util.find_spec("dynamixel_sdk") is None, reason="dynamixel-sdk (the oracle) missing"
)


def _sdk_packets():  # type: ignore[no-untyped-def]
    import dynamixel_sdk

    return dynamixel_sdk.Protocol2PacketHandler()


ids = st.integers(0, 252)
payloads = st.binary(max_size=64) | st.lists(
    st.sampled_from([b"\xff", b"\xfd", b"\x00", b"\xff\xff\xfd"]), max_size=20
).map(b"".join)


def test_crc_check_value_and_known_packet() -> None:
    assert crc16(b"123456789") == 0xFEE8
    # PING to id 1 as printed in the ROBOTIS e-manual.
    assert encode(1, Instruction.PING) == bytes.fromhex("ff ff fd 00 01 03 00 01 19 4e")


@needs_sdk
@given(st.binary(max_size=300))
def test_crc_matches_sdk(data: bytes) -> None:
    assert crc16(data) == _sdk_packets().updateCRC(0, list(data), len(data))


@needs_sdk
@given(ids, payloads)
def test_stuffing_matches_sdk(servo_id: int, params: bytes) -> None:
    frame = encode(servo_id, Instruction.WRITE, params)
    raw = [*list(HEADER), servo_id, 0, 0, Instruction.WRITE, *params, 0, 0]
    length = len(params) + 3
    raw[5], raw[6] = length & 0xFF, length >> 8
    sdk_packet = _sdk_packets().addStuffing(raw)
    assert frame[:-2] == bytes(sdk_packet[:-2])  # CRC slots differ: SDK fills them later


@given(payloads)
def test_stuffing_round_trips(params: bytes) -> None:
    assert unstuff(stuff(params)) == params


@given(ids, st.sampled_from(list(Instruction)), payloads)
def test_encode_decode_round_trip(servo_id: int, inst: int, params: bytes) -> None:
    if inst == Instruction.STATUS:
        packet = decode_frame(encode_status(servo_id, 0x80, params))
        assert (packet.id, packet.error, packet.params) == (servo_id, 0x80, params)
    else:
        packet = decode_frame(encode(servo_id, inst, params))
        assert (packet.id, packet.instruction, packet.params) == (servo_id, inst, params)


@given(st.binary(max_size=200))
def test_decode_frame_fuzz_gives_packet_or_protocol_error(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_frame(data)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(ids, payloads), min_size=1, max_size=5),
    st.lists(st.binary(max_size=12), min_size=6, max_size=6),
)
def test_stream_resyncs_through_noise(packets: list, noise: list[bytes]) -> None:
    """Garbage between packets costs nothing but the garbage; every packet comes out."""
    stream = PacketStream()
    wire = b""
    for k, (servo_id, params) in enumerate(packets):
        # Noise must not itself end in a header prefix glued to the real header.
        wire += noise[k].replace(b"\xff", b"\x01") + encode_status(servo_id, 0, params)
    for k in range(0, len(wire), 7):  # arrive in awkward pieces
        stream.feed(wire[k : k + 7])
    got = []
    while (packet := stream.next()) is not None:
        got.append((packet.id, packet.params))
    assert got == [(i, p) for i, p in packets]


@given(st.binary(max_size=400))
def test_stream_fuzz_never_raises(data: bytes) -> None:
    stream = PacketStream()
    stream.feed(data)
    while stream.next() is not None:
        pass
    assert stream.pending <= len(data)


@given(st.lists(ids, min_size=1, max_size=12, unique=True), st.data())
def test_fast_sync_reply_round_trip_and_fuzz(servo_ids: list[int], data: st.DataObject) -> None:
    blocks = [(i, data.draw(st.integers(0, 255)), data.draw(st.binary(min_size=10, max_size=10)))
              for i in servo_ids]  # fmt: skip
    frame = ins.encode_fast_sync_reply(blocks)
    assert len(frame) == ins.fast_sync_read_length(len(servo_ids), 10)
    parsed = ins.parse_fast_sync_read(decode_frame(frame), servo_ids, 10)
    assert parsed == {i: (err, d) for i, err, d in blocks}
    # Any single flipped byte is rejected by the decoder, never turned into values.
    pos = data.draw(st.integers(0, len(frame) - 1))
    bad = bytearray(frame)
    bad[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(ProtocolError):
        ins.parse_fast_sync_read(decode_frame(bytes(bad)), servo_ids, 10)


@given(st.binary(max_size=80), st.lists(ids, min_size=1, max_size=6))
def test_reply_parsers_fuzz(params: bytes, servo_ids: list[int]) -> None:
    for packet_id in (BROADCAST_ID, servo_ids[0]):
        packet = decode_frame(encode(packet_id, 0x55, params)) if params else None
        if packet is None:
            continue
        for parse in (
            lambda p: ins.parse_fast_sync_read(p, servo_ids, 10),
            ins.parse_ping,
            lambda p: ins.check_status(p, servo_ids[0], 4),
        ):
            with contextlib.suppress(ProtocolError):
                parse(packet)


def test_sdk_fast_sync_layout_matches() -> None:
    """The SDK slices fast sync answers as ERR ID data CRC blocks from the error byte on."""
    frame = ins.encode_fast_sync_reply([(3, 0, b"\xa6\x00\x00\x00"), (7, 0, b"\x1f\x08\x00\x00")])
    assert frame[:8] == bytes.fromhex("ff ff fd 00 fe 11 00 55")
    assert frame[8:10] == b"\x00\x03"
    assert frame[16:18] == b"\x00\x07"


def test_describe_error() -> None:
    assert ins.describe_error(0) == ""
    assert ins.describe_error(7) == "access error"
    assert "hardware alert" in ins.describe_error(0x84)


@settings(max_examples=300)
@given(st.integers(0, 254), st.sampled_from(list(Instruction)), st.binary(max_size=40))
@example(0, Instruction.FAST_SYNC_READ, b"\x00\x00\x00+\x01\x00\x00\x00\x00\x00")  # 11 kB read
def test_simulated_chain_survives_any_valid_packet(servo_id: int, inst: int, params: bytes) -> None:
    """The device-side decoder and dispatcher end in an answer or silence, never an exception."""
    from firmware_bridge.sim.servo_device import SimServoChain

    chain = SimServoChain([1, 2, 3])  # not started: replies go nowhere, the logic still runs
    chain.on_bytes(encode(servo_id, inst, params))
    chain.on_bytes(bytes(params) + encode(servo_id, inst, params[:7]))
