"""Build the release wheelhouse: one archive, per-platform wheel directories, checksums, manifest.

Runs on a workstation with network. For each target platform: the edge-runtime wheel built
from this source tree, then `pip download --only-binary=:all:` with the target's tags, then
whatever the target's markers add that pip (judging with the builder's Python) left out, until
the closure is complete. Nothing is archived unless every platform also resolves offline
(offline.check_platform), so a written archive is one that installs. Wheels PyPI cannot give
(platforms.WHEEL_GAPS) come from `--device-wheels DIR`; without them the extra is left out and
the build says so in one sentence and records it in the manifest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from edge_runtime.file_hash import sha256_file
from edge_runtime.toml_compat import tomllib
from edge_runtime.wheelhouse import WheelhouseError
from edge_runtime.wheelhouse.closure import missing_requirements
from edge_runtime.wheelhouse.offline import (
    MANIFEST_NAME,
    check_platform,
    verify_checksums,
    write_checksums,
)
from edge_runtime.wheelhouse.platforms import PLATFORMS, WHEEL_GAPS, TargetPlatform

MAX_MARKER_ROUNDS = 5  # each round adds one level of marker-only dependencies; 2 suffice today
NOT_FROM_PYPI = (
    "TensorRT and its Python bindings: JetPack's apt packages (python3-libnvinfer); "
    "tools/setup.sh gives the venv --system-site-packages when tensorrt imports.",
    "CUDA, cuDNN and the GPU driver: JetPack.",
    "torch on the Jetson: not needed (export runs on the workstation).",
    "onnxruntime on the Jetson is PyPI's CPU build, the fallback backend; a GPU build from "
    "NVIDIA can be passed with --device-wheels.",
)
SOURCE_COPY_IGNORED = (".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__")
SOURCE_COPY_IGNORED += (".pytest_cache", ".ruff_cache", ".hypothesis", "tests", "fuzz")


@dataclass(frozen=True)
class BuiltWheelhouse:
    """Where the archive is and what it holds."""

    archive: Path
    archive_sha256: str
    archive_bytes: int
    left_out: tuple[str, ...]  # one sentence per extra a platform goes without
    resolved: dict[str, dict[str, str]]  # platform name -> {package: version}


def build_wheelhouse(
    source_dir: Path,
    out_dir: Path,
    *,
    device_wheels: Path | None = None,
    extras: dict[str, tuple[str, ...]] | None = None,
    report: Callable[[str], None] = print,
) -> BuiltWheelhouse:
    """Build out_dir/edge-runtime-wheelhouse-VERSION.tar; `extras` overrides a platform's."""
    if device_wheels is not None and not device_wheels.is_dir():
        raise WheelhouseError(
            f"--device-wheels {device_wheels} is not a directory; give the folder holding the "
            "wheels built on the Jetson."
        )
    version = project_version(source_dir)
    stem = f"edge-runtime-wheelhouse-{version}"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".wheelhouse-", dir=out_dir) as scratch:
        root = Path(scratch) / stem
        project_wheel = build_project_wheel(source_dir, Path(scratch) / "project", report)
        manifest_platforms: dict[str, dict] = {}
        left_out: list[str] = []
        resolved: dict[str, dict[str, str]] = {}
        for platform in PLATFORMS:
            wanted = (extras or {}).get(platform.name, platform.extras)
            chosen, gaps = available_extras(platform, wanted, device_wheels)
            for sentence in gaps:
                report(f"wheelhouse: {sentence}")
            left_out += gaps
            listed_extras = f"[{','.join(chosen)}]" if chosen else ""
            requirement = f"edge-runtime{listed_extras}=={version}"
            wheel_dir = root / platform.name
            wheel_dir.mkdir(parents=True)
            shutil.copy2(project_wheel, wheel_dir)
            links = [device_wheels] if device_wheels is not None else []  # pip takes what fits
            fetch_closure(wheel_dir, platform, requirement, links, report)
            resolved[platform.name] = check_platform(wheel_dir, platform, requirement)
            manifest_platforms[platform.name] = platform_entry(
                platform, requirement, chosen, gaps, resolved[platform.name], wheel_dir
            )
            count = len(resolved[platform.name])
            report(f"wheelhouse: {platform.name}: {count} packages resolve offline")
        manifest = {
            "project": "edge-runtime",
            "version": version,
            "built_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "platforms": manifest_platforms,
            "not_from_pypi": list(NOT_FROM_PYPI),
        }
        (root / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        write_checksums(root)
        verify_checksums(root)
        archive = write_archive(root, out_dir / f"{stem}.tar")
    digest = sha256_file(archive)
    archive.with_name(archive.name + ".sha256").write_text(f"{digest}  {archive.name}\n")
    return BuiltWheelhouse(
        archive=archive,
        archive_sha256=digest,
        archive_bytes=archive.stat().st_size,
        left_out=tuple(left_out),
        resolved=resolved,
    )


def project_version(source_dir: Path) -> str:
    """The version pyproject.toml declares: the archive's name and the pinned requirement."""
    try:
        with (source_dir / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise WheelhouseError(
            f"{source_dir / 'pyproject.toml'} has no readable [project] version ({exc}); run "
            "the wheelhouse build from the edge-runtime source tree."
        ) from exc


def build_project_wheel(source_dir: Path, out_dir: Path, report: Callable[[str], None]) -> Path:
    """edge-runtime's own wheel, built from a clean copy (no stale build/ files leak in)."""
    report("wheelhouse: building the edge-runtime wheel from the source tree")
    with tempfile.TemporaryDirectory(prefix="wheelhouse-source-") as scratch:
        copy = Path(scratch) / "edge-runtime"
        shutil.copytree(source_dir, copy, ignore=shutil.ignore_patterns(*SOURCE_COPY_IGNORED))
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out_dir)]
        if _setuptools_installed():  # no isolated build environment to download
            command.append("--no-build-isolation")
        result = subprocess.run([*command, str(copy)], capture_output=True, text=True, check=False)
    wheels = sorted(out_dir.glob("edge_runtime-*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise WheelhouseError(
            f"building the edge-runtime wheel from {source_dir} failed "
            f"({result.stderr.strip()[-300:]}); run `pip wheel --no-deps .` there to see why."
        )
    return wheels[0]


def available_extras(
    platform: TargetPlatform, wanted: tuple[str, ...], device_wheels: Path | None
) -> tuple[tuple[str, ...], list[str]]:
    """The wanted extras this build can serve, and one sentence per extra it cannot."""
    supported = platform.supported_tags()
    handed_in = set()
    for path in device_wheels.glob("*.whl") if device_wheels is not None else ():
        name, _version, _build, tags = parse_wheel_filename(path.name)
        if tags & supported:
            handed_in.add(name)
    gaps = [
        gap
        for gap in WHEEL_GAPS
        if gap.platform == platform.name
        and gap.extra in wanted
        and canonicalize_name(gap.package) not in handed_in
    ]
    dropped = {gap.extra for gap in gaps}
    return tuple(extra for extra in wanted if extra not in dropped), [
        gap.sentence() for gap in gaps
    ]


def fetch_closure(
    wheel_dir: Path,
    platform: TargetPlatform,
    requirement: str,
    find_links: list[Path],
    report: Callable[[str], None],
) -> None:
    """Download the requirement's wheels, then what the target's markers add, until complete."""
    project_wheel = next(wheel_dir.glob("edge_runtime-*.whl"))
    extras = Requirement(requirement).extras
    root_requirement = (
        f"{project_wheel}[{','.join(sorted(extras))}]" if extras else str(project_wheel)
    )
    download([root_requirement], wheel_dir, platform, find_links, report)
    for _round in range(MAX_MARKER_ROUNDS):
        missing = missing_requirements(wheel_dir, platform, [Requirement(requirement)])
        if not missing:
            return
        report(
            f"wheelhouse: {platform.name}: its markers also need " + ", ".join(map(str, missing))
        )
        download(
            [str(entry.requirement) for entry in missing], wheel_dir, platform, find_links, report
        )


def download(
    requirements: list[str],
    wheel_dir: Path,
    platform: TargetPlatform,
    find_links: list[Path],
    report: Callable[[str], None],
) -> None:
    """`pip download` for the platform, reporting each file as it comes (a long step)."""
    command = [sys.executable, "-m", "pip", "download", "--progress-bar", "off"]
    command += ["--dest", str(wheel_dir), *platform.pip_target_flags()]
    for link in find_links:
        command += ["--find-links", str(link)]
    with tempfile.TemporaryDirectory(prefix="wheelhouse-pins-") as scratch:
        if platform.constraints:
            pins = Path(scratch) / "constraints.txt"
            pins.write_text("\n".join(platform.constraints) + "\n")
            command += ["--constraint", str(pins)]
        _run_download([*command, *requirements], platform, report)


def _run_download(
    command: list[str], platform: TargetPlatform, report: Callable[[str], None]
) -> None:
    """Run pip download, passing its per-package lines on as progress."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    errors: list[str] = []
    saved = 0
    for line in process.stdout:
        text = line.strip()
        if text.startswith(("Collecting ", "Downloading ", "Processing ")):
            report(f"wheelhouse: {platform.name}: {text}")
        elif text.startswith("Saved "):
            saved += 1
        elif text.startswith("ERROR:"):
            errors.append(text.removeprefix("ERROR: "))
    if process.wait() != 0:
        why = errors[-1] if errors else f"pip exited with {process.returncode}"
        raise WheelhouseError(
            f"pip could not download wheels for {platform.name} ({why}); check the network "
            "and that every package has a wheel for that platform."
        )
    report(f"wheelhouse: {platform.name}: {saved} files saved")


def platform_entry(
    platform: TargetPlatform,
    requirement: str,
    chosen: tuple[str, ...],
    gaps: list[str],
    resolved: dict[str, str],
    wheel_dir: Path,
) -> dict:
    """The manifest's record of one platform: what it is for, what it installs, the files."""
    return {
        "role": platform.role,
        "python": platform.python_version,
        "machine": platform.machine,
        "glibc": ".".join(map(str, platform.glibc)),
        "requirement": requirement,
        "extras": list(chosen),
        "constraints": list(platform.constraints),
        "left_out": gaps,
        "packages": dict(sorted(resolved.items())),
        "wheels": {path.name: path.stat().st_size for path in sorted(wheel_dir.glob("*.whl"))},
    }


def write_archive(root: Path, archive: Path) -> Path:
    """An uncompressed tar (wheels are zip files already), renamed into place when complete."""
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        tar.add(root, arcname=root.name)
    partial.replace(archive)
    return archive


def _setuptools_installed() -> bool:
    """Whether this interpreter has the setuptools pyproject.toml asks to build with."""
    try:
        return Version(metadata.version("setuptools")) >= Version("68")
    except metadata.PackageNotFoundError:
        return False


__all__ = ["BuiltWheelhouse", "build_wheelhouse", "project_version"]
