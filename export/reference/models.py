"""The reference networks: small enough to train on 2 CPU cores in minutes, exportable as-is.

* `Encoder`: RGB-D (1, 4, 96, 128) -> latent (1, 64). A 2x average pool, three convs, then
  a spatial softmax: each of 16 feature maps becomes the expected (x, y) of its activation.
  Keypoints localise a small target far better than pooled features for the same compute
  (Levine et al., "End-to-end training of deep visuomotor policies"), and the op chain
  (Reshape, Softmax, MatMul) is plain ONNX that TensorRT builds.
* `Predictor`: latent + action chunk (1, 16, 4) -> next latent: the world model's latent
  dynamics, trained JEPA-style against an EMA target encoder.
* `Policy`: latent + joint positions (1, 4) -> action chunk (1, 16, 4), absolute joint targets
  written as current joints + a learned offset per step, so "hold still" is the zero output.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_HW = (96, 128)
LATENT = 64
KEYPOINTS = 16
JOINTS = 4
CHUNK = 16
HIDDEN = 256


class SpatialSoftmax(nn.Module):
    """(B, C, H, W) feature maps -> (B, 2C) expected x, y in [-1, 1] per channel."""

    def __init__(self, height: int, width: int, temperature: float = 1.0) -> None:
        super().__init__()
        ys, xs = torch.meshgrid(
            torch.linspace(-1.0, 1.0, height), torch.linspace(-1.0, 1.0, width), indexing="ij"
        )
        self.register_buffer("grid", torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1))
        self.inv_temperature = 1.0 / temperature

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        b, c, h, w = features.shape
        attention = torch.softmax(features.reshape(b, c, h * w) * self.inv_temperature, dim=-1)
        return torch.matmul(attention, self.grid).reshape(b, c * 2)


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        h, w = IMAGE_HW
        # Average-pool first: the camera's 96x128 stays the bundle's input (what the runtime
        # feeds), while the convs see 48x64 - a third of the compute for the same target.
        # Training feeds pre-pooled images to `from_pooled` (the pool is fixed and linear),
        # so each step skips the full-resolution pass. BatchNorm folds into the convs at export.
        self.pool = nn.AvgPool2d(2)
        self.convs = nn.Sequential(
            nn.Conv2d(4, 16, 5, stride=2, padding=2),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=1, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, KEYPOINTS, 1),
        )
        self.keypoints = SpatialSoftmax(h // 4, w // 4)
        self.head = nn.Sequential(
            nn.Linear(2 * KEYPOINTS, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, LATENT)
        )

    def from_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.head(self.keypoints(self.convs(pooled)))

    def forward(self, rgbd: torch.Tensor) -> torch.Tensor:
        return self.from_pooled(self.pool(rgbd))


class Predictor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT + CHUNK * JOINTS, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, LATENT),
        )

    def forward(self, latent: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        x = torch.cat([latent, actions.reshape(actions.shape[0], CHUNK * JOINTS)], dim=1)
        return latent + self.net(x)


class Policy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT + JOINTS, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, CHUNK * JOINTS),
        )

    def forward(self, latent: torch.Tensor, joint_positions: torch.Tensor) -> torch.Tensor:
        offsets = self.net(torch.cat([latent, joint_positions], dim=1))
        return joint_positions.unsqueeze(1) + offsets.reshape(-1, CHUNK, JOINTS)
