"""`edgerun keys/export onnx/verify/bench models` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.cli.main import main

SPEC = """control_period_s = 0.02
[preprocessing]
image_size = [16, 16]
[action]
joint_names = ["a", "b", "c"]
limits_rad = [[-1.5, 1.5], [-1.5, 1.5], [-1.5, 1.5]]
chunk_length = 4
dt_s = 0.05
[roles.encoder]
onnx = "{enc}"
sources = {{ rgbd = "observation.rgbd" }}
[roles.policy]
onnx = "{pol}"
sources = {{ latent = "encoder.latent", joints = "observation.joint_positions" }}
"""


@pytest.fixture
def project(tmp_path: Path, tiny_onnx: dict[str, Path], tiny_observations) -> Path:
    (tmp_path / "spec.toml").write_text(
        SPEC.format(enc=tiny_onnx["encoder"], pol=tiny_onnx["policy"])
    )
    arrays = {k: v[:, 0] for k, v in tiny_observations.arrays.items()}
    np.savez(tmp_path / "obs.npz", **arrays)
    (tmp_path / "export.toml").write_text('[precision]\nencoder = "int8"\npolicy = "int8"\n')
    return tmp_path


def _export(project: Path, *extra: str) -> int:
    return main(
        [
            "export",
            "onnx",
            "--spec",
            str(project / "spec.toml"),
            "--data",
            str(project / "obs.npz"),
            "--config",
            str(project / "export.toml"),
            "--out",
            str(project / "bundle"),
            *extra,
        ]
    )


def test_exp_cli_keys_export_verify_bench(project: Path, capsys: pytest.CaptureFixture) -> None:
    key = project / "keys" / "dev"
    assert main(["keys", "generate", str(key)]) == 0
    assert _export(project, "--sign-key", f"{key}.key", "--tar") == 0
    out = capsys.readouterr().out
    assert "accuracy gate passed; signed by" in out
    assert (project / "bundle.tar").is_file()
    assert main(["verify", str(project / "bundle"), "--trusted-key", f"{key}.pub"]) == 0
    captured = capsys.readouterr()
    assert "all 2 roles match" in captured.out
    assert "deprecated" not in captured.err
    # The old spelling still works for one release, and names the new one.
    assert main(["verify", str(project / "bundle"), "--key", f"{key}.pub"]) == 0
    captured = capsys.readouterr()
    assert "all 2 roles match" in captured.out
    assert "--key is deprecated; use --trusted-key" in captured.err
    report = project / "bench.json"
    args = ["bench", "models", str(project / "bundle.tar"), "--trusted-key", f"{key}.pub"]
    assert main([*args, "--json", str(report), "--runs", "20"]) == 0
    data = json.loads(report.read_text())
    assert [r["role"] for r in data["roles"]] == ["encoder", "policy"]
    assert all(r["bundled"]["median_ms"] > 0 and r["ratio"] > 0 for r in data["roles"])
    # No variants: the robot runs the manifest's model, timed once.
    assert all(r["runs_precision"] == r["precision"] for r in data["roles"])
    assert all(r["runs"] == r["bundled"] for r in data["roles"])
    assert data["roles"][1]["fidelity_golden"]["actions"]["cosine_min"] > 0.99


def test_exp_cli_refuses_with_one_sentence(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["keys", "generate", str(project / "k")]) == 0
    assert main(["keys", "generate", str(project / "k")]) == 2
    assert "already exists" in capsys.readouterr().err
    # A public key is not a signing key.
    assert _export(project, "--sign-key", str(project / "k.pub")) == 2
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
    assert _export(project) == 0
    capsys.readouterr()
    # Unsigned bundles are refused unless asked for development mode.
    assert main(["verify", str(project / "bundle")]) == 2
    assert "is not signed" in capsys.readouterr().err
    assert main(["verify", str(project / "bundle"), "--allow-unsigned"]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["verify", str(project / "bundle"), "--development"]) == 0
    assert "--development is deprecated; use --allow-unsigned" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["verify"], ["build"], ["bench", "models"]])
def test_exp_cli_help_shows_only_the_new_trust_flags(
    command: list[str], capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--trusted-key PUB" in text
    assert "--allow-unsigned" in text
    assert "--key" not in text.replace("--trusted-key", "")
    assert "--development" not in text


def test_exp_cli_bad_inputs_exit_2(project: Path, capsys: pytest.CaptureFixture) -> None:
    np.savez(project / "obs.npz", **{"observation.rgbd": np.zeros((3, 4, 16, 16))})
    assert _export(project) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "observation.joint_positions" in err
    (project / "spec.toml").write_text(
        (project / "spec.toml").read_text().replace("chunk_length = 4", "chunk_length = 0")
    )
    assert _export(project) == 2
    assert "chunk_length" in capsys.readouterr().err
    typo = SPEC.replace('"observation.rgbd"', '"observation.wrist.rbgd"')
    (project / "spec.toml").write_text(typo.format(enc="e.onnx", pol="p.onnx"))
    assert _export(project) == 2
    err = capsys.readouterr().err
    assert "input 'rgbd' reads 'observation.wrist.rbgd'" in err
    assert err.count("\n") == 1
    corrupt = project / "corrupt.onnx"
    corrupt.write_bytes(b"\x01\x02 definitely not protobuf")
    spec = SPEC.format(enc=corrupt, pol=corrupt)
    (project / "spec.toml").write_text(spec)
    assert _export(project) == 2
    assert "ONNX" in capsys.readouterr().err


def test_exp_cli_gate_failure_exits_nonzero(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "export.toml").write_text(
        '[precision]\nencoder = "int8"\npolicy = "int8"\n[gate]\nmax_abs = 1e-7\n'
    )
    code = _export(project)
    assert code not in (0, 2)
    assert "stray beyond tolerance" in capsys.readouterr().err
    assert (project / "bundle" / "reports" / "accuracy.json").is_file()


def test_exp_cli_accepts_data_keyed_by_input_name(project: Path, tiny_observations) -> None:
    arrays = tiny_observations.arrays
    np.savez(
        project / "obs.npz",
        rgbd=arrays["observation.rgbd"],
        joints=arrays["observation.joint_positions"],
    )
    assert _export(project) == 0
