"""Fine-tune the reference checkpoint on recorded episodes: record -> train -> export -> deploy.

Starts from the current checkpoint, never from scratch: a few hundred robot episodes are far
too few to learn the encoder again, and the committed models already know the task. Why the
choices:

* **Simulator episodes mixed in** (by default 60 nominal + 30 exploration, freshly collected
  with the training seeds): without them every gradient step comes from a handful of logged
  trajectories and the models drift toward them (forgetting the rest of the workspace), and
  the cost head, which only simulator rows can teach (the distance to the goal is not in a
  log), would no longer follow the fine-tuned encoder. Log rows are repeated so that they are
  about half of the training set: the logs are what the fine-tune is for.
* **Lower learning rate and fewer steps** than training (3e-4, 600 steps, refit 500): a
  nudge, not a new model; the same one-cycle schedule and the same losses.
* **A new checkpoint file** (`checkpoint_out`): the committed `reference.pt` and its monitor
  calibration stay as they are unless the caller names that file on purpose.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from export.errors import ExportError
from export.reference.refit import RefitConfig
from export.reference.train import CHECKPOINT, TrainConfig, load_checkpoint


@dataclass(frozen=True)
class FineTuneOptions:
    logs: tuple[Path, ...]
    checkpoint_out: Path
    checkpoint_in: Path = CHECKPOINT
    steps: int = 600
    refit_steps: int = 500
    lr: float = 3e-4
    sim_episodes: int = 60  # nominal simulator episodes mixed in (plus half as many exploring)
    threads: int = 2


def finetune_from_logs(
    options: FineTuneOptions, echo: Callable[[str], None] = print
) -> dict[str, float]:
    """Fine-tune `checkpoint_in` on the logs (and simulator episodes), save `checkpoint_out`;
    returns the final loss terms. Refuses unusable input in one sentence before any training."""
    from export.reference.data import concatenate
    from export.reference.from_logs import demonstrations_from_logs, log_paths
    from export.reference.models import ROLLOUT_STEPS
    from export.reference.train import collect_training_data, train_reference

    if options.steps < 1 or options.refit_steps < 1:
        raise ExportError(
            f"fine-tuning needs at least one step (got --steps {options.steps}, refit "
            f"{options.refit_steps}); use the defaults for a real run"
        )
    if options.checkpoint_out.resolve() == CHECKPOINT.resolve():
        echo(f"note: overwriting the committed checkpoint {CHECKPOINT}")
    paths = log_paths(options.logs)  # a mistyped path fails before torch is even imported
    start = load_checkpoint(options.checkpoint_in)
    started = time.monotonic()
    echo(f"reading {len(paths)} episode log(s) ...")
    logs = demonstrations_from_logs(paths, echo=echo)
    if not len(logs.successors(ROLLOUT_STEPS)):
        raise ExportError(
            f"the logs hold no run of {ROLLOUT_STEPS + 1} consecutive usable observations (the "
            "world model's rollout); record longer episodes"
        )
    echo(f"{len(logs)} observations from {logs.episodes} logged episode(s)")
    config = TrainConfig(
        episodes=options.sim_episodes,
        explore_episodes=options.sim_episodes // 2,
        steps=options.steps,
        lr=options.lr,
        threads=options.threads,
        refit=RefitConfig(steps=options.refit_steps),
    )
    parts = [logs]
    if options.sim_episodes > 0:
        sim = collect_training_data(config, echo)
        repeats = max(1, math.ceil(len(sim) / len(logs)))  # logs: about half of the rows
        parts = [logs] * repeats + [sim]
    demos = concatenate(parts)
    echo(
        f"fine-tuning {options.checkpoint_in.name} on {len(demos)} observations for "
        f"{config.steps} steps (+{options.refit_steps} refit), {time.monotonic() - started:.0f} s"
    )
    return train_reference(config, options.checkpoint_out, echo, demos=demos, start=start)


def checkpoint_for_export(
    train: bool,
    logs: tuple[Path, ...],
    checkpoint_out: str | Path | None,
    bundle_out: Path,
    steps: int,
    sim_episodes: int,
    echo: Callable[[str], None] = print,
) -> Path:
    """The checkpoint `edgerun export reference` bundles, trained first when asked.

    With logs: a fine-tune into `checkpoint_out` (default OUT.pt beside the bundle, so the
    committed checkpoint is never overwritten by accident); with `train` alone: a full retrain
    into `checkpoint_out` (default the committed checkpoint, as before); else that file as is.
    """
    from export.reference.train import train_reference

    if logs:
        out = Path(checkpoint_out or f"{bundle_out}.pt")
        options = FineTuneOptions(logs, out, steps=steps, sim_episodes=sim_episodes)
        finetune_from_logs(options, echo)
        return out
    checkpoint = Path(checkpoint_out) if checkpoint_out else CHECKPOINT
    if train:
        train_reference(checkpoint=checkpoint, echo=echo)
    return checkpoint
