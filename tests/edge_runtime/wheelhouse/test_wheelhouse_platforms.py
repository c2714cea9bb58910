"""What each target machine accepts, judged for it and not for the machine running the tests."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag

from edge_runtime.wheelhouse import WheelhouseError
from edge_runtime.wheelhouse.build import available_extras
from edge_runtime.wheelhouse.offline import unpack
from edge_runtime.wheelhouse.platforms import JETSON, WORKSTATION, platform_named


def test_jetson_accepts_every_manylinux_level_up_to_its_glibc_and_nothing_else() -> None:
    platforms = JETSON.manylinux_platforms()
    assert platforms[0] == "manylinux_2_35_aarch64"
    assert {"manylinux_2_17_aarch64", "manylinux2014_aarch64"} <= set(platforms)
    assert "manylinux_2_36_aarch64" not in platforms
    tags = JETSON.supported_tags()
    assert Tag("cp310", "cp310", "manylinux_2_28_aarch64") in tags
    assert Tag("cp39", "abi3", "manylinux_2_34_aarch64") in tags
    assert Tag("py3", "none", "any") in tags
    assert Tag("cp311", "cp311", "manylinux_2_28_aarch64") not in tags
    assert Tag("cp310", "cp310", "manylinux_2_28_x86_64") not in tags


def test_markers_are_decided_for_the_target_python_not_the_running_one() -> None:
    tomli = Requirement("tomli>=2; python_version < '3.11'")
    assert tomli.marker is not None
    assert tomli.marker.evaluate({**JETSON.marker_environment(), "extra": ""})
    assert not tomli.marker.evaluate({**WORKSTATION.marker_environment(), "extra": ""})
    cuda_only = Requirement("nvidia-nccl; platform_machine == 'x86_64'")
    assert cuda_only.marker is not None
    assert not cuda_only.marker.evaluate({**JETSON.marker_environment(), "extra": ""})


def test_extras_without_a_pypi_wheel_are_left_out_with_one_sentence_each(tmp_path: Path) -> None:
    chosen, sentences = available_extras(JETSON, ("camera", "jetson"), None)
    assert chosen == ()
    assert any("pycuda" in sentence and "--device-wheels" in sentence for sentence in sentences)
    assert any("pyrealsense2" in sentence for sentence in sentences)
    assert available_extras(WORKSTATION, ("all",), None) == (("all",), [])


def test_a_device_wheel_for_the_jetson_brings_its_extra_back(tmp_path: Path) -> None:
    # Only the file name is read here: name and tags decide whether the gap is filled.
    (tmp_path / "pycuda-2025.1.2-cp310-cp310-linux_aarch64.whl").write_bytes(b"")
    (tmp_path / "pyrealsense2-2.56.5-cp310-cp310-linux_x86_64.whl").write_bytes(b"")  # wrong arch
    chosen, sentences = available_extras(JETSON, ("camera", "jetson"), tmp_path)
    assert chosen == ("jetson",)
    assert len(sentences) == 1
    assert "pyrealsense2" in sentences[0]


def test_an_unknown_platform_in_a_manifest_is_one_sentence() -> None:
    with pytest.raises(WheelhouseError, match="does not know"):
        platform_named("jetson-riscv64-cp313")


def test_an_archive_member_leaving_the_destination_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        payload = b"not a wheel"
        member = tarfile.TarInfo("../escaped.whl")
        member.size = len(payload)
        tar.addfile(member, io.BytesIO(payload))
    destination = tmp_path / "unpacked"
    destination.mkdir()
    with pytest.raises(WheelhouseError, match="not a plain file inside"):
        unpack(archive, destination)
    assert not (tmp_path / "escaped.whl").exists()
