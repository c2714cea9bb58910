"""ONNX Runtime session options, the same for the robot, the exporter and the benchmarks.

One thread, no spinning (the control process needs the other core; see onnxruntime_engine),
and one correctness guard: on x86 CPUs without VNNI (AVX2 only, e.g. many EPYC/Xeon VMs),
ONNX Runtime fuses a Q/DQ graph's Conv into its integer QLinearConv kernel, whose u8*s8
pairwise products saturate at int16 on these CPUs. Measured here (AMD EPYC, AVX2, ORT 1.31.1
and 1.32.0) on a one-conv encoder: cosine 0.905 against FP32 with the fusion, 0.9999 without.
The gate, golden data and the runtime must compute what the graph means, so on such CPUs the
Q/DQ fusion is turned off (`session.disable_quant_qdq`): the int8 rounding is still simulated
exactly, the arithmetic runs in float. ARM (Jetson) and VNNI CPUs keep the fused kernels.
"""

from __future__ import annotations

import functools
import logging
import platform
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8", "avx_vnni_int8"})


@functools.lru_cache(maxsize=1)
def int8_kernels_saturate(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True on x86-64 CPUs whose int8 dot products lack VNNI (ORT's u8s8 path saturates)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False  # cannot tell: keep ORT's defaults
    for line in text.splitlines():
        if line.startswith("flags"):
            return not (VNNI_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def session_options(threads: int = 1, quiet: bool = False) -> Any:
    """`onnxruntime.SessionOptions` for one model on the CPU (see the module docstring)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning worker threads would steal the control process's core between inferences.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if int8_kernels_saturate():
        options.add_session_config_entry("session.disable_quant_qdq", "1")
    if quiet:
        options.log_severity_level = 3
    return options
