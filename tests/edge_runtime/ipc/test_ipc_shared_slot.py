"""SharedArraySlot: latest value across processes, reader never blocks."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from edge_runtime.ipc.shared_slot import SharedArraySlot


def _child_put(slot: SharedArraySlot, value: float) -> None:
    slot.put(np.full(slot.shape, value))
    slot.close()


@pytest.fixture
def slot():
    s = SharedArraySlot((4, 3))
    yield s
    s.close()
    s.unlink()


def test_empty_slot_returns_none(slot: SharedArraySlot) -> None:
    assert slot.get() == (None, 0)


def test_put_then_get_in_one_process(slot: SharedArraySlot) -> None:
    slot.put(np.arange(12.0).reshape(4, 3))
    value, version = slot.get()
    assert version == 1
    assert value is not None
    assert value.tolist() == np.arange(12.0).reshape(4, 3).tolist()
    with pytest.raises(ValueError, match="read-only"):
        value[0, 0] = 99  # readers share one copy: it must not be changed in place


def test_a_child_process_writes_and_the_parent_reads(slot: SharedArraySlot) -> None:
    ctx = mp.get_context("spawn")
    child = ctx.Process(target=_child_put, args=(slot, 7.5))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    value, version = slot.get()
    assert version == 1
    assert value is not None
    assert np.all(value == 7.5)


def test_reader_returns_the_last_value_while_the_writer_holds_the_lock(
    slot: SharedArraySlot,
) -> None:
    slot.put(np.ones((4, 3)))
    assert slot.get()[1] == 1
    with slot._lock:  # the writer is mid-copy: the reader must not wait
        slot._data[...] = 5.0
        slot._version[0] += 1
        value, version = slot.get()
    assert version == 1
    assert value is not None
    assert np.all(value == 1.0)
    assert slot.get()[1] == 2


def test_put_checks_the_shape(slot: SharedArraySlot) -> None:
    with pytest.raises(ValueError, match="reshape"):
        slot.put(np.zeros(5))


CHUNK = np.dtype([("t_obs_ns", "i8"), ("dt_ns", "i8"), ("actions", "f8", (4, 2))])


def _child_put_chunk(slot: SharedArraySlot) -> None:
    value = np.zeros((), dtype=CHUNK)
    value["t_obs_ns"] = 123_456_789_012_345
    value["actions"] = 0.25
    slot.put(value)
    slot.close()


def test_structured_dtype_carries_stamps_across_processes() -> None:
    slot = SharedArraySlot((), CHUNK)
    try:
        child = mp.get_context("spawn").Process(target=_child_put_chunk, args=(slot,))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        value, version = slot.get()
        assert version == 1
        assert value is not None
        assert int(value["t_obs_ns"]) == 123_456_789_012_345
        assert value["actions"].shape == (4, 2)
        assert np.all(value["actions"] == 0.25)
    finally:
        slot.close()
        slot.unlink()
