"""`[[buses]]`: a robot's motor buses by name, and which joints each one carries.

A robot with one chain keeps its `[motors]` table (unchanged). A robot with several (two arms
on two U2D2s, an arm and a gripper, servos beside an MCU board) lists them instead:

    [[buses]]
    name = "arm"
    kind = "dynamixel"      # or "mcu"
    port = "/dev/ttyUSB0"
    baud = 1000000

and every joint names its bus (`bus = "arm"`; with one `[[buses]]` entry it may leave it out).
Joint ids stay unique robot-wide, because calibration artifacts and the selftest key joints by
id: give a second chain its own range (11, 12, ...). `watchdog_ms` and `latency_ms` default to
`[motors]`'s. Every error names the entry, the key and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from edge_runtime.errors import ConfigError
from edge_runtime.fields import Section

BUS_KINDS = ("dynamixel", "mcu")


@dataclass(frozen=True)
class BusConfig:
    name: str
    kind: str = "dynamixel"
    port: str = ""  # empty on a simulated robot: the simulator makes one pty per bus
    baud: int = 1_000_000
    watchdog_ms: int = 100
    latency_ms: float = 3.0


def parse_buses(
    data: dict[str, Any], where: str, defaults: Any, simulated: bool
) -> tuple[BusConfig, ...]:
    """The `[[buses]]` entries (empty when there are none); `defaults` is the `[motors]` config."""
    entries = data.get("buses")
    if entries is None:
        return ()
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: buses must be [[buses]] tables with name, kind, port, baud")
    buses = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: buses[{index}] must be a table [[buses]]")
        sec = Section({"buses": entry}, "buses", where, label=f"buses[{index}]")
        bus = BusConfig(
            name=sec.string("name"),
            kind=sec.choice("kind", BUS_KINDS, default="dynamixel"),
            port=sec.string("port", default=""),
            baud=sec.integer("baud", default=defaults.baud, minimum=9600),
            watchdog_ms=sec.integer("watchdog_ms", default=defaults.watchdog_ms, minimum=20),
            latency_ms=sec.number(
                "latency_ms", default=defaults.latency_ms, positive=True, maximum=100.0
            ),
        )
        sec.done()
        if not bus.port and not simulated:
            raise ConfigError(
                f"{where}: buses[{index}] ({bus.name}) has no port; set it, e.g. port = "
                '"/dev/ttyUSB0"'
            )
        buses.append(bus)
    names = [b.name for b in buses]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{where}: bus names must be unique, {dupes} appear twice")
    return tuple(buses)


def check_joint_buses(joints: Any, buses: tuple[BusConfig, ...], where: str) -> tuple[Any, ...]:
    """Joints with their bus filled in (the only bus when one); ConfigError for a bad name."""
    names = [b.name for b in buses]
    checked = []
    for index, joint in enumerate(joints):
        if not buses and joint.bus:
            raise ConfigError(
                f'{where}: joints[{index}] ({joint.name}) names bus "{joint.bus}" but there '
                "are no [[buses]] entries; add one or remove the key"
            )
        if buses and not joint.bus:
            if len(buses) > 1:
                raise ConfigError(
                    f"{where}: joints[{index}] ({joint.name}) has no bus; add "
                    f'bus = "{names[0]}" (one of {", ".join(names)})'
                )
            joint = replace(joint, bus=names[0])
        if buses and joint.bus not in names:
            raise ConfigError(
                f'{where}: joints[{index}] ({joint.name}) names bus "{joint.bus}", which is not '
                f"a [[buses]] entry; use one of {', '.join(names)}"
            )
        checked.append(joint)
    for bus in buses:
        if not any(j.bus == bus.name for j in checked):
            raise ConfigError(
                f'{where}: bus "{bus.name}" carries no joint; give a joint bus = "{bus.name}" '
                "or remove the entry"
            )
    return tuple(checked)
