"""Episode log framing: round trips, and damage anywhere in the tail never costs the prefix."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.recording.format import ScanState, pack, scan

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


def _scan_all(buf: bytes) -> tuple[list[dict], ScanState]:
    state = ScanState()
    return list(scan(io.BytesIO(buf), len(buf), state)), state


@settings(max_examples=25, deadline=None)
@given(records)
def test_rec_records_round_trip(recs: list[dict]) -> None:
    got, state = _scan_all(b"".join(pack(r) for r in recs))
    assert got == recs
    assert state.problem is None


@settings(max_examples=40, deadline=None)
@given(records, st.data())
def test_rec_truncation_keeps_every_whole_record(recs: list[dict], data: st.DataObject) -> None:
    frames = [pack(r) for r in recs]
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
    assert (state.problem is None) == (cut == end)


@settings(max_examples=40, deadline=None)
@given(records, st.data())
def test_rec_corruption_stops_at_the_damaged_record(recs: list[dict], data: st.DataObject) -> None:
    frames = [pack(r) for r in recs]
    buf = bytearray(b"".join(frames))
    pos = data.draw(st.integers(0, len(buf) - 1))
    buf[pos] ^= data.draw(st.integers(1, 255))
    got, state = _scan_all(bytes(buf))
    damaged = next(i for i in range(len(frames)) if sum(map(len, frames[: i + 1])) > pos)
    # Everything before the damage survives; CRC32 catches any single-byte change in a record.
    assert got == recs[:damaged]
    assert state.problem is not None


def test_rec_numpy_arrays_round_trip_and_object_arrays_are_refused() -> None:
    arrays = {"f": np.linspace(0, 1, 6).reshape(2, 3), "u": np.arange(5, dtype=np.uint16)}
    (got,), _ = _scan_all(pack(arrays))
    for key, arr in arrays.items():
        assert got[key].dtype == arr.dtype
        np.testing.assert_array_equal(got[key], arr)
    with pytest.raises(TypeError, match="object arrays"):
        pack({"x": np.array([object()])})
