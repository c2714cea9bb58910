"""The precomputed control-period frames agree byte for byte with the general codec.

`fast_cycle` exists only for speed; these properties make sure it never says anything the
general encoder/decoder would not (the same SYNC_WRITE bytes, the same decoded values), and
that whatever it does not understand it hands back to the general path instead of guessing.
"""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.dynamixel import instructions as ins
from firmware_bridge.dynamixel.fast_cycle import FastStateReply, GoalFrame
from firmware_bridge.dynamixel.protocol import decode_frame

GOAL_ADDRESS = 116
STATE_ADDRESS, STATE_SIZE, FIELDS = 126, 10, "hii"

ids_strategy = st.lists(st.integers(0, 252), min_size=1, max_size=16, unique=True)
int32 = st.integers(-(2**31), 2**31 - 1)


@given(ids=ids_strategy, data=st.data())
def test_goal_frame_is_the_general_sync_write_or_refuses(ids: list[int], data) -> None:
    ticks = data.draw(st.lists(int32, min_size=len(ids), max_size=len(ids)))
    expected = ins.sync_write(
        GOAL_ADDRESS, 4, {i: t.to_bytes(4, "little", signed=True) for i, t in zip(ids, ticks)}
    )
    frame = GoalFrame(GOAL_ADDRESS, ids).encode(ticks)
    if frame is None:  # only when the general encoder had to stuff bytes
        assert len(expected) > 14 + 5 * len(ids)
    else:
        assert bytes(frame) == expected


def test_goal_frame_is_reused_and_stays_correct_across_calls() -> None:
    frame = GoalFrame(GOAL_ADDRESS, [1, 2, 3])
    for ticks in ([2048, 2048, 2048], [0, 4095, -5], [2048, 2049, 2050]):
        want = ins.sync_write(GOAL_ADDRESS, 4, {i: t.to_bytes(4, "little", signed=True)
                                                for i, t in zip([1, 2, 3], ticks)})  # fmt: skip
        assert bytes(frame.encode(ticks)) == want


def _answer(ids: list[int], errs: list[int], values: list[tuple[int, int, int]]) -> bytes:
    blocks = [(i, e, struct.pack("<" + FIELDS, *v)) for i, e, v in zip(ids, errs, values)]
    return ins.encode_fast_sync_reply(blocks)


state_values = st.tuples(st.integers(-(2**15), 2**15 - 1), int32, int32)


@given(ids=ids_strategy, data=st.data())
def test_state_reply_decodes_what_the_general_parser_decodes(ids: list[int], data) -> None:
    values = data.draw(st.lists(state_values, min_size=len(ids), max_size=len(ids)))
    errs = data.draw(st.lists(st.sampled_from([0, 0, 0, 0x80, 0x01]), min_size=len(ids),
                              max_size=len(ids)))  # fmt: skip
    wire = _answer(ids, errs, values)
    reply = FastStateReply(ids, STATE_SIZE, FIELDS)
    answer = reply.new_buffer()
    if len(wire) != reply.size:  # the chain stuffed a byte: not this path's job
        return
    answer[:] = wire
    assert reply.valid(answer)
    assert reply.has_errors(answer) == any(errs)
    general = ins.parse_fast_sync_read(decode_frame(wire), ids, STATE_SIZE)
    decoded = reply.values(answer)
    for index, servo_id in enumerate(ids):
        assert (
            struct.unpack("<" + FIELDS, general[servo_id][1]) == decoded[3 * index : 3 * index + 3]
        )
        assert general[servo_id][0] == errs[index]


@given(data=st.data())
def test_a_damaged_or_foreign_answer_is_never_valid(data) -> None:
    ids = [1, 2, 3, 4]
    wire = bytearray(_answer(ids, [0] * 4, [(1, 2, 3)] * 4))
    reply = FastStateReply(ids, STATE_SIZE, FIELDS)
    position = data.draw(st.integers(0, len(wire) - 1))
    flip = data.draw(st.integers(1, 255))
    wire[position] ^= flip
    answer = reply.new_buffer()
    answer[:] = wire
    assert not reply.valid(answer)  # header, ids or CRC catch every single-byte change


def test_ids_out_of_order_are_not_valid() -> None:
    reply = FastStateReply([1, 2], STATE_SIZE, FIELDS)
    answer = reply.new_buffer()
    answer[:] = _answer([2, 1], [0, 0], [(0, 0, 0), (0, 0, 0)])
    assert not reply.valid(answer)
