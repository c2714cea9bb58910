"""The custom MCU link: COBS + CRC32 framed msgpack messages to a motor board (docs/mcu-link.md).

`cobs`, `frame` and `messages` are pure encoding; `McuBus` is the host side (a `MotorBus`).
"""
