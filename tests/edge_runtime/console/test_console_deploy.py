"""Deploy from the Bundles page: `edgerun deploy`'s function with `edgerun deploy`'s steps.

The bundle waits in `<data>/bundles` by name. The robot trusts one key and is not in
development mode, so an unsigned bundle must be refused by deploy's own signature check, in
one sentence, with no slot switched; and nothing is deployed while the robot runs. (A full
deploy with its selftest on the simulated robot is tests/export/test_exp_field_deploy.py.)
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
from console_server import error_of, request, serving, wait_running

from edge_runtime.console.settings import console_settings
from edge_runtime.field.live import LiveStatus
from edge_runtime.field.slots import BundleSlots


@pytest.fixture
def robot(tmp_path: Path, tiny_bundle: Path) -> Path:
    """The simulated robot's config, trusting a key, and an unsigned bundle in <data>/bundles."""
    from edge_runtime.cli.main import build_parser
    from export.keys import generate_keys

    build_parser()  # loads the CLI plugins: export names deploy's device steps to the console
    _, public, _ = generate_keys(tmp_path / "factory")
    text = resources.files("edge_runtime.sim").joinpath("robot.toml").read_text()
    for old, new in (
        ('name = "sim-arm"', f'name = "sim-arm"\nstate_dir = "{tmp_path / "state"}"'),
        ('bundle = ""', f'bundle = ""\ntrusted_keys = ["{public}"]'),
        ("development_mode = true", "development_mode = false"),
    ):
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "robot.toml").write_text(text)
    shutil.copytree(tiny_bundle, tmp_path / "data" / "bundles" / "unsigned")
    return tmp_path / "robot.toml"


def test_console_deploy_refuses_an_unsigned_bundle_as_the_cli_does(
    robot: Path, tmp_path: Path
) -> None:
    settings = console_settings("127.0.0.1:0", str(robot), str(tmp_path / "data"))
    with serving(settings) as url:
        page_status, page = request(url + "/bundles")
        status, body = request(url + "/bundles/deploy", {"bundle": "unsigned"})
        outside, _ = request(url + "/bundles/deploy", {"bundle": "../robot.toml"})
    assert page_status == 200
    assert 'id="deploy"' in page
    assert status == 400, body
    assert "sign" in error_of(body).lower(), error_of(body)
    assert outside == 404
    assert BundleSlots(tmp_path / "state").active() is None


def test_console_refuses_a_deploy_while_the_robot_runs(robot: Path, tmp_path: Path) -> None:
    settings = console_settings("127.0.0.1:0", str(robot), str(tmp_path / "data"))
    with LiveStatus(settings.state_dir, "sim-arm", "b") as live, serving(settings) as url:
        live.on_start(["shoulder"], 0.01)
        wait_running(url)
        status, body = request(url + "/bundles/deploy", {"bundle": "unsigned"})
    assert status == 409, body
    assert "refused while it runs" in body
