"""Train the reference world model and behaviour model on scripted-expert demonstrations.

Objective, per batch of observations o_t (joints q_t, expert chunk a_t, next observation o_t+1):

* JEPA: the predictor maps (enc(o_t), a_t) to the *target* encoder's latent of o_t+1; the
  target encoder is an exponential moving average of the encoder and gets no gradients.
* Anti-collapse (VICReg): a hinge keeps every latent dimension's batch std >= 1 and a penalty
  decorrelates dimensions, so the latent cannot shrink to a constant that predicts itself.
* Behaviour cloning: the policy maps (enc(o_t), q_t) to a_t. Its gradient also reaches the
  encoder: on this budget (minutes of CPU) the JEPA terms alone do not localise a 2 cm target
  precisely enough to act on, and the behaviour loss tells the encoder what matters.

Fixed seeds and step counts: the same command gives the same checkpoint on the same machine
(torch CPU kernels are deterministic for these ops). Budget: <= 10 minutes on 2 idle cores.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

CHECKPOINT = Path(__file__).with_name("checkpoints") / "reference.pt"


@dataclass(frozen=True)
class TrainConfig:
    episodes: int = 320
    seed: int = 0
    steps: int = 3500
    batch: int = 64
    lr: float = 2e-3
    ema: float = 0.99
    bc_weight: float = 100.0
    var_weight: float = 1.0
    cov_weight: float = 0.04
    threads: int = 2


def vicreg_terms(z: object) -> tuple[object, object]:
    """(variance hinge, covariance penalty) of a batch of latents (B, D)."""
    import torch

    assert isinstance(z, torch.Tensor)
    z = z - z.mean(dim=0)
    std = torch.sqrt(z.var(dim=0) + 1e-4)
    variance = torch.relu(1.0 - std).mean()
    cov = (z.T @ z) / (z.shape[0] - 1)
    off_diagonal = cov - torch.diag(torch.diag(cov))
    return variance, off_diagonal.pow(2).sum() / z.shape[1]


def train_reference(
    config: TrainConfig | None = None,
    checkpoint: Path = CHECKPOINT,
    echo: Callable[[str], None] = print,
) -> dict[str, float]:
    """Collect demonstrations, train, save `checkpoint`; returns the final loss terms."""
    import torch
    import torch.nn.functional as F

    from export.reference.data import collect
    from export.reference.models import Encoder, Policy, Predictor

    config = config or TrainConfig()
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    started = time.monotonic()
    echo(f"collecting {config.episodes} expert episodes (seed {config.seed}) ...")

    def progress(done: int, total: int) -> None:
        if done % 40 == 0 or done == total:
            echo(f"  {done}/{total} episodes, {time.monotonic() - started:.0f} s")

    demos = collect(config.episodes, config.seed, progress)
    collected = time.monotonic()
    echo(f"{len(demos)} observations; expert success {100 * demos.expert_success:.0f}%")

    # Pool once up front (the encoder's first op is a fixed 2x average pool).
    rgbd = torch.cat(
        [
            F.avg_pool2d(torch.from_numpy(demos.rgbd[i : i + 512]).float(), 2).half()
            for i in range(0, len(demos), 512)
        ]
    )
    joints = torch.from_numpy(demos.joints)
    actions = torch.from_numpy(demos.actions)
    next_index = torch.from_numpy(demos.next_index)
    has_next = torch.nonzero(next_index >= 0).squeeze(1)

    encoder, predictor, policy = Encoder(), Predictor(), Policy()
    target = copy.deepcopy(encoder).requires_grad_(False).eval()
    params = [*encoder.parameters(), *predictor.parameters(), *policy.parameters()]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.steps, pct_start=0.1
    )
    generator = torch.Generator().manual_seed(config.seed)
    terms: dict[str, float] = {}
    for step in range(1, config.steps + 1):
        pick = has_next[torch.randint(len(has_next), (config.batch,), generator=generator)]
        x = rgbd[pick].float()
        z = encoder.from_pooled(x)
        with torch.no_grad():
            z_next = target.from_pooled(rgbd[next_index[pick]].float())
        jepa = F.mse_loss(predictor(z, actions[pick]), z_next)
        variance, covariance = vicreg_terms(z)
        bc = F.mse_loss(policy(z, joints[pick]), actions[pick])
        loss = (
            jepa
            + config.var_weight * variance
            + config.cov_weight * covariance
            + config.bc_weight * bc
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            for t_param, o_param in zip(target.parameters(), encoder.parameters()):
                t_param.mul_(config.ema).add_(o_param, alpha=1.0 - config.ema)
            for t_buf, o_buf in zip(target.buffers(), encoder.buffers()):
                t_buf.copy_(o_buf)  # BatchNorm statistics follow the online encoder
        if step % 100 == 0 or step == config.steps:
            terms = {
                "jepa": float(jepa.detach()),
                "variance": float(variance.detach()),  # type: ignore[attr-defined]
                "covariance": float(covariance.detach()),  # type: ignore[attr-defined]
                "bc_rmse_rad": float(bc.detach()) ** 0.5,
            }
            echo(
                f"  step {step}/{config.steps}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in terms.items())
                + f" ({time.monotonic() - collected:.0f} s)"
            )
    encoder.eval()
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "encoder": encoder.state_dict(),
            "predictor": predictor.state_dict(),
            "policy": policy.state_dict(),
            "config": asdict(config),
            "final": terms,
            "expert_success": demos.expert_success,
            "observations": len(demos),
            "seconds": {
                "collect": collected - started,
                "train": time.monotonic() - collected,
            },
        },
        checkpoint,
    )
    echo(
        f"saved {checkpoint} ({checkpoint.stat().st_size / 1e6:.1f} MB) after "
        f"{time.monotonic() - started:.0f} s"
    )
    return terms


def load_checkpoint(checkpoint: Path = CHECKPOINT) -> dict[str, object]:
    import torch

    from export.errors import ExportError

    if not checkpoint.is_file():
        raise ExportError(
            f"reference checkpoint {checkpoint} is missing; train it with "
            "`edgerun export reference --train` (make reference-models)"
        )
    return dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
