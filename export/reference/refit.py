"""Training's second phase: fit the predictor and the cost head to the encoder the bundle ships.

In the first phase the predictor learns to hit the EMA *target* encoder's latents of
photometrically changed images, while the bundle ships the *online* encoder, in eval mode, on
camera images as they come. The two encoders differ by a lag that is small next to the spread
of latents across scenes but large next to how much a latent moves in 0.1 s (measured on the
first checkpoint: predicted vs observed latent RMSE 0.22 against 0.003 for "nothing
changes"), and the surprise monitor compares exactly those two. So the encoder and the policy
are frozen, every training image is encoded once as the runtime will encode it, and the
world-model heads keep training on those latents with the same 3-step rollout loss. Only MLPs
train here, on cached latents: seconds, not minutes.

The latent term is divided by the mean squared one-step latent change of the data, so 1.0
means "no better than assuming nothing changes", whatever the latent's scale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def masked_mse(prediction: Any, target: Any) -> Any:
    """Mean squared error over the finite targets only; 0 (with a gradient) when none is.

    Rows from episode logs carry NaN as their task cost (the distance to the goal is
    simulator knowledge, `export.reference.from_logs`), so they train everything but the
    cost head.
    """
    import torch.nn.functional as F

    known = target.isfinite()
    if bool(known.all()):  # simulator data: exactly the loss the checkpoint was trained with
        return F.mse_loss(prediction, target)
    if not bool(known.any()):
        return (prediction * 0.0).sum()
    return (prediction[known] - target[known]).pow(2).mean()


@dataclass(frozen=True)
class RefitConfig:
    steps: int = 2000
    batch: int = 256
    lr: float = 1e-3
    seed: int = 0
    joint_weight: float = 1.0  # on mse / (0.01 rad)^2
    cost_weight: float = 1.0  # on mse / (0.01 m)^2


def encode_all(encoder: Any, pooled_rgbd: Any, batch: int = 512) -> Any:
    """Latents of every (pre-pooled) image, eval mode, no augmentation: as the runtime sees."""
    import torch

    encoder.eval()
    with torch.no_grad():
        return torch.cat(
            [
                encoder.from_pooled(pooled_rgbd[i : i + batch].float())
                for i in range(0, len(pooled_rgbd), batch)
            ]
        )


def refit_world_model(
    latents: Any,
    joints: Any,
    executed: Any,
    distance: Any,
    chains: Any,
    predictor: Any,
    cost_head: Any,
    config: RefitConfig | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, float]:
    """Train `predictor` and `cost_head` in place on fixed latents; returns the final terms.

    `chains` (M, S + 1) index observation sequences t .. t+S of one episode.
    """
    import torch
    import torch.nn.functional as F

    config = config or RefitConfig()
    started = time.monotonic()
    steps_ahead = chains.shape[1] - 1
    change = (latents[chains[:, 1]] - latents[chains[:, 0]]).pow(2).mean().clamp(min=1e-12)
    params = [*predictor.parameters(), *cost_head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    generator = torch.Generator().manual_seed(config.seed)
    predictor.train()
    cost_head.train()
    terms: dict[str, float] = {}
    for step in range(1, config.steps + 1):
        chain = chains[torch.randint(len(chains), (config.batch,), generator=generator)]
        z, q = latents[chain[:, 0]], joints[chain[:, 0]]
        cost_sq = [masked_mse(cost_head(z, q), distance[chain[:, 0]])]
        latent_sq, joint_sq = [], []
        for k in range(steps_ahead):
            z, q = predictor(z, q, executed[chain[:, k]])
            latent_sq.append(F.mse_loss(z, latents[chain[:, k + 1]]))
            joint_sq.append(F.mse_loss(q, joints[chain[:, k + 1]]))
            cost_sq.append(masked_mse(cost_head(z, q), distance[chain[:, k + 1]]))
        latent = torch.stack(latent_sq).mean() / change
        joint = torch.stack(joint_sq).mean() / 1e-4
        cost = torch.stack(cost_sq).mean() / 1e-4
        loss = latent + config.joint_weight * joint + config.cost_weight * cost
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 500 == 0 or step == config.steps:
            terms = {
                "refit_latent_1step_vs_unchanged": float(latent_sq[0].detach() / change),
                "refit_latent_3step_vs_unchanged": float(latent_sq[-1].detach() / change),
                "refit_joint_rmse_rad": float(torch.stack(joint_sq).mean().detach()) ** 0.5,
                "refit_cost_rmse_m": float(torch.stack(cost_sq).mean().detach()) ** 0.5,
            }
            echo(
                f"  refit {step}/{config.steps}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in terms.items())
                + f" ({time.monotonic() - started:.0f} s)"
            )
    predictor.eval()
    cost_head.eval()
    return terms
