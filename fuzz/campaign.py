"""`make fuzz`: every target in turn, each until RUNS executions or SECONDS, whichever first.

    python fuzz/campaign.py --seconds 900 --runs 1000000 [TARGET ...]

Each target runs in its own process (`run.py`), its libFuzzer log in out/fuzz/NAME.log.
Prints one line per target (executions, seconds, executions/s, new inputs, crash or not),
writes out/fuzz/campaign.json, and exits 1 if any target crashed (the crashing input is
out/fuzz/NAME-crash-*: reproduce with ``python fuzz/run.py NAME -- out/fuzz/NAME-crash-*``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out" / "fuzz"
STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)


def run_target(name: str, seconds: int, runs: int) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"{name}.log"
    cmd = [sys.executable, str(HERE / "run.py"), name, "--seconds", str(seconds), "--"]
    cmd += [f"-runs={runs}"]
    start = time.perf_counter()
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    scratch = tempfile.mkdtemp(prefix="edgerun-fuzz-", dir=base)  # the target's files
    env = {**os.environ, "EDGERUN_FUZZ_SCRATCH": scratch}
    try:
        with open(log, "w") as sink:
            code = subprocess.call(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # nothing left in /dev/shm
    elapsed = time.perf_counter() - start
    stats = {k: int(v) for k, v in STAT.findall(log.read_text(errors="replace"))}
    executions = stats.get("number_of_executed_units", 0)
    return {
        "target": name,
        "executions": executions,
        "seconds": round(elapsed, 1),
        "exec_per_s": stats.get("average_exec_per_sec", 0),
        "new_inputs": stats.get("new_units_added", 0),
        "crashed": code != 0,
        "exit_code": code,
    }


def main() -> int:
    names = sorted(p.name for p in (HERE / "corpus").iterdir())  # one seed folder per target
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=names)
    parser.add_argument("--seconds", type=int, default=900, help="time cap per target")
    parser.add_argument("--runs", type=int, default=1_000_000, help="executions per target")
    args = parser.parse_args()
    results = []
    for name in args.targets:
        result = run_target(name, args.seconds, args.runs)
        print(json.dumps(result), flush=True)
        results.append(result)
    report = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "load_avg": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "seconds_cap": args.seconds,
        "runs_goal": args.runs,
        "results": results,
    }
    (OUT / "campaign.json").write_text(json.dumps(report, indent=1))
    return 1 if any(r["crashed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
