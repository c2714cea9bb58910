"""`deploy`, `rollback` and `selftest` on the simulated robot, with the export package's parity.

The bundles are the simulated arm's analytic policy, signed with a key the robot trusts. One of
them carries golden outputs its models do not reproduce (re-hashed and re-signed, so only the
selftest's golden parity can catch it): its deploy must fail and leave the active slot alone.
The robot's [selftest] thresholds are relaxed for the loop-timing run only: the simulated
servos answer from a process that shares this busy machine, which is not what is tested here.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle.reader import MANIFEST, SIGNATURE
from edge_runtime.bundle.signing import load_private_key, sign_manifest
from edge_runtime.cli.main import main
from edge_runtime.config import load_config
from edge_runtime.errors import SelftestFailed
from edge_runtime.field.deploy import deploy
from edge_runtime.field.slots import BundleSlots
from edge_runtime.file_hash import sha256_file
from export.field_steps import DEVICE_STEPS
from export.keys import generate_keys


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A good and a bad-parity analytic bundle, both signed; and the public key."""
    from edge_runtime.sim.analytic_bundle import write_analytic_bundle

    root = tmp_path_factory.mktemp("field-bundles")
    private, public, _ = generate_keys(root / "factory")
    good = write_analytic_bundle(root / "good", samples=60)
    bad = Path(shutil.copytree(good, root / "bad"))
    golden = bad / "golden" / "policy.npz"
    with np.load(golden) as data:
        arrays = {k: data[k] + (1.0 if k.startswith("output/") else 0.0) for k in data.files}
    with golden.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    manifest = json.loads((bad / MANIFEST).read_text())
    manifest["files"]["golden/policy.npz"] = sha256_file(golden)
    (bad / MANIFEST).write_text(json.dumps(manifest, indent=2))
    for bundle in (good, bad):
        text = (bundle / MANIFEST).read_bytes()
        (bundle / SIGNATURE).write_text(sign_manifest(text, load_private_key(private)))
    return {"good": good, "bad": bad, "key": public}


def _robot(tmp_path: Path, key: Path) -> Path:
    text = resources.files("edge_runtime.sim").joinpath("robot.toml").read_text()
    for old, new in (
        ('name = "sim-arm"', 'name = "sim-arm"\nstate_dir = "state"'),
        ('bundle = ""', f'bundle = "state/bundles/active"\ntrusted_keys = ["{key}"]'),
        ("development_mode = true", "development_mode = false"),
        ("max_missed_fraction = 0.2", "max_missed_fraction = 1.0"),
        ("max_failed_read_fraction = 0.2", "max_failed_read_fraction = 1.0"),
    ):
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "robot.toml").write_text(text)
    return tmp_path / "robot.toml"


@pytest.mark.slow
def test_deploy_selftest_rollback_on_the_simulated_robot(
    tmp_path: Path, signed: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    robot = _robot(tmp_path, signed["key"])
    config = load_config(robot)
    slots = BundleSlots(tmp_path / "state")

    first = deploy(config, signed["good"], DEVICE_STEPS, echo=lambda _line: None)
    assert (first.slot, first.previous, first.error()) == ("a", "", None)
    assert first.selftest is not None
    checks = {c.name: c.status for c in first.selftest.checks}
    assert checks["parity policy"] == checks["parity encoder"] == "ok"
    assert checks["bundle"] == checks["camera"] == checks["motors"] == "ok"
    assert slots.info("a")["selftest"]["passed"]

    # Signed, hashes intact, but its golden outputs are wrong on this device: refused.
    report = tmp_path / "refused.json"
    code = main(["deploy", str(signed["bad"]), "--config", str(robot), "--json", str(report)])
    assert code == SelftestFailed.exit_code
    assert "parity policy" in capsys.readouterr().err
    assert not json.loads(report.read_text())["passed"]
    assert (slots.active(), slots.previous()) == ("a", None)
    assert not list(slots.root.glob(".staging-*"))

    second = deploy(config, signed["good"], DEVICE_STEPS, echo=lambda _line: None)
    assert (second.slot, second.previous) == ("b", "a")
    assert main(["rollback", "--config", str(robot)]) == 0
    assert slots.active() == "a"
    assert main(["status", "--config", str(robot)]) == 0
    out = capsys.readouterr().out
    assert "slot a (active  )" in out
    assert "slot b (previous)" in out

    # The service's view: selftest of whatever `active` points to, with its JSON report.
    assert main(["selftest", "--config", str(robot), "--json", str(tmp_path / "st.json")]) == 0
    result = json.loads((tmp_path / "st.json").read_text())
    assert result["passed"]
    assert result["bundle"] == str(slots.path("a"))
    assert {c["name"] for c in result["checks"]} >= {"loop timing", "disk", "calibration", "memory"}
