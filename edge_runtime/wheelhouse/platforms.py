"""The two machines a release wheelhouse serves, and the wheels PyPI cannot give them.

A wheelhouse is built on a workstation with network for machines without it, so everything
pip normally learns from the running interpreter (wheel tags, environment markers) has to be
stated for the *target* instead. Each TargetPlatform says that once: the pip flags for
`download` and the offline check, the tag set a wheel must match, and the marker environment
that decides conditional dependencies (`tomli; python_version < '3.11'` is needed on the
Jetson's 3.10 but not on the 3.11 that usually builds the wheelhouse).

pip does not widen `--platform manylinux_2_35_*` to older glibc levels, so every manylinux
level up to the target's glibc is listed explicitly.

What goes where, and why:
- The Jetson (JetPack 6: Ubuntu 22.04, glibc 2.35, CPython 3.10) runs the robot: the core
  dependencies plus `camera` and `jetson`. TensorRT's Python bindings come from JetPack's apt
  packages (python3-libnvinfer, seen through `--system-site-packages`), never from PyPI; torch
  is not needed on the robot. PyPI's aarch64 onnxruntime is the CPU build, the fallback
  backend. Two packages have no aarch64 wheel on PyPI (WHEEL_GAPS): they must be built on a
  Jetson once and handed in as device wheels, or the wheelhouse leaves their extra out and
  says so.
- The x86-64 workstation (CPython 3.11) exports, calibrates and simulates: `all` (camera,
  sim, export, calibration, data). torch is pinned as tools/setup.sh pins it; which build
  that is (CPU or CUDA) is up to the indexes pip is configured with.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.tags import Tag, compatible_tags, cpython_tags

from edge_runtime.wheelhouse import WheelhouseError


@dataclass(frozen=True)
class TargetPlatform:
    """One machine the wheelhouse installs on: its directory name in the archive says which."""

    name: str  # the directory in the archive; tools/setup.sh picks it by machine and Python
    role: str  # one line for the manifest and docs: what this machine does
    machine: str  # platform_machine: "aarch64", "x86_64"
    python_full_version: str  # "3.10.12"
    glibc: tuple[int, int]  # the newest manylinux level the machine's glibc accepts
    extras: tuple[str, ...]  # edge-runtime extras this machine needs
    constraints: tuple[str, ...] = ()  # pins pip must respect for this machine (pip -c)

    @property
    def python_version(self) -> str:
        """ "3.10": what pip's --python-version and the python_version marker use."""
        major, minor = self.python_full_version.split(".")[:2]
        return f"{major}.{minor}"

    @property
    def cpython_tag(self) -> str:
        """ "cp310": the interpreter and ABI tag of this machine's CPython."""
        return "cp" + self.python_version.replace(".", "")

    def manylinux_platforms(self) -> list[str]:
        """Every manylinux platform tag this machine's glibc accepts, newest first."""
        oldest_minor = 17 if self.machine == "aarch64" else 5
        tags = [
            f"manylinux_2_{minor}_{self.machine}"
            for minor in range(self.glibc[1], oldest_minor - 1, -1)
        ]
        legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
        tags += [
            f"{alias}_{self.machine}" for alias, minor in legacy.items() if minor >= oldest_minor
        ]
        return tags

    def pip_target_flags(self) -> list[str]:
        """The flags that make pip choose wheels for this machine instead of the running one."""
        flags = ["--only-binary=:all:", "--implementation", "cp"]
        flags += ["--python-version", self.python_version]
        for platform_tag in self.manylinux_platforms():
            flags += ["--platform", platform_tag]
        return flags

    def supported_tags(self) -> frozenset[Tag]:
        """Every wheel tag an installer on this machine accepts."""
        version = tuple(int(part) for part in self.python_version.split("."))
        platforms = [*self.manylinux_platforms(), f"linux_{self.machine}"]
        tags = list(cpython_tags(version, abis=[self.cpython_tag], platforms=platforms))
        tags += compatible_tags(version, interpreter=self.cpython_tag, platforms=platforms)
        return frozenset(tags)

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values as this machine's interpreter would report them."""
        return {
            "implementation_name": "cpython",
            "implementation_version": self.python_full_version,
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_system": "Linux",
            "python_full_version": self.python_full_version,
            "python_version": self.python_version,
            "sys_platform": "linux",
        }


@dataclass(frozen=True)
class WheelGap:
    """A package an extra needs on a platform for which PyPI has no wheel."""

    platform: str
    extra: str
    package: str
    reason: str  # why PyPI cannot serve it
    remedy: str  # what a person does about it

    def sentence(self) -> str:
        """One sentence for the build log and the manifest."""
        return (
            f"{self.platform}: extra '{self.extra}' left out: {self.package} {self.reason}; "
            f"{self.remedy}, then rebuild with --device-wheels DIR."
        )


JETSON = TargetPlatform(
    name="jetson-aarch64-cp310",
    role="the robot (JetPack 6: Ubuntu 22.04, CPython 3.10): the runtime, camera and CUDA",
    machine="aarch64",
    python_full_version="3.10.12",
    glibc=(2, 35),
    extras=("camera", "jetson"),
)
WORKSTATION = TargetPlatform(
    name="workstation-x86_64-cp311",
    role="the export and field workstation (x86-64, CPython 3.11): export, calibration, sim",
    machine="x86_64",
    python_full_version="3.11.7",
    glibc=(2, 35),
    extras=("all",),
    # The CPU torch tools/setup.sh installs (keep the two in step): an unpinned torch resolves
    # to the newest CUDA build, 3.3 GB with its nvidia-* wheels, for a workstation without GPU.
    constraints=("torch==2.13.0",),
)
PLATFORMS: tuple[TargetPlatform, ...] = (JETSON, WORKSTATION)

WHEEL_GAPS: tuple[WheelGap, ...] = (
    WheelGap(
        platform=JETSON.name,
        extra="jetson",
        package="pycuda",
        reason="is published as source only (it compiles against the device's CUDA)",
        remedy="on a JetPack 6 Jetson run `pip wheel 'pycuda>=2024.1' -w DIR`",
    ),
    WheelGap(
        platform=JETSON.name,
        extra="camera",
        package="pyrealsense2",
        reason="has no aarch64 wheel on PyPI",
        remedy="on a Jetson build librealsense with -DBUILD_PYTHON_BINDINGS=ON and put its "
        "pyrealsense2 wheel in DIR",
    ),
)


def platform_named(name: str) -> TargetPlatform:
    """The platform with this archive directory name (names come from a manifest)."""
    for platform in PLATFORMS:
        if platform.name == name:
            return platform
    known = ", ".join(platform.name for platform in PLATFORMS)
    raise WheelhouseError(
        f"the wheelhouse names platform {name!r}, which this edge-runtime does not know "
        f"(known: {known}); verify it with the edge-runtime release that built it."
    )


__all__ = [
    "JETSON",
    "PLATFORMS",
    "WHEEL_GAPS",
    "WORKSTATION",
    "TargetPlatform",
    "WheelGap",
    "platform_named",
]
