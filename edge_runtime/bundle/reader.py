"""Open a bundle (directory or .tar), check every hash and the signature before anything runs.

A bundle that fails any check is refused before a motor is enabled. Unsigned bundles load
only in development mode, and say so in the log.
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.bundle.manifest import Manifest
from edge_runtime.bundle.signing import load_public_key, verify_manifest
from edge_runtime.errors import BundleError
from edge_runtime.file_hash import sha256_file

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SIGNATURE = "signature"


@dataclass(frozen=True)
class Bundle:
    root: Path
    manifest: Manifest
    signed_by: str  # key id, or "" for an unsigned development bundle

    def path(self, relative: str) -> Path:
        return self.root / relative


def open_bundle(
    location: str | Path,
    trusted_keys: list[str | Path] | tuple[str | Path, ...] = (),
    development_mode: bool = False,
) -> Bundle:
    location = Path(location).expanduser()
    if not location.exists():
        raise BundleError(
            f"bundle {location} does not exist; check [model] bundle or the path given"
        )
    root = _extract(location) if location.is_file() else location
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{location} has no {MANIFEST}; it is not a bundle (re-export it)")
    manifest_bytes = manifest_path.read_bytes()
    manifest = Manifest.from_json(
        manifest_bytes.decode("utf-8", "replace"), f"{location}/{MANIFEST}"
    )

    for relative, expected in sorted(manifest.files.items()):
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise BundleError(f"{location}: manifest lists unsafe path '{relative}'")
        path = root / relative
        if not path.is_file():
            raise BundleError(f"{location}: {relative} is listed in the manifest but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise BundleError(
                f"{location}: {relative} does not match its sha256 in the manifest; the bundle "
                "was modified after export — re-export or restore it"
            )
    for role, spec in manifest.roles.items():
        for needed in (spec.file, spec.golden, *(v.file for v in spec.variants)):
            if needed and needed not in manifest.files:
                raise BundleError(
                    f"{location}: roles.{role} file {needed} is not hashed in the manifest"
                )

    signature_path = root / SIGNATURE
    if signature_path.is_file():
        keys = [load_public_key(k) for k in trusted_keys]
        try:
            signed_by = verify_manifest(
                manifest_bytes, signature_path.read_text("utf-8"), keys, str(location)
            )
        except BundleError:
            if not development_mode:
                raise
            log.warning("%s: signature not trusted; loading anyway (development mode)", location)
            signed_by = ""
    elif development_mode:
        log.warning("%s is unsigned; loading it because development_mode = true", location)
        signed_by = ""
    else:
        raise BundleError(
            f"{location} is not signed; sign it with `edgerun export --sign-key KEY`, or for a "
            "bench test set [model] development_mode = true (--allow-unsigned)"
        )
    return Bundle(root=root, manifest=manifest, signed_by=signed_by)


# Damaged, truncated or crafted: tarfile's parser raises more than TarError (a pax length too
# large for the regex engine is an OverflowError, in `is_tarfile` as in `open`; `make fuzz`
# found each of them).
TAR_ERRORS = (tarfile.TarError, EOFError, OSError, ValueError, OverflowError, LookupError)


def _unpack_error(archive: Path, exc: BaseException) -> BundleError:
    return BundleError(
        f"{archive} cannot be unpacked ({exc}); copy the bundle again or re-export it"
    )


def _extract(archive: Path) -> Path:
    return extract_archive(archive, Path(tempfile.mkdtemp(prefix="edgerun-bundle-")))


def extract_archive(archive: Path, target: Path) -> Path:
    """Unpack a bundle .tar into `target`, refusing unsafe entries; returns the bundle's root.

    The root is `target`, or the archive's one top-level directory inside it.
    """
    try:
        is_tar = tarfile.is_tarfile(archive)
    except TAR_ERRORS as exc:  # even the first header can be damaged past what is_tarfile checks
        raise _unpack_error(archive, exc) from exc
    if not is_tar:
        raise BundleError(f"{archive} is neither a bundle directory nor a .tar of one")
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if (
                    member.name.startswith("/")
                    or ".." in parts
                    or not (member.isfile() or member.isdir())
                ):
                    raise BundleError(f"{archive}: unsafe entry '{member.name}' in the archive")
            tar.extractall(target)
    except TAR_ERRORS as exc:
        raise _unpack_error(archive, exc) from exc
    entries = [p for p in target.iterdir()]
    if len(entries) == 1 and entries[0].is_dir() and not (target / MANIFEST).exists():
        return entries[0]
    return target
