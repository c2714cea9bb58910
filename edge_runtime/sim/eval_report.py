"""What `edgerun eval` shows: a progress bar while episodes run, a table, a JSON file, a plot.

A 10,000-episode campaign runs for a long time, so the console shows a live bar (episodes,
rate, time left) on stderr; the result table and the file paths go to stdout. The plot puts
each variant's success with its 95% interval beside the final-distance distribution, which
says *how* a bundle misses (a few far-off failures, or everything slightly short).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edge_runtime.bench.report import print_table, write_outputs
from edge_runtime.sim.eval_campaign import Campaign, run_campaign


@contextmanager
def progress_bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A `progress(done, total)` drawing a rich bar on stderr (plain lines when not a TTY).

    The bar appears with the first episode, so a campaign refused up front prints only its
    one-sentence error.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    bar = Progress(*columns, console=Console(stderr=True))
    task = bar.add_task(what, total=None)

    def update(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        bar.stop()


def result_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (condition, variant), then the paired difference."""
    groups = result.get("conditions") or {"all": result}
    rows = []
    for condition, part in groups.items():
        for variant, rate in part["variants"].items():
            rows.append(
                {
                    "condition": condition,
                    "variant": variant,
                    "success": f"{100 * rate['success']:.1f}%",
                    "ci95": _percent_range(rate["ci95"]),
                    "episodes": rate["episodes"],
                }
            )
        if part.get("paired"):
            pair = part["paired"]
            rows.append(
                {
                    "condition": condition,
                    "variant": "bundle - fp32",
                    "success": f"{100 * pair['difference']:+.1f} pts",
                    "ci95": _percent_range(pair["ci95"]),
                    "episodes": part["episodes"],
                    "mcnemar_p": f"{pair['mcnemar_p']:.3g}",
                }
            )
    return rows


COLUMNS = [
    ("condition", "condition"),
    ("variant", "variant"),
    ("success", "success"),
    ("ci95", "95% interval"),
    ("episodes", "episodes"),
    ("mcnemar_p", "McNemar p"),
]


def _percent_range(pair: list[float]) -> str:
    return f"[{100 * pair[0]:.1f}, {100 * pair[1]:.1f}]"


def plot_eval(result: dict[str, Any], path: str) -> Path:
    """Success with 95% intervals per condition and variant; final distances per variant."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = result.get("conditions") or {"all": result}
    variants = list(result["variants"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    width = 0.8 / len(variants)
    for k, variant in enumerate(variants):
        rates = [groups[c]["variants"][variant] for c in groups]
        xs = np.arange(len(groups)) + k * width
        values = np.array([100 * r["success"] for r in rates])
        spans = np.array([[100 * r["ci95"][0], 100 * r["ci95"][1]] for r in rates])
        errors = np.abs(spans.T - values)
        left.bar(xs, values, width, yerr=errors, capsize=3, label=variant)
        distances = sorted(1000 * e[variant]["final_distance_m"] for e in result["per_episode"])
        fractions = np.arange(1, len(distances) + 1) / max(1, len(distances))
        right.step(distances, fractions, where="post", label=variant)
    left.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, list(groups), fontsize=8)
    left.set_xlim(-0.5, len(groups))
    left.set_ylabel("task success, % (95% interval)")
    left.set_ylim(0, 105)
    per_condition = next(iter(groups.values()))["episodes"]
    left.set_title(f"{per_condition} episodes per condition, seed {result.get('seed')}")
    left.legend(fontsize=8, loc="lower left")
    right.axvline(20.0, color="k", ls="--", lw=1, label="success: within 20 mm")
    right.set_xscale("log")
    right.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    right.set_xlabel("final distance to goal, mm")
    right.set_ylabel("fraction of episodes")
    right.set_title("final distance (all conditions)")
    right.legend(fontsize=8)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def run_and_report(
    campaign: Campaign, json_path: str | None = None, plot_path: str | None = None
) -> dict[str, Any]:
    """Run the campaign behind a progress bar, print the table, write the JSON and plot."""
    with progress_bar("episodes") as progress:
        result = run_campaign(campaign, progress)
    rate = result["episodes_per_s"]
    where = f"Ray at {result['ray']}" if result["ray"] else f"{result['workers']} worker(s)"
    caption = f"{rate} episodes/s on {where}; seed {result['seed']}"
    print_table(f"task success: {campaign.bundle}", result_rows(result), COLUMNS, caption=caption)
    write_outputs(result, json_path, plot_path, plot_eval)
    return result
