"""Does a directory of wheels hold everything a requirement needs, on the target machine?

pip answers that only for the interpreter it runs on: with `--python-version 3.10` it picks
cp310 wheels, but still evaluates environment markers with its own Python, so a 3.11 builder
skips `tomli; python_version < '3.11'` that the Jetson's 3.10 needs, and no offline dry run on
the builder notices. This check reads each wheel's own METADATA and walks Requires-Dist with
the target's marker environment and tag set, so it fails exactly when the target's pip would:
a requirement with no compatible wheel of a matching version in the directory.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from edge_runtime.wheelhouse import WheelhouseError
from edge_runtime.wheelhouse.platforms import TargetPlatform


@dataclass(frozen=True)
class MissingRequirement:
    """A requirement no wheel in the directory satisfies, and who asked for it."""

    requirement: Requirement  # its marker already decided for the target
    needed_by: str

    def __str__(self) -> str:
        return f"{self.requirement} (needed by {self.needed_by})"


@dataclass(frozen=True)
class WheelFile:
    """One wheel in the directory: what it is and what it asks for."""

    path: Path
    name: NormalizedName
    version: Version
    requires: tuple[Requirement, ...]


def read_wheel(path: Path) -> WheelFile:
    """Name, version and Requires-Dist of a wheel, from its file name and METADATA."""
    try:
        name, version, _build, _tags = parse_wheel_filename(path.name)
        with zipfile.ZipFile(path) as archive:
            metadata_names = [
                member
                for member in archive.namelist()
                if member.count("/") == 1 and member.endswith(".dist-info/METADATA")
            ]
            metadata = HeaderParser().parsestr(archive.read(metadata_names[0]).decode("utf-8"))
        requires = tuple(Requirement(line) for line in metadata.get_all("Requires-Dist") or [])
    except (ValueError, IndexError, zipfile.BadZipFile, InvalidRequirement, OSError) as exc:
        raise WheelhouseError(
            f"{path} is not a readable wheel ({exc}); delete it and build the wheelhouse again."
        ) from exc
    return WheelFile(path=path, name=name, version=version, requires=requires)


def incompatible_wheels(wheel_dir: Path, platform: TargetPlatform) -> list[str]:
    """The wheels in the directory that this platform's installer would refuse."""
    supported = platform.supported_tags()
    return sorted(
        path.name
        for path in wheel_dir.glob("*.whl")
        if not (parse_wheel_filename(path.name)[3] & supported)
    )


@dataclass(frozen=True)
class Closure:
    """What the target would install from the directory, and what it would not find."""

    installed: dict[str, str]  # canonical name -> version of each wheel the walk followed
    missing: list[MissingRequirement]  # empty: the directory is complete for the roots


def missing_requirements(
    wheel_dir: Path, platform: TargetPlatform, roots: list[Requirement]
) -> list[MissingRequirement]:
    """Each requirement reachable from the roots that no wheel in the directory satisfies.

    Each prints as `numpy>=1.24 (needed by edge-runtime 0.1.0)`; empty means complete.
    """
    return walk_closure(wheel_dir, platform, roots).missing


def walk_closure(wheel_dir: Path, platform: TargetPlatform, roots: list[Requirement]) -> Closure:
    """Follow Requires-Dist from the roots through the directory, as the target would.

    Only wheels whose tags the platform accepts count. Among several satisfying versions the
    newest is followed, as pip's resolver prefers it.
    """
    supported = platform.supported_tags()
    wheels: dict[NormalizedName, list[WheelFile]] = {}
    for path in sorted(wheel_dir.glob("*.whl")):
        if parse_wheel_filename(path.name)[3] & supported:
            wheel = read_wheel(path)
            wheels.setdefault(wheel.name, []).append(wheel)
    environment = platform.marker_environment()
    missing: dict[str, MissingRequirement] = {}
    installed: dict[str, str] = {}
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    queue: list[tuple[Requirement, str]] = [(root, "the release") for root in roots]
    while queue:
        requirement, needed_by = queue.pop()
        name = canonicalize_name(requirement.name)
        extras = frozenset(canonicalize_name(extra) for extra in requirement.extras)
        candidates = [
            wheel
            for wheel in wheels.get(name, [])
            if requirement.specifier.contains(wheel.version, prereleases=True)
        ]
        if not candidates:
            entry = MissingRequirement(requirement, needed_by)
            missing.setdefault(str(entry), entry)
            continue
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        chosen = max(candidates, key=lambda wheel: wheel.version)
        installed[chosen.name] = str(chosen.version)
        for dependency in chosen.requires:
            if _applies(dependency, extras, environment):
                queue.append((_without_marker(dependency), f"{chosen.name} {chosen.version}"))
    return Closure(
        installed=dict(sorted(installed.items())),
        missing=[missing[key] for key in sorted(missing)],
    )


def _applies(dependency: Requirement, extras: frozenset[str], environment: dict[str, str]) -> bool:
    """Whether a Requires-Dist line holds on the target for a package asked with these extras."""
    if dependency.marker is None:
        return True
    return any(
        dependency.marker.evaluate({**environment, "extra": extra}) for extra in {"", *extras}
    )


def _without_marker(dependency: Requirement) -> Requirement:
    """The requirement itself, its marker already decided."""
    plain = Requirement(str(dependency))
    plain.marker = None
    return plain


__all__ = [
    "MissingRequirement",
    "WheelFile",
    "incompatible_wheels",
    "missing_requirements",
    "read_wheel",
]
