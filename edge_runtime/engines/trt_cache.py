"""Where a TensorRT engine for one ONNX graph on one device lives, and whether it is still valid.

An engine only runs on the TensorRT version and GPU it was built with, and
`deserialize_cuda_engine` merely returns None on a mismatch; an engine's TensorRT version cannot be
read without deserializing it. So the cache key holds everything that invalidates an engine:

    <cache>/<onnx sha256>/<trt version>-<gpu name>-sm<cc>-<l4t>-<flags>.engine
    ...                  /<same stem>.json     sidecar: the key fields, written after the engine
    ...                  /<same stem>.timing   timing cache, reused by later builds
    ...                  /<same stem>.log      build log

`find_engine` (used by the runtime) refuses a missing engine or one whose sidecar does not match
this device: a stale engine after a JetPack or TensorRT upgrade is rebuilt, never loaded.
tensorrt and pycuda are imported only by `probe()`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_runtime.errors import EngineError
from edge_runtime.file_hash import sha256_file

L4T_RELEASE_FILE = Path("/etc/nv_tegra_release")
SIDECAR_VERSION = 1


class StaleEngineError(EngineError):
    """A cached engine was built for another TensorRT, GPU, L4T, graph or flags."""


@dataclass(frozen=True)
class DeviceInfo:
    """What an engine is bound to: TensorRT version, GPU, compute capability, L4T release."""

    tensorrt: str  # e.g. "10.3.0.30"
    gpu_name: str  # e.g. "Orin"
    compute_capability: str  # e.g. "8.7"
    l4t: str = "none"  # e.g. "R36.4.3"; "none" off Jetson

    def stem(self, flags: str) -> str:
        cc = "sm" + self.compute_capability.replace(".", "")
        parts = (self.tensorrt, self.gpu_name, cc, self.l4t, flags)
        return "-".join(_safe(p) for p in parts)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", text.strip()).strip("_") or "unknown"


def read_l4t_release(path: Path = L4T_RELEASE_FILE) -> str:
    """`R36.4.3` from `# R36 (release), REVISION: 4.3, GCID: ...`; "none" off Jetson."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "none"
    match = re.search(r"R(\d+)\s*\(release\),\s*REVISION:\s*([0-9.]+)", text)
    return f"R{match.group(1)}.{match.group(2)}" if match else "unknown"


def probe(device_index: int = 0) -> DeviceInfo:
    """This machine's TensorRT version and GPU (imports tensorrt and pycuda here)."""
    from edge_runtime.engines.tensorrt_engine import import_tensorrt

    trt, cuda = import_tensorrt()
    cuda.init()
    device = cuda.Device(device_index)
    major, minor = device.compute_capability()
    return DeviceInfo(
        tensorrt=str(trt.__version__),
        gpu_name=str(device.name()),
        compute_capability=f"{major}.{minor}",
        l4t=read_l4t_release(),
    )


def precision_flags(precision: str) -> str:
    """Builder flags a bundle precision needs; part of the cache key.

    INT8 Q/DQ graphs build with INT8 + FP16 so their float parts (LayerNorm, Softmax, GELU, the
    float output heads) run in FP16, not FP32; the key changed from `int8_strongly_typed`, so
    engines built the old way are rebuilt, never reused.
    """
    flags = {"int8": "int8_fp16", "fp16": "fp16", "fp32": "fp32"}
    if precision not in flags:
        raise EngineError(f"precision '{precision}' is not one of {', '.join(flags)}")
    return flags[precision]


def engine_path(cache_dir: Path, onnx_sha256: str, device: DeviceInfo, flags: str) -> Path:
    """The engine file for this graph, device and flags (it may not exist yet)."""
    return Path(cache_dir).expanduser() / onnx_sha256 / f"{device.stem(flags)}.engine"


def sidecar_path(engine: Path) -> Path:
    return engine.with_suffix(".json")


def sidecar_record(onnx_sha256: str, device: DeviceInfo, flags: str) -> dict[str, object]:
    return {
        "version": SIDECAR_VERSION,
        "onnx_sha256": onnx_sha256,
        "flags": flags,
        **asdict(device),
    }


def write_sidecar(engine: Path, onnx_sha256: str, device: DeviceInfo, flags: str) -> Path:
    """Write the sidecar after the engine file: its presence means the build completed."""
    path = sidecar_path(engine)
    record = sidecar_record(onnx_sha256, device, flags)
    record["engine_sha256"] = sha256_file(engine)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def check_engine(engine: Path, onnx_sha256: str, device: DeviceInfo, flags: str) -> None:
    """Raise `StaleEngineError` unless the engine and its sidecar match this device exactly."""
    side = sidecar_path(engine)
    if not engine.is_file() or not side.is_file():
        raise StaleEngineError(
            f"no complete TensorRT engine at {engine} for this device; run `edgerun build BUNDLE`"
        )
    try:
        record = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StaleEngineError(f"{side} is unreadable; rebuild with `edgerun build`") from exc
    expected = sidecar_record(onnx_sha256, device, flags)
    changed = sorted(k for k, v in expected.items() if record.get(k) != v)
    if changed:
        was = ", ".join(f"{k} {record.get(k)!r} (now {expected[k]!r})" for k in changed)
        raise StaleEngineError(
            f"engine {engine.name} is stale: built for {was}; run `edgerun build BUNDLE` to "
            "rebuild it"
        )
    if record.get("engine_sha256") != sha256_file(engine):
        raise StaleEngineError(
            f"engine {engine} does not match its sidecar hash (interrupted build or modified "
            "file); run `edgerun build BUNDLE` to rebuild it"
        )


def find_engine(
    cache_dir: Path,
    onnx_path: Path,
    precision: str,
    device: DeviceInfo | None = None,
    *,
    onnx_sha256: str | None = None,
) -> Path:
    """The valid engine for this bundle model on this device, or `EngineError` saying why not.

    `onnx_sha256` is the digest the bundle manifest records (and `open_bundle` verified);
    only a bare path with nothing verified behind it is hashed here.
    """
    device = device if device is not None else probe()
    onnx_sha = onnx_sha256 if onnx_sha256 is not None else sha256_file(Path(onnx_path))
    flags = precision_flags(precision)
    path = engine_path(cache_dir, onnx_sha, device, flags)
    check_engine(path, onnx_sha, device, flags)
    return path


def stale_engines(cache_dir: Path, onnx_sha256: str, device: DeviceInfo, flags: str) -> list[Path]:
    """Other engines cached for the same graph (older TensorRT/L4T, other flags): for cleanup."""
    current = engine_path(cache_dir, onnx_sha256, device, flags)
    folder = current.parent
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.engine") if p != current)
