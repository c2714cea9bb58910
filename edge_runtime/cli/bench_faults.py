"""`edgerun bench faults`: every fault injected into the simulated arm, judged by its servos."""

from __future__ import annotations

import argparse

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree, positive


def register(cli: CommandTree) -> None:
    p = cli.command(
        "faults",
        "inject every fault N times at random moments; unsafe commands, torque-off latency",
        _bench,
        description="Faults of the servos, camera, model, processes, disk and clock, each\n"
        "injected into the simulated arm through the real driver and processes (docs/perf/"
        "faults.md).",
        **BENCH,
    )
    p.add_argument("--repeats", type=positive(int), default=5, help="runs per fault")
    p.add_argument("--faults", nargs="+", metavar="NAME", help="default: all")
    p.add_argument("--seed", type=int, default=0, help="injection moments and choices")
    p.add_argument("--duration", type=positive(float), default=3.0, help="seconds per run")
    p.add_argument("--json", metavar="FILE", help="write the results here")
    p.add_argument("--plot", metavar="PNG", help="torque-off latency per fault")


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.bench.faults import run_bench
    from edge_runtime.bench.faults_plot import plot_faults
    from edge_runtime.bench.faults_summary import TABLE_COLUMNS
    from edge_runtime.bench.report import print_table, write_outputs

    def progress(name: str, repeat: int, run: dict) -> None:
        print(f"  {name} #{repeat + 1}: {run['outcome']}", flush=True)

    result = run_bench(args.repeats, args.faults, args.seed, args.duration, progress=progress)
    print_table("fault campaign (torque off in control periods)", result["faults"], TABLE_COLUMNS)
    print("\n".join(result["verdicts"]))
    write_outputs(result, args.json, args.plot, plot_faults)
    return 0
