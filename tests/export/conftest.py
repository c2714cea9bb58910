"""Tiny real models (a conv encoder and an MLP policy) exported through the real toolchain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle.manifest import ActionSpec, Preprocessing
from edge_runtime.bundle.reader import Bundle, open_bundle
from export.bundle_writer import RoleSource, write_bundle
from export.config import ExportConfig
from export.samples import Samples

IMAGE = 16
JOINTS = 3
CHUNK = 4
LATENT = 8


def _tiny_modules():  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(0)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1)
            self.head = torch.nn.Linear(8 * (IMAGE // 2) ** 2, LATENT)

        def forward(self, rgbd: torch.Tensor) -> torch.Tensor:
            return self.head(torch.relu(self.conv(rgbd)).flatten(1))

    class Policy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Linear(LATENT + JOINTS, 32),
                torch.nn.ReLU(),
                torch.nn.Linear(32, CHUNK * JOINTS),
            )

        def forward(self, latent: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
            out = self.body(torch.cat([latent, joints], dim=1))
            return out.view(1, CHUNK, JOINTS)

    return Encoder(), Policy()


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """FP32 ONNX files for a tiny encoder and policy, exported once per session."""
    import torch

    from export.onnx_export import export_module

    out = tmp_path_factory.mktemp("tiny_onnx")
    encoder, policy = _tiny_modules()
    export_module(
        encoder, (torch.zeros(1, 4, IMAGE, IMAGE),), out / "enc.onnx", ["rgbd"], ["latent"]
    )
    export_module(
        policy,
        (torch.zeros(1, LATENT), torch.zeros(1, JOINTS)),
        out / "pol.onnx",
        ["latent", "joints"],
        ["actions"],
    )
    return {"encoder": out / "enc.onnx", "policy": out / "pol.onnx"}


@pytest.fixture
def tiny_roles(tiny_onnx: dict[str, Path]) -> dict[str, RoleSource]:
    return {
        "encoder": RoleSource(tiny_onnx["encoder"], {"rgbd": "observation.rgbd"}),
        "policy": RoleSource(
            tiny_onnx["policy"],
            {"latent": "encoder.latent", "joints": "observation.joint_positions"},
        ),
    }


@pytest.fixture
def tiny_observations() -> Samples:
    rng = np.random.default_rng(0)
    n = 40
    return Samples(
        {
            "observation.rgbd": rng.random((n, 1, 4, IMAGE, IMAGE), dtype=np.float32),
            "observation.joint_positions": rng.uniform(-1, 1, (n, 1, JOINTS)).astype(np.float32),
        }
    )


TINY_PRE = Preprocessing(image_size=(IMAGE, IMAGE))
TINY_ACTION = ActionSpec(
    joint_names=("j0", "j1", "j2"),
    limits_rad=((-1.5, 1.5), (-1.5, 1.5), (-1.5, 1.5)),
    chunk_length=CHUNK,
    dt_s=0.05,
)


@pytest.fixture
def tiny_spec() -> tuple[Preprocessing, ActionSpec]:
    return TINY_PRE, TINY_ACTION


@pytest.fixture
def tiny_bundle(
    tmp_path: Path, tiny_roles: dict[str, RoleSource], tiny_observations: Samples
) -> Bundle:
    """The tiny models bundled unsigned (encoder INT8, policy FP16) and opened for development."""
    config = ExportConfig(precision={"encoder": "int8", "policy": "fp16"})
    out = write_bundle(
        tmp_path / "tiny-bundle", tiny_roles, tiny_observations, TINY_PRE, TINY_ACTION, 0.02, config
    )
    return open_bundle(out.path, development_mode=True)
