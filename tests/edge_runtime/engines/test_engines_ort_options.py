"""ONNX Runtime options: the int8 saturation guard reads the CPU's flags correctly."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from edge_runtime.engines.ort_options import int8_kernels_saturate, session_options

x86_only = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="reads x86 CPU flags"
)


@x86_only
@pytest.mark.parametrize(
    ("flags", "saturates"),
    [
        ("fpu sse2 avx avx2 fma", True),
        ("fpu avx2 avx512f avx512_vnni", False),
        ("fpu avx2 avx_vnni", False),
    ],
)
def test_ort_int8_guard_follows_vnni(tmp_path: Path, flags: str, saturates: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n", encoding="utf-8")
    assert int8_kernels_saturate(str(cpuinfo)) is saturates


def test_ort_int8_guard_unknown_cpu_keeps_defaults(tmp_path: Path) -> None:
    assert int8_kernels_saturate(str(tmp_path / "missing")) is False


def test_ort_session_options_one_thread_no_spinning() -> None:
    options = session_options(threads=1)
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 1
