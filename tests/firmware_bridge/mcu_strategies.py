"""Hypothesis strategies for MCU link frames, shared by the Python and the C framing tests."""

from __future__ import annotations

from hypothesis import strategies as st

from firmware_bridge.mcu import frame

frames = st.builds(
    frame.Frame,
    version=st.integers(0, 255),
    msg_type=st.integers(0, 255),
    seq=st.integers(0, 0xFFFF),
    mcu_time_us=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=frame.MAX_PAYLOAD),
)
