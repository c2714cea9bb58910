"""`edgerun bench world-model`: planner vs policy and the surprise monitor, on the simulator."""

from __future__ import annotations

import argparse

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree, positive
from edge_runtime.cli.trust_flags import add_trust_flags


def register(cli: CommandTree) -> None:
    p = cli.command(
        "world-model",
        "planner vs policy under perturbations; surprise monitor false stops and detection",
        _bench,
        **BENCH,
    )
    p.add_argument("bundle", help="a bundle with a world model (edgerun export reference)")
    p.add_argument("--episodes", type=positive(int), default=100, help="per condition")
    p.add_argument("--nominal-episodes", type=positive(int), default=200, help="monitor, nominal")
    p.add_argument("--workers", type=positive(int), default=2, help="local processes")
    p.add_argument("--conditions", nargs="+", metavar="NAME", help="default: all")
    p.add_argument("--json", metavar="FILE", help="write the results here")
    p.add_argument("--plot", metavar="PNG", help="success and detection bars")
    add_trust_flags(p)


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import count_progress, print_table, write_outputs
    from edge_runtime.bench.world_model import report_tables, run_bench
    from edge_runtime.bench.world_model_plot import plot_world_model

    result = run_bench(
        args.bundle,
        episodes=args.episodes,
        nominal_monitor_episodes=args.nominal_episodes,
        conditions=args.conditions,
        workers=args.workers,
        trusted_keys=tuple(args.trusted_key),
        development_mode=args.allow_unsigned,
        progress=count_progress("episodes"),
    )
    for title, rows, columns, caption in report_tables(result):
        print_table(title, rows, columns, caption=caption)
    write_outputs(result, args.json, args.plot, plot_world_model)
    return 0
