"""The reference networks: small enough to train on 2 CPU cores in minutes, exportable as-is.

* `Encoder`: RGB-D (1, 4, 96, 128) -> latent (1, 64). A 2x average pool, three convs, then
  a spatial softmax: each of 16 feature maps becomes the expected (x, y) of its activation.
  Keypoints localise a small target far better than pooled features for the same compute
  (Levine et al., "End-to-end training of deep visuomotor policies"), and the op chain
  (Reshape, Softmax, MatMul) is plain ONNX that TensorRT builds.
* `Policy`: latent + joint positions (1, 4) -> action chunk (1, 16, 4), absolute joint targets
  written as current joints + a learned offset per step, so "hold still" is the zero output.
* `Predictor`: one world-model step of `STEP_ACTIONS` executed targets (0.1 s): (latent,
  joints, actions (1, 5, 4)) -> (next latent, next joints). Actions enter relative to the
  current joints and the next joints are predicted as an offset from the last commanded
  target: a position servo ends a step near its last target, so the network only learns the
  tracking lag and droop (millimetres), which keeps the surprise monitor's joint residual tight.
* `CostHead`: (latent, joints) -> predicted distance of the tool point to the goal in metres
  (privileged in the simulator at training time): how the planner scores a predicted state.
* `Rollout`: the planner's one batched graph. Rolls the predictor `ROLLOUT_STEPS` steps over
  each of `samples` candidate chunks and sums the cost head's scores with `STEP_WEIGHTS`
  (the manifest's `world_model.score.step_weights` is written from the same constant).
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
STEP_ACTIONS = 5  # K: actions executed between two frames (0.1 s at dt 0.02 s)
ROLLOUT_STEPS = 3  # S: world-model steps the planner looks ahead (0.3 s, 15 of 16 actions)
ROLLOUT_SAMPLES = 64  # N: candidate chunks per rollout call (static for TensorRT)
# Later steps weigh more: the planner cares where the arm ends up, and the first step is
# mostly decided by the arm's momentum whatever the candidate.
STEP_WEIGHTS = (0.2, 0.3, 0.5)


def mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, outputs),
    )


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
        self.net = mlp(LATENT + JOINTS + STEP_ACTIONS * JOINTS, LATENT + JOINTS)

    def forward(
        self, latent: torch.Tensor, joint_positions: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        relative = (actions - joint_positions.unsqueeze(1)).reshape(actions.shape[0], -1)
        out = self.net(torch.cat([latent, joint_positions, relative], dim=1))
        next_latent = latent + out[:, :LATENT]
        next_joints = actions[:, -1] + out[:, LATENT:]
        return next_latent, next_joints


class CostHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp(LATENT + JOINTS, 1)

    def forward(self, latent: torch.Tensor, joint_positions: torch.Tensor) -> torch.Tensor:
        """(B,) predicted tool-to-goal distance in metres."""
        return self.net(torch.cat([latent, joint_positions], dim=1)).squeeze(1)


class Policy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp(LATENT + JOINTS, CHUNK * JOINTS)

    def forward(self, latent: torch.Tensor, joint_positions: torch.Tensor) -> torch.Tensor:
        offsets = self.net(torch.cat([latent, joint_positions], dim=1))
        return joint_positions.unsqueeze(1) + offsets.reshape(-1, CHUNK, JOINTS)


class Rollout(nn.Module):
    """(latent (1, D), joints (1, J), candidates (N, H, J)) -> cost (N,); lower is better."""

    def __init__(
        self,
        predictor: Predictor,
        cost_head: CostHead,
        samples: int = ROLLOUT_SAMPLES,
        step_weights: tuple[float, ...] = STEP_WEIGHTS,
    ) -> None:
        super().__init__()
        if len(step_weights) * STEP_ACTIONS > CHUNK:
            raise ValueError(
                f"{len(step_weights)} steps of {STEP_ACTIONS} actions exceed the {CHUNK}-action "
                "chunk; use fewer step weights"
            )
        self.predictor = predictor
        self.cost_head = cost_head
        self.samples = samples
        self.step_weights = tuple(float(w) for w in step_weights)

    def forward(
        self, latent: torch.Tensor, joint_positions: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        z = latent.expand(self.samples, -1)
        q = joint_positions.expand(self.samples, -1)
        cost = torch.zeros(self.samples, dtype=latent.dtype)
        for step, weight in enumerate(self.step_weights):
            chunk = candidates[:, step * STEP_ACTIONS : (step + 1) * STEP_ACTIONS]
            z, q = self.predictor(z, q, chunk)
            cost = cost + weight * self.cost_head(z, q)
        return cost
