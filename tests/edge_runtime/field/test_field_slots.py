"""A/B bundle slots: switching, rollback, and refusals that leave the active slot untouched.

Deploys that reach the selftest run on the simulated robot in tests/export (they need the
export package's golden parity); the refusals here happen before it.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from runtime_bundles import write_tiny_bundle

from edge_runtime.config import RobotConfig, load_config
from edge_runtime.errors import BundleError, ConfigError, DeployError
from edge_runtime.field.deploy import DeviceSteps, deploy, rollback
from edge_runtime.field.slots import BundleSlots


def _config(tmp_path: Path, development: bool = True) -> RobotConfig:
    joints = "".join(
        f'\n[[joints]]\nname = "{n}"\nid = {i}\nmin_rad = -1.0\nmax_rad = 1.0\n'
        for i, n in enumerate("abc", start=1)
    )
    text = (
        f'[robot]\nperiod_s = 0.01\nstate_dir = "state"\n{joints}\n[motors]\nport = "/dev/null"\n'
        f'[model]\nbundle = "state/bundles/active"\ndevelopment_mode = {str(development).lower()}\n'
    )
    (tmp_path / "robot.toml").write_text(text)
    return load_config(tmp_path / "robot.toml")


def _install(slots: BundleSlots, source: Path, note: str) -> str:
    return slots.install(slots.stage(source), {"source": note})


def test_install_switches_and_keeps_the_previous_slot(tmp_path: Path) -> None:
    slots = BundleSlots(tmp_path / "state")
    bundle = write_tiny_bundle(tmp_path / "bundle")
    assert slots.active() is None
    assert slots.inactive() == "a"
    assert _install(slots, bundle, "one") == "a"
    assert (slots.active(), slots.previous()) == ("a", None)
    with tarfile.open(tmp_path / "bundle.tar", "w") as tar:  # a .tar with one top directory
        tar.add(bundle, arcname="bundle")
    assert _install(slots, tmp_path / "bundle.tar", "two") == "b"
    assert (slots.active(), slots.previous()) == ("b", "a")
    assert os.readlink(slots.active_link) == "b"  # relative: the state dir may move
    assert (slots.active_link / "manifest.json").is_file()
    assert slots.info("b")["source"] == "two"
    assert _install(slots, bundle, "three") == "a"  # replaces the older one, not the active
    assert slots.info("a")["source"] == "three"
    assert slots.info("b")["source"] == "two"
    assert not list(slots.root.glob(".staging-*"))


def test_rollback_switches_back_and_forth(tmp_path: Path) -> None:
    config = _config(tmp_path)
    slots = BundleSlots(tmp_path / "state")
    with pytest.raises(DeployError, match="no previous bundle"):
        rollback(config)
    bundle = write_tiny_bundle(tmp_path / "bundle")
    _install(slots, bundle, "one")
    _install(slots, bundle, "two")
    outcome = rollback(config)
    assert (outcome.slot, outcome.previous, slots.active()) == ("a", "b", "a")
    assert rollback(config).slot == "b"


def test_rollback_refuses_a_previous_bundle_that_no_longer_verifies(tmp_path: Path) -> None:
    slots = BundleSlots(tmp_path / "state")
    bundle = write_tiny_bundle(tmp_path / "bundle")
    _install(slots, bundle, "one")
    _install(slots, bundle, "two")
    (slots.path("a") / "models" / "policy.onnx").write_bytes(b"tampered")
    with pytest.raises(DeployError, match=r"slot a\) no longer verifies.*sha256"):
        rollback(_config(tmp_path))
    assert slots.active() == "b"


@pytest.mark.parametrize(
    ("joints", "development", "error", "match"),
    [
        (("x", "y", "z"), True, ConfigError, "drives joints"),
        (("a", "b", "c"), False, BundleError, "is not signed"),
    ],
)
def test_a_refused_deploy_leaves_the_slots_untouched(
    tmp_path: Path, joints: tuple[str, ...], development: bool, error: type, match: str
) -> None:
    slots = BundleSlots(tmp_path / "state")
    _install(slots, write_tiny_bundle(tmp_path / "good"), "good")
    before = (slots.active(), _listing(slots.root))
    bad = write_tiny_bundle(tmp_path / "bad", joints)
    with pytest.raises(error, match=match):
        deploy(_config(tmp_path, development), bad, DeviceSteps(), echo=lambda _line: None)
    assert (slots.active(), _listing(slots.root)) == before  # and no staging left behind


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.name != ".lock")


def test_one_deploy_at_a_time(tmp_path: Path) -> None:
    slots = BundleSlots(tmp_path / "state")
    with slots.locked("deploy"), pytest.raises(DeployError, match="another deploy"):
        deploy(_config(tmp_path), tmp_path / "any", DeviceSteps())
