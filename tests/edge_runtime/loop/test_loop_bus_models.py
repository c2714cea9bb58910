"""The bus spec remembers the servo models its verified open read, for the emergency open.

The runtime's emergency torque off opens the bus unverified (nothing on the wire before the
torque off); a P-series servo's torque enable is at 512, not 64, so the spec must know.
"""

from __future__ import annotations

from edge_runtime.loop.bus_spec import MotorBusSpec, MultiBusSpec, remember_models
from firmware_bridge.dynamixel.models import PH54_200
from firmware_bridge.sim.servo_device import SimServoChain


def test_an_unverified_open_uses_the_models_the_verified_one_read() -> None:
    with SimServoChain([1, 2], models={2: PH54_200}) as chain:
        spec = MotorBusSpec("dynamixel", chain.port, (1, 2), 1_000_000, 0.01, latency_s=0.05)
        multi = MultiBusSpec((("arm", spec),), (1, 2))
        with multi() as bus:
            multi = remember_models(multi, bus)
        assert multi.buses[0][1].models == ((1, 1020), (2, PH54_200))
        bus = multi(verify=False)
        try:
            bus.enable()
            assert all(s.torque_on for s in chain.servos)
        finally:
            bus.close()
        assert not any(s.torque_on for s in chain.servos)  # the P servo's own torque address
