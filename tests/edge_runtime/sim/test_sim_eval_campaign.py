"""`edgerun eval`: the same per-episode results in-process, in a process pool and on Ray; the
JSON; a bundle without FP32 originals refused in one sentence."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from edge_runtime.bundle.float_variant import FP32_REFERENCE, float_variant
from edge_runtime.bundle.manifest import Manifest
from edge_runtime.bundle.reader import MANIFEST, open_bundle, sha256_file
from edge_runtime.cli.main import main
from edge_runtime.errors import BundleError
from edge_runtime.sim.analytic_bundle import write_analytic_bundle
from edge_runtime.sim.eval_campaign import Campaign, run_campaign

# Short episodes keep the suite fast; the analytic policy still reaches most targets in 1.2 s.
QUICK = {"episodes": 2, "compare_fp32": True, "episode_s": 1.2, "chunk_episodes": 1}


@pytest.fixture(scope="module")
def analytic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_analytic_bundle(tmp_path_factory.mktemp("analytic"), samples=60)


@pytest.fixture(scope="module")
def with_originals(analytic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analytic bundle as `edgerun export` lays it out: FP32 originals in reference/."""
    root = tmp_path_factory.mktemp("with-originals") / "bundle"
    shutil.copytree(analytic, root)
    manifest = open_bundle(root, development_mode=True).manifest
    files = dict(manifest.files)
    for role, spec in manifest.roles.items():
        target = root / FP32_REFERENCE.format(role=role)
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(root / spec.file, target)
        files[FP32_REFERENCE.format(role=role)] = sha256_file(target)
    (root / MANIFEST).write_text(replace(manifest, files=files).to_json(), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def serial(with_originals: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The reference run: in this process, through the CLI, with its JSON and plot."""
    out = tmp_path_factory.mktemp("eval")
    json_path, plot_path = str(out / "e.json"), str(out / "e.png")
    argv = ["eval", str(with_originals), "--allow-unsigned", "--compare", "fp32", "--workers",
            "1", "--episodes", "1", "--json", json_path, "--plot", plot_path]  # fmt: skip
    campaign = Campaign(str(with_originals), workers=1, development_mode=True, **QUICK)
    # The CLI runs 3 s episodes; the comparisons below run the quicker ones directly.
    assert main(argv) == 0
    assert (out / "e.png").stat().st_size > 0
    return {"cli": json.loads((out / "e.json").read_text()), "quick": run_campaign(campaign)}


def test_the_json_has_the_issue_shape(serial: dict) -> None:
    data = serial["cli"]
    assert data["episodes"] == 1
    assert set(data["variants"]) == {"bundle", "fp32"}
    for rate in data["variants"].values():
        assert 0.0 <= rate["ci95"][0] <= rate["success"] <= rate["ci95"][1] <= 1.0
    assert {"difference", "ci95", "mcnemar_p", "only_bundle", "only_fp32"} <= set(data["paired"])
    assert len(data["per_episode"]) == 1
    assert data["episodes_per_s"] > 0
    # Same graphs in both variants: every pair agrees.
    assert all(e["bundle"] == e["fp32"] for e in data["per_episode"])
    assert data["paired"]["difference"] == 0.0


def test_two_local_workers_give_the_serial_per_episode_results(
    serial: dict, with_originals: Path
) -> None:
    campaign = Campaign(str(with_originals), workers=2, development_mode=True, **QUICK)
    assert run_campaign(campaign)["per_episode"] == serial["quick"]["per_episode"]


@pytest.mark.slow
def test_ray_gives_the_serial_per_episode_results(serial: dict, with_originals: Path) -> None:
    pytest.importorskip("ray")
    campaign = Campaign(str(with_originals), ray_address="local", development_mode=True, **QUICK)
    result = run_campaign(campaign)
    assert result["per_episode"] == serial["quick"]["per_episode"]
    assert result["ray"] == "local"
    assert result["workers"] is None


def test_a_bundle_without_fp32_originals_is_refused_in_one_sentence(
    analytic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval", str(analytic), "--allow-unsigned", "--compare", "fp32", "--workers", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "has no FP32 variant" in err[0]
    with pytest.raises(BundleError, match=r"reference/encoder\.fp32\.onnx"):
        float_variant(open_bundle(analytic, development_mode=True))


def test_the_fp32_variant_runs_the_shipped_originals(with_originals: Path) -> None:
    bundle = float_variant(open_bundle(with_originals, development_mode=True))
    assert {s.file for s in bundle.manifest.roles.values()} == {
        "reference/encoder.fp32.onnx", "reference/policy.fp32.onnx",
    }  # fmt: skip
    assert {s.precision for s in bundle.manifest.roles.values()} == {"fp32"}
    Manifest.from_json(bundle.manifest.to_json())  # still a valid manifest
