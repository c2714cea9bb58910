"""The DYNAMIXEL-P and DYNAMIXEL-Y control tables: other addresses, 4-byte items, finer units.

Checked against the ROBOTIS e-manual (docs/dynamixel.md lists the pages): the P-series table
of PH54-200-S500-R (emanual.robotis.com/docs/en/dxl/p/ph54-200-s500-r/), shared by PH42, PH54,
PM42 and PM54, and the Y-series table of YM080-230 (emanual.robotis.com/docs/en/dxl/y/), which
the YM070 shares. Both keep the RAM area from address 512 (torque enable) and, like the X-series,
put present current, velocity and position in one 10-byte block (2 + 4 + 4 bytes), so the control
period's read has the same shape on every family, only at another address.

Positions are signed pulses with 0 = centre (no 2048 offset as on the X-series), a resolution
per model (`models`). P-series units: current 1 mA, velocity 0.01 rev/min. Y-series: current
0.01 A, velocity 0.01 rev/min, input voltage 0.01 V; its Bus Watchdog (address 8) and Status
Return Level (15) are RAM items inside the low addresses, and it reports faults in Error Code
(153) instead of Hardware Error Status.
"""

from __future__ import annotations

import math

from firmware_bridge.dynamixel.control_table import Item

RAM_START = 512
RAD_S_PER_CENTI_RPM = 0.01 * 2.0 * math.pi / 60.0

# (name, address, size, signed, writable, unit kind, default). Unit kinds are scaled per model.
_Row = tuple[str, int, int, bool, bool, str, int]

P_ROWS: list[_Row] = [
    ("model_number", 0, 2, False, False, "", 2020),
    ("model_information", 2, 4, False, False, "", 0),
    ("firmware_version", 6, 1, False, False, "", 10),
    ("id", 7, 1, False, True, "", 1),
    ("baud_rate", 8, 1, False, True, "", 3),
    ("return_delay_time", 9, 1, False, True, "delay", 0),
    ("drive_mode", 10, 1, False, True, "", 0),
    ("operating_mode", 11, 1, False, True, "", 3),
    ("secondary_id", 12, 1, False, True, "", 255),
    ("protocol_type", 13, 1, False, True, "", 2),
    ("homing_offset", 20, 4, True, True, "rad", 0),
    ("moving_threshold", 24, 4, False, True, "rad/s", 20),
    ("temperature_limit", 31, 1, False, True, "degC", 80),
    ("max_voltage_limit", 32, 2, False, True, "decivolt", 350),
    ("min_voltage_limit", 34, 2, False, True, "decivolt", 150),
    ("pwm_limit", 36, 2, False, True, "", 2009),
    ("current_limit", 38, 2, False, True, "A", 22740),
    ("acceleration_limit", 40, 4, False, True, "", 3992644),
    ("velocity_limit", 44, 4, False, True, "rad/s", 2900),
    ("max_position_limit", 48, 4, True, True, "rad", 501433),
    ("min_position_limit", 52, 4, True, True, "rad", -501433),
    ("shutdown", 63, 1, False, True, "", 52),
    ("torque_enable", 512, 1, False, True, "", 0),
    ("led_red", 513, 1, False, True, "", 0),
    ("led_green", 514, 1, False, True, "", 0),
    ("led_blue", 515, 1, False, True, "", 0),
    ("status_return_level", 516, 1, False, True, "", 2),
    ("registered_instruction", 517, 1, False, False, "", 0),
    ("hardware_error_status", 518, 1, False, False, "", 0),
    ("velocity_i_gain", 524, 2, False, True, "", 2209),
    ("velocity_p_gain", 526, 2, False, True, "", 6153),
    ("position_d_gain", 528, 2, False, True, "", 0),
    ("position_i_gain", 530, 2, False, True, "", 0),
    ("position_p_gain", 532, 2, False, True, "", 314),
    ("feedforward_2nd_gain", 536, 2, False, True, "", 0),
    ("feedforward_1st_gain", 538, 2, False, True, "", 0),
    ("bus_watchdog", 546, 1, True, True, "watchdog", 0),
    ("goal_pwm", 548, 2, True, True, "", 0),
    ("goal_current", 550, 2, True, True, "A", 0),
    ("goal_velocity", 552, 4, True, True, "rad/s", 0),
    ("profile_acceleration", 556, 4, False, True, "", 0),
    ("profile_velocity", 560, 4, False, True, "", 0),
    ("goal_position", 564, 4, True, True, "rad", 0),
    ("realtime_tick", 568, 2, False, False, "ms", 0),
    ("moving", 570, 1, False, False, "", 0),
    ("moving_status", 571, 1, False, False, "", 0),
    ("present_pwm", 572, 2, True, False, "", 0),
    ("present_current", 574, 2, True, False, "A", 0),
    ("present_velocity", 576, 4, True, False, "rad/s", 0),
    ("present_position", 580, 4, True, False, "rad", 0),
    ("velocity_trajectory", 584, 4, True, False, "rad/s", 0),
    ("position_trajectory", 588, 4, True, False, "rad", 0),
    ("present_input_voltage", 592, 2, False, False, "decivolt", 240),
    ("present_temperature", 594, 1, False, False, "degC", 30),
]
P_TABLE_SIZE = 595  # one past present_temperature (indirect data, beyond, is not modelled)

Y_ROWS: list[_Row] = [
    ("model_number", 0, 2, False, False, "", 4120),
    ("model_information", 2, 4, False, False, "", 0),
    ("firmware_version", 6, 1, False, False, "", 10),
    ("id", 7, 1, False, True, "", 1),
    ("bus_watchdog", 8, 2, True, True, "watchdog", 0),  # RAM
    ("secondary_id", 10, 1, False, True, "", 255),
    ("protocol_type", 11, 1, False, True, "", 2),
    ("baud_rate", 12, 1, False, True, "", 3),
    ("return_delay_time", 13, 1, False, True, "delay", 0),
    ("status_return_level", 15, 1, False, True, "", 2),  # RAM
    ("registered_instruction", 16, 1, False, False, "", 0),  # RAM
    ("drive_mode", 32, 1, False, True, "", 0),
    ("operating_mode", 33, 1, False, True, "", 3),
    ("startup_configuration", 34, 1, False, True, "", 0),
    ("moving_threshold", 48, 4, False, True, "", 19),
    ("homing_offset", 52, 4, True, True, "rad", 0),
    ("inverter_temperature_limit", 56, 1, False, True, "degC", 80),
    ("motor_temperature_limit", 57, 1, False, True, "degC", 60),
    ("max_voltage_limit", 60, 2, False, True, "decivolt", 320),
    ("min_voltage_limit", 62, 4, False, True, "decivolt", 160),
    ("pwm_limit", 64, 2, False, True, "", 1000),
    ("current_limit", 66, 2, False, True, "A", 2080),
    ("acceleration_limit", 68, 4, False, True, "", 313),
    ("velocity_limit", 72, 4, False, True, "rad/s", 3921),
    ("max_position_limit", 76, 4, True, True, "rad", 262144),
    ("min_position_limit", 84, 4, True, True, "rad", -262144),
    ("controller_state", 152, 1, False, False, "", 0),  # RAM
    ("error_code", 153, 1, False, False, "", 0),  # RAM
    ("torque_enable", 512, 1, False, True, "", 0),
    ("led", 513, 1, False, True, "", 0),
    ("goal_pwm", 524, 2, True, True, "", 0),
    ("goal_current", 526, 2, True, True, "A", 0),
    ("goal_velocity", 528, 4, True, True, "rad/s", 0),
    ("goal_position", 532, 4, True, True, "rad", 0),
    ("moving_status", 541, 1, False, False, "", 0),
    ("realtime_tick", 542, 2, False, False, "ms", 0),
    ("present_pwm", 544, 2, True, False, "", 0),
    ("present_current", 546, 2, True, False, "A", 0),
    ("present_velocity", 548, 4, True, False, "rad/s", 0),
    ("present_position", 552, 4, True, False, "rad", 0),
    ("position_trajectory", 560, 4, True, False, "rad", 0),
    ("velocity_trajectory", 564, 4, True, False, "", 0),
    ("present_input_voltage", 568, 2, False, False, "centivolt", 2400),
    ("present_inverter_temperature", 570, 1, False, False, "degC", 30),
    ("present_motor_temperature", 571, 1, False, False, "degC", 30),
]
Y_TABLE_SIZE = 572
Y_RAM_BELOW_512 = {"bus_watchdog", "status_return_level", "registered_instruction",
                   "controller_state", "error_code"}  # fmt: skip


def family_items(
    rows: list[_Row], rad_per_tick: float, amps_per_tick: float, model_number: int
) -> list[Item]:
    """Items of a P- or Y-series table with this model's position and current units."""
    units = {
        "rad": ("rad", rad_per_tick),
        "rad/s": ("rad/s", RAD_S_PER_CENTI_RPM),
        "A": ("A", amps_per_tick),
        "decivolt": ("V", 0.1),
        "centivolt": ("V", 0.01),
        "degC": ("degC", 1.0),
        "ms": ("s", 1e-3),
        "delay": ("s", 2e-6),
        "watchdog": ("s", 0.02),
        "": ("", 1.0),
    }
    items = []
    for name, address, size, signed, writable, kind, default in rows:
        unit, scale = units[kind]
        if name == "model_number":
            default = model_number
        items.append(
            Item(
                name, address, size, signed=signed, writable=writable, unit=unit, scale=scale,
                default=default, eeprom_end=RAM_START, ram=name in Y_RAM_BELOW_512,
            )
        )  # fmt: skip
    return items
