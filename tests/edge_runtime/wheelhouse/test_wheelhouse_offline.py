"""A real wheelhouse resolves edge-runtime offline for both platforms; a tampered one is refused.

The module builds one archive the way `make wheelhouse` does (this source tree's wheel, pip
download from the package index for aarch64/CPython 3.10 and x86-64/CPython 3.11), reduced to
the core dependency set (no extras) to stay within the test budget: about 100 MB, 30 s. The
full set is the same code with more requirements, and `make wheelhouse` refuses to write an
archive that fails these same checks. That the checks cannot pass falsely is shown by taking a
wheel away: the closure check and pip (index cut off) both fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge_runtime.wheelhouse import WheelhouseError
from edge_runtime.wheelhouse.build import BuiltWheelhouse, build_wheelhouse
from edge_runtime.wheelhouse.offline import (
    check_platform,
    read_manifest,
    resolve_offline,
    unpack,
    verify_archive,
    verify_checksums,
)
from edge_runtime.wheelhouse.platforms import JETSON, WORKSTATION

# The module's first test also builds the archive (about 40 s on an idle 2-core machine): the
# suite's default 300 s per test is too tight only on an overloaded one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[3]
CORE_ONLY = {JETSON.name: (), WORKSTATION.name: ()}


@pytest.fixture(scope="module")
def core_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWheelhouse:
    out = tmp_path_factory.mktemp("wheelhouse")
    return build_wheelhouse(REPO, out, extras=CORE_ONLY, report=lambda _line: None)


@pytest.fixture
def unpacked(core_wheelhouse: BuiltWheelhouse, tmp_path: Path) -> Path:
    return unpack(core_wheelhouse.archive, tmp_path)


def test_the_archive_resolves_the_core_set_for_both_platforms_without_an_index(
    core_wheelhouse: BuiltWheelhouse,
) -> None:
    verified = verify_archive(core_wheelhouse.archive)
    jetson = verified.resolved[JETSON.name]
    workstation = verified.resolved[WORKSTATION.name]
    core = {"edge-runtime", "numpy", "onnxruntime", "cryptography", "matplotlib"}
    assert core <= set(jetson)
    assert core <= set(workstation)
    # The Jetson's Python 3.10 needs tomli; the workstation's 3.11 does not.
    assert "tomli" in jetson
    assert "tomli" not in workstation
    assert verified.files_checked > len(jetson) + len(workstation)


def test_each_platform_directory_holds_that_platforms_wheels(unpacked: Path) -> None:
    manifest = read_manifest(unpacked)
    assert set(manifest["platforms"]) == {JETSON.name, WORKSTATION.name}
    jetson_wheels = [path.name for path in (unpacked / JETSON.name).glob("*.whl")]
    assert any(
        name.startswith("numpy-") and "aarch64" in name and "cp310" in name
        for name in jetson_wheels
    )
    # The Jetson's Python 3.10 needs tomli, which pip on a 3.11 builder does not fetch.
    assert any(name.startswith("tomli-") for name in jetson_wheels)
    workstation_wheels = [path.name for path in (unpacked / WORKSTATION.name).glob("*.whl")]
    assert any(name.startswith("numpy-") and "x86_64" in name for name in workstation_wheels)
    assert manifest["platforms"][JETSON.name]["packages"]["edge-runtime"] == manifest["version"]


def test_a_missing_dependency_fails_both_the_closure_check_and_pip(unpacked: Path) -> None:
    jetson_dir, requirement = _jetson_without(unpacked, "numpy")
    with pytest.raises(WheelhouseError, match="numpy"):
        check_platform(jetson_dir, JETSON, requirement)
    with pytest.raises(WheelhouseError, match="without an index"):
        resolve_offline(jetson_dir, JETSON, requirement)  # no index, no machine find-links


def test_a_dependency_only_the_target_python_needs_is_caught(unpacked: Path) -> None:
    jetson_dir, requirement = _jetson_without(unpacked, "tomli")
    with pytest.raises(WheelhouseError, match="tomli"):
        check_platform(jetson_dir, JETSON, requirement)
    if sys.version_info >= (3, 11):  # pip judges markers by its own Python: it misses this
        assert "tomli" not in resolve_offline(jetson_dir, JETSON, requirement)


def test_a_tampered_wheel_is_refused_by_the_library_and_by_setup(
    unpacked: Path, tmp_path: Path
) -> None:
    wheel = next((unpacked / WORKSTATION.name).glob("msgpack-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    with pytest.raises(WheelhouseError, match=f"{wheel.name} does not match its checksum"):
        verify_checksums(unpacked)
    venv = tmp_path / "venv"
    result = _setup(unpacked, venv)
    assert result.returncode == 2
    assert wheel.name in result.stderr
    assert "do not install it" in result.stderr
    assert not venv.exists()  # refused before anything was created


def test_a_wheel_added_after_the_build_is_refused(unpacked: Path, tmp_path: Path) -> None:
    extra = unpacked / JETSON.name / "evil-1.0-py3-none-any.whl"
    shutil.copy2(next((unpacked / JETSON.name).glob("msgpack-*.whl")), extra)
    with pytest.raises(WheelhouseError, match="not listed in SHA256SUMS"):
        verify_checksums(unpacked)
    result = _setup(unpacked, tmp_path / "venv")
    assert result.returncode == 2
    assert "evil-1.0-py3-none-any.whl" in result.stderr


def test_setup_refuses_a_wheelhouse_path_that_does_not_exist(tmp_path: Path) -> None:
    result = _setup(tmp_path / "nowhere.tar", tmp_path / "venv", flag=True)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def _setup(wheelhouse: Path, venv: Path, *, flag: bool = False) -> subprocess.CompletedProcess:
    environment = {**os.environ, "VENV": str(venv), "PYTHON": sys.executable}
    command = ["bash", str(REPO / "tools" / "setup.sh")]
    if flag:
        command += ["--wheelhouse", str(wheelhouse)]
    else:
        environment["WHEELHOUSE"] = str(wheelhouse)
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, check=False, timeout=120
    )


def _jetson_without(unpacked: Path, package: str) -> tuple[Path, str]:
    """The Jetson's directory with one package's wheels taken away, and what it must install."""
    jetson_dir = unpacked / JETSON.name
    for wheel in jetson_dir.glob(f"{package}-*.whl"):
        wheel.unlink()
    return jetson_dir, read_manifest(unpacked)["platforms"][JETSON.name]["requirement"]
