"""Train the reference world model and behaviour model on scripted-expert demonstrations.

Objective, per batch of observation chains o_t .. o_t+3 (joints q, expert chunk a_t, the K
targets actually executed after each observation, the privileged tool-to-goal distance d):

* JEPA rollout: from enc(o_t) and q_t the predictor steps S = 3 times on the executed
  targets, feeding back its own predictions; each step is matched to the *target* encoder's
  latent of o_t+k (an exponential moving average of the encoder, no gradients) and to the true
  joints q_t+k. Multi-step, because the planner rolls 3 steps and one-step training lets errors
  compound unseen.
* Cost head: predicts d from encoded (t) AND predicted (t+1..t+3) states, so it scores the
  planner's imagined latents as well as it scores real ones.
* Anti-collapse (VICReg): a hinge keeps every latent dimension's batch std >= 1 and a penalty
  decorrelates dimensions, so the latent cannot shrink to a constant that predicts itself.
* Behaviour cloning: the policy maps (enc(o_t), q_t) to the clean expert chunk a_t, also in the
  exploration episodes (DART). Its gradient also reaches the encoder: on this budget the JEPA
  terms alone do not localise a 2 cm target precisely enough to act on.
* Second phase (`export.reference.refit`): encoder and policy frozen, the predictor and cost
  head are fitted to the latents of the encoder the bundle ships (eval mode, no augmentation).
* Lighting: every image the online and the target encoder see gets its own random photometric
  change (brightness, per-channel gain, offset), on top of the per-episode light levels of the
  data. Predicting a differently lit target latent makes the latent ignore lighting, so the
  surprise monitor does not stop the arm when a lamp is switched on. The camera pose is never
  augmented: a bumped camera must surprise the monitor.

Fixed seeds and step counts: the same command gives the same checkpoint on the same machine
(torch CPU kernels are deterministic for these ops). Budget: <= 15 minutes on 2 cores.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from export.reference.refit import RefitConfig, encode_all, masked_mse, refit_world_model

if TYPE_CHECKING:
    from export.reference.data import Demonstrations

CHECKPOINT = Path(__file__).with_name("checkpoints") / "reference.pt"
MODULES = ("encoder", "predictor", "cost_head", "policy")


@dataclass(frozen=True)
class TrainConfig:
    episodes: int = 320  # nominal episodes (DART noise 0.02 rad per action)
    explore_episodes: int = 160  # episodes with correlated exploration offsets
    exploration_rad: float = 0.1
    seed: int = 0
    steps: int = 3500
    batch: int = 64
    rollout_batch: int = 32  # chains of the batch that also train the 3-step rollout
    lr: float = 2e-3
    ema: float = 0.99
    bc_weight: float = 100.0
    var_weight: float = 1.0
    cov_weight: float = 0.04
    joint_weight: float = 0.1  # on mse / (0.01 rad)^2
    cost_weight: float = 0.1  # on mse / (0.01 m)^2
    augment: float = 0.8  # probability that an image gets a photometric change
    threads: int = 2
    refit: RefitConfig = field(default_factory=RefitConfig)  # phase 2, see `refit`


def vicreg_terms(z: Any) -> tuple[Any, Any]:
    """(variance hinge, covariance penalty) of a batch of latents (B, D)."""
    z = z - z.mean(dim=0)
    std = (z.var(dim=0) + 1e-4).sqrt()
    variance = (1.0 - std).clamp(min=0.0).mean()
    cov = (z.T @ z) / (z.shape[0] - 1)
    off_diagonal = cov - cov.diag().diag()
    return variance, off_diagonal.pow(2).sum() / z.shape[1]


def photometric(images: Any, probability: float, generator: Any) -> Any:
    """Random brightness, per-channel gain and offset on normalised RGB-D (depth untouched).

    Works in pixel units (value in [0, 1]) through the training normalisation, and clips like
    a camera sensor does.
    """
    import torch

    from export.reference.data import RGB_MEAN, RGB_STD

    b = images.shape[0]
    mean = torch.tensor(RGB_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(RGB_STD).view(1, 3, 1, 1)
    pixel = images[:, :3] * std + mean
    gain = torch.empty(b, 1, 1, 1).uniform_(0.6, 1.4, generator=generator)
    tint = torch.empty(b, 3, 1, 1).uniform_(0.9, 1.1, generator=generator)
    offset = torch.empty(b, 1, 1, 1).uniform_(-0.08, 0.08, generator=generator)
    changed = (pixel * gain * tint + offset).clamp(0.0, 1.0)
    apply = (torch.rand(b, 1, 1, 1, generator=generator) < probability).float()
    pixel = apply * changed + (1.0 - apply) * pixel
    return torch.cat([(pixel - mean) / std, images[:, 3:]], dim=1)


def collect_training_data(
    config: TrainConfig, echo: Callable[[str], None] = print
) -> Demonstrations:
    """The nominal and the exploration episodes of `config`, as one training set."""
    from export.reference.data import collect, concatenate

    started = time.monotonic()
    total = config.episodes + config.explore_episodes
    echo(f"collecting {total} expert episodes (seed {config.seed}) ...")

    def progress(done: int, count: int) -> None:
        if done % 40 == 0 or done == count:
            echo(f"  {done}/{count} episodes, {time.monotonic() - started:.0f} s")

    parts = [collect(config.episodes, config.seed, progress)]
    if config.explore_episodes:
        parts.append(
            collect(config.explore_episodes, config.seed + 1, progress, config.exploration_rad)
        )
    demos = concatenate(parts)
    echo(f"{len(demos)} observations; expert success {100 * demos.expert_success:.0f}%")
    return demos


def train_reference(
    config: TrainConfig | None = None,
    checkpoint: Path = CHECKPOINT,
    echo: Callable[[str], None] = print,
    demos: Demonstrations | None = None,
    start: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Collect demonstrations (unless given), train, save `checkpoint`; returns the final
    loss terms. `start` (a loaded checkpoint) fine-tunes its weights instead of fresh ones."""
    import torch
    import torch.nn.functional as F

    from export.reference.models import ROLLOUT_STEPS, CostHead, Encoder, Policy, Predictor

    config = config or TrainConfig()
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    started = time.monotonic()
    if demos is None:
        demos = collect_training_data(config, echo)
    collected = time.monotonic()

    # Pool once up front (the encoder's first op is a fixed 2x average pool).
    rgbd = torch.cat(
        [
            F.avg_pool2d(torch.from_numpy(demos.rgbd[i : i + 512]).float(), 2).half()
            for i in range(0, len(demos), 512)
        ]
    )
    joints = torch.from_numpy(demos.joints)
    actions = torch.from_numpy(demos.actions)
    executed = torch.from_numpy(demos.executed)
    distance = torch.from_numpy(demos.distance_m)
    chains = torch.from_numpy(demos.successors(ROLLOUT_STEPS))

    encoder, predictor, cost_head, policy = Encoder(), Predictor(), CostHead(), Policy()
    if start is not None:
        for name, module in zip(MODULES, (encoder, predictor, cost_head, policy)):
            module.load_state_dict(start[name])
    target = copy.deepcopy(encoder).requires_grad_(False).eval()
    modules = (encoder, predictor, cost_head, policy)
    params = [p for m in modules for p in m.parameters()]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.steps, pct_start=0.1
    )
    generator = torch.Generator().manual_seed(config.seed)
    terms: dict[str, float] = {}
    for step in range(1, config.steps + 1):
        chain = chains[torch.randint(len(chains), (config.batch,), generator=generator)]
        now = chain[:, 0]
        z = encoder.from_pooled(photometric(rgbd[now].float(), config.augment, generator))
        # The rollout trains on part of the batch: each chain costs 3 target-encoder passes.
        rolled = chain[: config.rollout_batch]
        with torch.no_grad():
            later = rolled[:, 1:].T.reshape(-1)
            seen = photometric(rgbd[later].float(), config.augment, generator)
            z_later = target.from_pooled(seen).reshape(ROLLOUT_STEPS, len(rolled), -1)
        variance, covariance = vicreg_terms(z)
        bc = F.mse_loss(policy(z, joints[now]), actions[now])
        cost_sq = [masked_mse(cost_head(z, joints[now]), distance[now])]
        latent_sq, joint_sq = [], []
        z_k, q_k = z[: len(rolled)], joints[rolled[:, 0]]
        for k in range(ROLLOUT_STEPS):
            z_k, q_k = predictor(z_k, q_k, executed[rolled[:, k]])
            latent_sq.append(F.mse_loss(z_k, z_later[k]))
            joint_sq.append(F.mse_loss(q_k, joints[rolled[:, k + 1]]))
            cost_sq.append(masked_mse(cost_head(z_k, q_k), distance[rolled[:, k + 1]]))
        jepa = torch.stack(latent_sq).mean()
        joint = torch.stack(joint_sq).mean() / 1e-4
        cost = torch.stack(cost_sq).mean() / 1e-4
        loss = (
            jepa
            + config.var_weight * variance
            + config.cov_weight * covariance
            + config.bc_weight * bc
            + config.joint_weight * joint
            + config.cost_weight * cost
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
                "jepa_step3": float(latent_sq[-1].detach()),
                "variance": float(variance.detach()),
                "covariance": float(covariance.detach()),
                "bc_rmse_rad": float(bc.detach()) ** 0.5,
                "joint_rmse_rad": float(torch.stack(joint_sq).mean().detach()) ** 0.5,
                "cost_rmse_m": float(torch.stack(cost_sq).mean().detach()) ** 0.5,
            }
            echo(
                f"  step {step}/{config.steps}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in terms.items())
                + f" ({time.monotonic() - collected:.0f} s)"
            )
    latents = encode_all(encoder, rgbd)
    terms.update(
        refit_world_model(latents, joints, executed, distance, chains, predictor, cost_head,
                          config.refit, echo)
    )  # fmt: skip
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            **{name: m.state_dict() for name, m in zip(MODULES, modules)},
            "config": asdict(config),
            "fine_tuned": start is not None,
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
    state = dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
    missing = [name for name in MODULES if name not in state]
    if missing:
        raise ExportError(
            f"reference checkpoint {checkpoint} has no {', '.join(missing)} (it predates the "
            "world model); retrain it with `edgerun export reference --train`"
        )
    return state
