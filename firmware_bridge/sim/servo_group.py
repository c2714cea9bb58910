"""The servo chain's group instructions: one packet addressed to several servos.

Split from `servo_device` (the chain, its lifetime and single-servo instructions) to keep each
module to one concern; these functions are the chain's own handlers and use its helpers.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from firmware_bridge.dynamixel.instructions import encode_fast_sync_reply
from firmware_bridge.dynamixel.protocol import Instruction, Packet, encode_status
from firmware_bridge.sim.servo_model import SimServo

if TYPE_CHECKING:
    from firmware_bridge.sim.servo_device import SimServoChain


def _reads_present(servos: list[SimServo], address: int, length: int) -> bool:
    """A read overlapping any addressed servo's present values asks the plant first."""
    return any(
        address < s.present_range.stop and s.present_range.start < address + length for s in servos
    )


def sync_instruction(
    chain: SimServoChain, packet: Packet, servos: list[SimServo], now: float
) -> list[bytes]:
    """SYNC_WRITE, SYNC_READ and FAST_SYNC_READ: one packet for several servos."""
    p = packet.params
    if len(p) < 4:
        return []
    address, length = struct.unpack_from("<HH", p)
    by_id = {s.id: s for s in servos}
    if packet.instruction == Instruction.SYNC_WRITE:
        changed = False
        for k in range(4, len(p) - length, length + 1):
            servo = by_id.get(p[k])
            if servo is None:
                continue
            servo.feed(now)
            value = bytes(p[k + 1 : k + 1 + length])
            if not servo.check_write(address, value):
                changed |= chain._accept(servo, address, value)
        if changed:
            chain._command_plant()
        return []
    ids = list(p[4:])
    if _reads_present([by_id[i] for i in ids if i in by_id], address, length):
        chain._refresh_present()
    if packet.instruction == Instruction.FAST_SYNC_READ:
        if not chain.fast_sync_read:
            return []  # older firmware: a broadcast it does not know goes unanswered
        if length == 0 or any(address + length > len(by_id[i].table) for i in ids if i in by_id):
            return []  # outside the control table: no servo can build this answer
        blocks = []
        for servo_id in ids:
            servo = by_id.get(servo_id)
            if servo is None:
                break  # the servos after a silent one never get their turn
            servo.feed(now)
            err, data = servo.read(address, length)
            blocks.append((servo_id, err, data.ljust(length, b"\0")))
        if not blocks:
            return []
        frame = encode_fast_sync_reply(blocks)
        if len(blocks) < len(ids):
            # The header announced every servo; the chain stops where one is missing.
            full = 1 + len(ids) * (length + 4)
            frame = frame[:5] + bytes((full & 0xFF, full >> 8)) + frame[7:-2]
        return [frame]
    replies = []
    for servo_id in ids:
        servo = by_id.get(servo_id)
        if servo is None:
            continue
        servo.feed(now)
        err, data = servo.read(address, length)
        if chain._answers(servo, Instruction.SYNC_READ):
            replies.append(encode_status(servo.id, err, data))
    return replies


def bulk_instruction(
    chain: SimServoChain, packet: Packet, servos: list[SimServo], now: float
) -> list[bytes]:
    """BULK_WRITE and BULK_READ: per-servo addresses in one packet."""
    p = packet.params
    by_id = {s.id: s for s in servos}
    replies: list[bytes] = []
    changed = False
    refreshed = False
    k = 0
    while k + 5 <= len(p):
        servo_id, address, length = struct.unpack_from("<BHH", p, k)
        k += 5
        servo = by_id.get(servo_id)
        if packet.instruction == Instruction.BULK_WRITE:
            value = bytes(p[k : k + length])
            k += length
            if servo is not None and len(value) == length:
                servo.feed(now)
                if not servo.check_write(address, value):
                    changed |= chain._accept(servo, address, value)
        elif servo is not None:
            servo.feed(now)
            if not refreshed and _reads_present([servo], address, length):
                chain._refresh_present()
                refreshed = True
            err, data = servo.read(address, length)
            if chain._answers(servo, Instruction.BULK_READ):
                replies.append(encode_status(servo.id, err, data))
    if changed:
        chain._command_plant()
    return replies
