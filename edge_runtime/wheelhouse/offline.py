"""Checking a wheelhouse the way the air-gapped machine will use it: no index, no network.

Three checks, each able to fail on its own: every file matches SHA256SUMS and no file is
unlisted (a swapped or added wheel is refused, not installed); every platform's requirement
closure is in its directory (closure.py, judged for the target); and pip itself resolves the
release from the directory with `--no-index`. pip runs with its configuration files and PIP_*
variables cut off, so a machine-wide find-links or index cannot quietly fill a gap here that
the field machine would hit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from edge_runtime.file_hash import sha256_file
from edge_runtime.wheelhouse import WheelhouseError
from edge_runtime.wheelhouse.closure import incompatible_wheels, walk_closure
from edge_runtime.wheelhouse.platforms import TargetPlatform, platform_named

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"


def write_checksums(root: Path) -> Path:
    """SHA256SUMS over every file below root, in `sha256sum -c` format (setup.sh uses that)."""
    lines = [
        f"{sha256_file(path)}  {path.relative_to(root).as_posix()}"
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != SUMS_NAME
    ]
    sums_path = root / SUMS_NAME
    sums_path.write_text("\n".join(lines) + "\n")
    return sums_path


def verify_checksums(root: Path) -> int:
    """Raise unless every file below root is listed in SHA256SUMS with its digest; the count."""
    sums_path = root / SUMS_NAME
    if not sums_path.is_file():
        raise WheelhouseError(f"{root} has no {SUMS_NAME}; rebuild it with `make wheelhouse`.")
    listed: dict[str, str] = {}
    for line in sums_path.read_text().splitlines():
        digest, _, relative = line.partition("  ")
        listed[relative] = digest
    present = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.name != SUMS_NAME
    }
    unlisted = sorted(present - listed.keys())
    if unlisted:
        raise WheelhouseError(
            f"{root / unlisted[0]} is not listed in {SUMS_NAME}: it was added after the build; "
            "remove it or rebuild the wheelhouse."
        )
    for relative, digest in sorted(listed.items()):
        path = root / relative
        if not path.is_file():
            raise WheelhouseError(
                f"{path} is listed in {SUMS_NAME} but missing; copy the archive again."
            )
        if sha256_file(path) != digest:
            raise WheelhouseError(
                f"{path} does not match its checksum in {SUMS_NAME}: the archive was altered or "
                "damaged in transit; do not install it, copy it again from the release."
            )
    return len(listed)


def read_manifest(root: Path) -> dict:
    """The manifest build.py wrote beside the wheels."""
    try:
        return json.loads((root / MANIFEST_NAME).read_text())
    except (OSError, ValueError) as exc:
        raise WheelhouseError(
            f"{root / MANIFEST_NAME} is missing or not JSON ({exc}); rebuild the wheelhouse."
        ) from exc


def isolated_pip_environment() -> dict[str, str]:
    """The environment minus pip's configuration: only the flags given on the command line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    return environment


def resolve_offline(wheel_dir: Path, platform: TargetPlatform, requirement: str) -> dict[str, str]:
    """pip's own resolution of the requirement from the directory alone: {name: version}."""
    with tempfile.TemporaryDirectory(prefix="wheelhouse-resolve-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-index"]
        command += ["--find-links", str(wheel_dir), "--ignore-installed"]
        command += ["--target", str(Path(scratch) / "target"), "--report", str(report_path)]
        command += [*platform.pip_target_flags(), requirement]
        result = subprocess.run(
            command, capture_output=True, text=True, env=isolated_pip_environment(), check=False
        )
        if result.returncode != 0:
            last_error = _last_error_line(result.stderr)
            raise WheelhouseError(
                f"{wheel_dir} does not resolve {requirement} for {platform.name} without an "
                f"index ({last_error}); rebuild the wheelhouse."
            )
        report = json.loads(report_path.read_text())
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in report["install"]}


def check_platform(wheel_dir: Path, platform: TargetPlatform, requirement: str) -> dict[str, str]:
    """Raise unless the directory installs the requirement on the platform.

    Returns {name: version} as the target installs it (the closure walk, markers judged for
    the target); pip's offline resolution must succeed as well, but it judges markers with
    the builder's Python, so its list can lack a target-only package such as tomli.
    """
    refused = incompatible_wheels(wheel_dir, platform)
    if refused:
        raise WheelhouseError(
            f"{wheel_dir} holds wheels {platform.name} cannot install ({', '.join(refused)}); "
            "remove them (device wheels must be built on that machine) and rebuild."
        )
    closure = walk_closure(wheel_dir, platform, [Requirement(requirement)])
    if closure.missing:
        needed = "; ".join(map(str, closure.missing))
        raise WheelhouseError(
            f"{wheel_dir} lacks wheels {platform.name} needs: {needed}; "
            "rebuild the wheelhouse with network."
        )
    resolve_offline(wheel_dir, platform, requirement)
    return closure.installed


@dataclass(frozen=True)
class VerifiedWheelhouse:
    """What a verified wheelhouse holds: per platform, the packages pip resolved offline."""

    files_checked: int
    resolved: dict[str, dict[str, str]]  # platform name -> {package: version}


def verify_directory(root: Path) -> VerifiedWheelhouse:
    """All three checks on an unpacked wheelhouse, for every platform its manifest lists."""
    files_checked = verify_checksums(root)
    manifest = read_manifest(root)
    resolved = {}
    for name, entry in manifest["platforms"].items():
        platform = platform_named(name)
        resolved[name] = check_platform(root / name, platform, entry["requirement"])
    return VerifiedWheelhouse(files_checked=files_checked, resolved=resolved)


def verify_archive(archive: Path) -> VerifiedWheelhouse:
    """Unpack a wheelhouse archive into a scratch directory and verify it there."""
    with tempfile.TemporaryDirectory(prefix="wheelhouse-verify-") as scratch:
        return verify_directory(unpack(archive, Path(scratch)))


def unpack(archive: Path, destination: Path) -> Path:
    """Extract the archive (refusing paths that leave the destination); its one top directory."""
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                target = (destination / member.name).resolve()
                if not (member.isfile() or member.isdir()) or destination.resolve() not in [
                    target,
                    *target.parents,
                ]:
                    raise WheelhouseError(
                        f"{archive} holds {member.name!r}, which is not a plain file inside the "
                        "archive; do not install it, copy it again from the release."
                    )
            if hasattr(tarfile, "data_filter"):  # 3.10.12+, 3.11.4+: the library checks too
                tar.extractall(destination, filter="data")
            else:
                tar.extractall(destination)  # every member checked above
    except (OSError, tarfile.TarError) as exc:
        raise WheelhouseError(
            f"{archive} is not a readable wheelhouse archive ({exc}); copy it again."
        ) from exc
    tops = [path for path in destination.iterdir() if path.is_dir()]
    if len(tops) != 1:
        raise WheelhouseError(
            f"{archive} should hold one directory; rebuild it with `make wheelhouse`."
        )
    return tops[0]


def _last_error_line(stderr: str) -> str:
    """pip's one line that says why, without its hints and warnings."""
    errors = [line.strip() for line in stderr.splitlines() if line.startswith("ERROR:")]
    return errors[-1].removeprefix("ERROR: ") if errors else stderr.strip()[-300:]


__all__ = [
    "MANIFEST_NAME",
    "SUMS_NAME",
    "VerifiedWheelhouse",
    "check_platform",
    "isolated_pip_environment",
    "read_manifest",
    "resolve_offline",
    "unpack",
    "verify_archive",
    "verify_checksums",
    "verify_directory",
    "write_checksums",
]
