"""`edgerun eval BUNDLE`: closed-loop task success at scale (edge_runtime.sim.eval_campaign)."""

from __future__ import annotations

import argparse

from edge_runtime.cli.tree import CommandTree, positive
from edge_runtime.cli.trust_flags import add_trust_flags


def register(cli: CommandTree) -> None:
    p = cli.command("eval", "task success in parallel sim episodes, with intervals, vs FP32", _eval)
    p.add_argument("bundle", help="a bundle for the simulated arm (edgerun export reference)")
    p.add_argument("--episodes", type=positive(int), default=200, help="per condition")
    p.add_argument("--compare", choices=["fp32"], help="also run the bundle's FP32 originals")
    p.add_argument("--perturbations", nargs="+", default=["nominal"], metavar="NAME")
    p.add_argument("--workers", type=positive(int), help="local processes (default: 1 per core)")
    p.add_argument("--ray", metavar="ADDRESS", help="a Ray cluster: auto, ray://HOST:10001")
    p.add_argument("--json", metavar="FILE", help="results: success, ci95, paired, per episode")
    p.add_argument("--plot", metavar="PNG", help="success bars and final distances")
    add_trust_flags(p)


def _eval(args: argparse.Namespace) -> int:
    from edge_runtime.sim.eval_report import Campaign, run_and_report

    campaign = Campaign(args.bundle, args.episodes, bool(args.compare), tuple(args.perturbations),
                        args.workers, args.ray, trusted_keys=tuple(args.trusted_key),
                        development_mode=args.allow_unsigned)  # fmt: skip
    run_and_report(campaign, args.json, args.plot)
    return 0
