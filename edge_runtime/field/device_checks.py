"""`edgerun doctor`'s lines about the robot computer: Jetson, GPU stack, power, groups, udev, RT.

What a field engineer would otherwise find out one failed start at a time: the L4T release and
the CUDA/TensorRT versions engines are bound to, whether the board runs at the power mode and
clocks it was benchmarked at, whether the service user may open the serial port and the camera,
whether the udev rules (FTDI latency timer 1 ms, RealSense permissions) are installed, and
whether the real-time limits let the control process take SCHED_FIFO 80 and lock its memory.
Each returns (ok, detail) like the other doctor checks; off a Jetson they say so, not fail.
Paths are module constants so tests can point them at a fake root.
"""

from __future__ import annotations

import grp
import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

from edge_runtime.engines.trt_cache import L4T_RELEASE_FILE, read_l4t_release

DEVICE_MODEL = Path("/proc/device-tree/model")
CUDA_VERSION_FILE = Path("/usr/local/cuda/version.json")
CPU_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq")
DEVFREQ = Path("/sys/class/devfreq")
UDEV_RULES = Path("/etc/udev/rules.d")
USB_SERIAL = Path("/sys/bus/usb-serial/devices")
RULES = {
    "ftdi": ("99-edge-runtime-ftdi.rules",),
    "realsense": ("99-edge-runtime-realsense.rules", "99-realsense-libusb.rules"),
}
GROUPS = ("dialout", "video")  # serial adapters; cameras
CONTROL_PRIORITY = 80  # RuntimeSettings.realtime_priority


def check_jetson() -> tuple[bool, str]:
    if not L4T_RELEASE_FILE.exists():
        return False, "not a Jetson (no /etc/nv_tegra_release): TensorRT checks do not apply"
    model = _read(DEVICE_MODEL).rstrip("\x00") or "unknown model"
    return True, f"{model}, L4T {read_l4t_release()}"


def check_gpu_stack() -> tuple[bool, str]:
    """CUDA, TensorRT and the GPU an engine is bound to (edge_runtime.engines.trt_cache)."""
    try:
        cuda = json.loads(_read(CUDA_VERSION_FILE) or "{}").get("cuda", {}).get("version", "")
    except ValueError:
        cuda = ""
    parts = [f"CUDA {cuda or 'not found'}"]
    try:
        from edge_runtime.engines.trt_cache import probe

        device = probe()
    except Exception as exc:  # no tensorrt/pycuda, or no GPU: say which
        return False, f"{parts[0]}; TensorRT/GPU unavailable ({exc})"
    parts += [f"TensorRT {device.tensorrt}", f"{device.gpu_name} sm {device.compute_capability}"]
    return True, ", ".join(parts)


def check_power() -> tuple[bool, str]:
    """nvpmodel mode and the current/maximum CPU and GPU clocks."""
    notes = []
    if shutil.which("nvpmodel"):
        try:
            out = subprocess.run(
                ["nvpmodel", "-q"], capture_output=True, text=True, timeout=5, check=False
            ).stdout
            notes.append(next((ln for ln in out.splitlines() if "Mode" in ln), "nvpmodel: ?"))
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes.append(f"nvpmodel failed ({exc})")
    notes.append(f"cpu0 {_clock(CPU_FREQ, 'scaling_cur_freq', 'scaling_max_freq', 1e3)}")  # kHz
    gpus = sorted(DEVFREQ.glob("*gpu*")) + sorted(DEVFREQ.glob("*ga10b*"))
    if gpus:
        notes.append(f"gpu {_clock(gpus[0], 'cur_freq', 'max_freq', 1e6)}")  # Hz
    governor = _read(CPU_FREQ / "scaling_governor")
    if governor:
        notes.append(f"governor {governor}")
    ok = not governor or governor == "performance" or any("MAXN" in n for n in notes)
    hint = "" if ok else " (for steady timing: sudo nvpmodel -m 0 && sudo jetson_clocks)"
    return ok, "; ".join(notes) + hint


def check_groups() -> tuple[bool, str]:
    """This user's membership of the serial and video groups (root needs none)."""
    if os.geteuid() == 0:
        return True, "root (the service's User= needs: " + ", ".join(GROUPS) + ")"
    mine = {grp.getgrgid(g).gr_name for g in os.getgroups()}
    missing = [g for g in GROUPS if g not in mine]
    if missing:
        return False, f"not in {', '.join(missing)}: sudo usermod -aG {','.join(missing)} $USER"
    return True, f"in {', '.join(GROUPS)}"


def check_udev_rules() -> tuple[bool, str]:
    found = {
        what: next((n for n in names if (UDEV_RULES / n).is_file()), "")
        for what, names in RULES.items()
    }
    missing = [what for what, name in found.items() if not name]
    text = ", ".join(f"{what}: {name or 'missing'}" for what, name in found.items())
    if missing:
        return False, f"{text}; sudo cp tools/udev/*.rules {UDEV_RULES}/ and reload udev"
    return True, text


def check_rt_limits() -> tuple[bool, str]:
    """RLIMIT_RTPRIO and RLIMIT_MEMLOCK: what the control process may ask for."""
    rtprio = resource.getrlimit(resource.RLIMIT_RTPRIO)[0]
    memlock = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0]
    unlimited = memlock == resource.RLIM_INFINITY
    text = f"rtprio {rtprio}, memlock {'unlimited' if unlimited else f'{memlock >> 10} KiB'}"
    if os.geteuid() == 0:
        return True, text + " (root: CAP_SYS_NICE, CAP_IPC_LOCK)"
    ok = rtprio >= CONTROL_PRIORITY and unlimited
    return ok, text + ("" if ok else "; set LimitRTPRIO=90 LimitMEMLOCK=infinity (tools/systemd)")


def ftdi_latency_ms(port: str) -> int | None:
    """The FTDI adapter's latency timer behind `port` (a /dev path or udev symlink), if any."""
    timer = USB_SERIAL / Path(os.path.realpath(port)).name / "latency_timer"
    text = _read(timer)
    return int(text) if text.isdigit() else None


def _clock(folder: Path, current: str, maximum: str, units_per_mhz: float) -> str:
    cur, top = _read(folder / current), _read(folder / maximum)
    if not cur.isdigit():
        return "unknown"
    text = f"{int(cur) / units_per_mhz:.0f} MHz"
    return text + (f" of {int(top) / units_per_mhz:.0f}" if top.isdigit() else "")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
