"""Episode log framing: round trips; damage anywhere costs exactly the records it touches."""

from __future__ import annotations

import struct
import zlib

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.recording.format import pack
from edge_runtime.recording.framing import ScanState, scan

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
records = st.lists(st.dictionaries(st.text(max_size=8), values, max_size=5), min_size=1, max_size=8)


def _scan_all(buf: bytes, version: int = 2) -> tuple[list[dict], ScanState]:
    state = ScanState()
    return list(scan(buf, 0, len(buf), state, version)), state


def _frames(recs: list[dict]) -> list[bytes]:
    return [pack(r, seq) for seq, r in enumerate(recs)]


@settings(max_examples=25, deadline=None)
@given(records)
def test_rec_records_round_trip(recs: list[dict]) -> None:
    got, state = _scan_all(b"".join(_frames(recs)))
    assert got == recs
    assert state.damage == []


@settings(max_examples=40, deadline=None)
@given(records, st.data())
def test_rec_truncation_keeps_every_whole_record(recs: list[dict], data: st.DataObject) -> None:
    frames = _frames(recs)
    buf = b"".join(frames)
    cut = data.draw(st.integers(0, len(buf) - 1))
    got, state = _scan_all(buf[:cut])
    whole = 0
    end = 0
    for f in frames:
        if end + len(f) > cut:
            break
        end += len(f)
        whole += 1
    assert got == recs[:whole]
    assert state.offset == end
    if cut == end:
        assert state.damage == []
    else:
        (torn,) = state.damage
        assert (torn.offset, torn.size, torn.records) == (end, cut - end, 1)


@settings(max_examples=60, deadline=None)
@given(records, st.data())
def test_rec_flipped_bytes_cost_only_the_records_they_touch(
    recs: list[dict], data: st.DataObject
) -> None:
    frames = _frames(recs)
    buf = bytearray(b"".join(frames))
    flips = data.draw(st.lists(st.integers(0, len(buf) - 1), min_size=1, max_size=6, unique=True))
    for pos in flips:
        buf[pos] ^= data.draw(st.integers(1, 255))
    got, state = _scan_all(bytes(buf))
    starts = np.cumsum([0] + [len(f) for f in frames])
    touched = {int(np.searchsorted(starts, pos, side="right")) - 1 for pos in flips}
    assert got == [r for i, r in enumerate(recs) if i not in touched]
    assert state.lost_bytes == sum(len(frames[i]) for i in touched)
    if len(recs) - 1 not in touched:  # counted by sequence number: exact
        assert state.lost_records == len(touched)
    else:  # a damaged end has no number after it: counted from the heads that survived
        assert 1 <= state.lost_records <= len(touched)


def test_rec_damage_report_says_where_and_how_much() -> None:
    recs = [{"k": "tick", "i": i, "pad": b"x" * 50} for i in range(10)]
    frames = _frames(recs)
    buf = bytearray(b"".join(frames))
    first = sum(map(len, frames[:3]))
    buf[first + 30] ^= 0x40  # inside record 3's payload
    buf[first + len(frames[3]) + 5] ^= 0x01  # record 4's head
    got, state = _scan_all(bytes(buf))
    assert [r["i"] for r in got] == [0, 1, 2, 5, 6, 7, 8, 9]
    assert len(state.damage) == 1  # two adjacent damaged records are one span
    (span,) = state.damage
    assert (span.offset, span.size, span.records) == (first, len(frames[3]) + len(frames[4]), 2)
    assert span.reason == "CRC mismatch"


def test_rec_version_1_logs_read_up_to_their_first_damage() -> None:
    def v1(record: dict) -> bytes:
        payload = msgpack.packb(record)
        return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload

    buf = bytearray(b"".join(v1({"i": i}) for i in range(5)))
    got, state = _scan_all(bytes(buf), version=1)
    assert [r["i"] for r in got] == list(range(5))
    buf[len(v1({"i": 0})) + 9] ^= 1
    got, state = _scan_all(bytes(buf), version=1)
    assert [r["i"] for r in got] == [0]
    assert "version 1 log cannot resynchronise" in state.damage[0].reason


def test_rec_numpy_arrays_round_trip_and_object_arrays_are_refused() -> None:
    arrays = {"f": np.linspace(0, 1, 6).reshape(2, 3), "u": np.arange(5, dtype=np.uint16)}
    (got,), _ = _scan_all(pack(arrays))
    for key, arr in arrays.items():
        assert got[key].dtype == arr.dtype
        np.testing.assert_array_equal(got[key], arr)
    with pytest.raises(TypeError, match="object arrays"):
        pack({"x": np.array([object()])})
