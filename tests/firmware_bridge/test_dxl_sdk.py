"""The official ROBOTIS SDK (dynamixel-sdk) against the simulated chain, over a real pty.

If the SDK can talk to the twin, the twin speaks Protocol 2.0 and not just our dialect of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmware_bridge.sim.servo_device import SimServoChain

sdk = pytest.importorskip("dynamixel_sdk")


@pytest.fixture
def sdk_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SimServoChain, object, object]]:
    # The SDK's reply timeout assumes a USB adapter's 16 ms latency timer (34 ms in all); the
    # simulated servos answer from this test process, which a loaded machine may not run that
    # soon. What is tested is the protocol, not that timing.
    monkeypatch.setattr(sdk.port_handler, "LATENCY_TIMER", 250)
    with SimServoChain([1, 2, 3]) as chain:
        port = sdk.PortHandler(chain.port)
        assert port.openPort()
        assert port.setBaudRate(1_000_000)
        try:
            yield chain, port, sdk.PacketHandler(2.0)
        finally:
            port.closePort()


def test_sdk_ping_read_write(sdk_port) -> None:
    chain, port, packets = sdk_port
    assert packets.ping(port, 2) == (1020, sdk.COMM_SUCCESS, 0)
    found, result = packets.broadcastPing(port)
    assert result == sdk.COMM_SUCCESS
    assert found == {1: [1020, 46], 2: [1020, 46], 3: [1020, 46]}
    assert packets.read4ByteTxRx(port, 3, 132) == (2048, sdk.COMM_SUCCESS, 0)
    assert packets.write1ByteTxRx(port, 3, 64, 1) == (sdk.COMM_SUCCESS, 0)
    assert chain.servo(3).torque_on
    # EEPROM with torque on: the SDK sees the servo's Access error.
    assert packets.write1ByteTxRx(port, 3, 11, 1) == (sdk.COMM_SUCCESS, 7)
    assert packets.write1ByteTxRx(port, 3, 64, 0) == (sdk.COMM_SUCCESS, 0)


def test_sdk_group_sync_and_bulk(sdk_port) -> None:
    _chain, port, packets = sdk_port
    writer = sdk.GroupSyncWrite(port, packets, 116, 4)
    for servo_id, goal in ((1, 1000), (2, 2000), (3, 3000)):
        assert writer.addParam(servo_id, goal.to_bytes(4, "little", signed=True))
    assert writer.txPacket() == sdk.COMM_SUCCESS
    # A sync write has no answer: read the goals back through the SDK, which also orders it
    # after the write on the wire.
    assert [packets.read4ByteTxRx(port, i, 116)[0] for i in (1, 2, 3)] == [1000, 2000, 3000]
    reader = sdk.GroupSyncRead(port, packets, 126, 10)
    for servo_id in (1, 2, 3):
        reader.addParam(servo_id)
    assert reader.txRxPacket() == sdk.COMM_SUCCESS
    assert [reader.getData(i, 132, 4) for i in (1, 2, 3)] == [2048, 2048, 2048]
    assert reader.fastSyncRead() == sdk.COMM_SUCCESS
    assert [reader.getData(i, 132, 4) for i in (1, 2, 3)] == [2048, 2048, 2048]
    bulk = sdk.GroupBulkRead(port, packets)
    assert bulk.addParam(1, 7, 1)
    assert bulk.addParam(3, 132, 4)
    assert bulk.txRxPacket() == sdk.COMM_SUCCESS
    assert bulk.getData(1, 7, 1) == 1
    assert bulk.getData(3, 132, 4) == 2048
