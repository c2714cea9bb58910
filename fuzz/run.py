"""Run one fuzz target under atheris (coverage-guided, libFuzzer): ``python fuzz/run.py NAME``.

    python fuzz/run.py episode_log --seconds 300 [-runs=N ...]   # any libFuzzer flags
    python fuzz/run.py episode_log out/fuzz/episode_log-crash-XYZ   # replay one input

Seeds come from fuzz/corpus/NAME/ (committed, read only); inputs the fuzzer finds
interesting go to out/fuzz/NAME/, a crashing input to out/fuzz/NAME-crash-*. The edge-runtime
and firmware_bridge modules are instrumented for coverage. At the end one JSON line (target,
executions, seconds, executions/s) is printed and appended to out/fuzz/summary.jsonl.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import sys
import time
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]  # this checkout's code, whatever is installed

with atheris.instrument_imports(include=["edge_runtime", "firmware_bridge", "fuzz_targets"]):
    import fuzz_targets


def main() -> None:
    logging.disable(logging.CRITICAL)  # warnings a target logs for every input cost more than it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=sorted(fuzz_targets.TARGETS))
    parser.add_argument("--seconds", type=int, default=60, help="time budget (libFuzzer's)")
    args, libfuzzer = parser.parse_known_args()  # the rest: libFuzzer flags and inputs
    fn = fuzz_targets.TARGETS[args.target]
    out = REPO / "out" / "fuzz"
    work = out / args.target
    work.mkdir(parents=True, exist_ok=True)
    state = {"runs": 0, "start": time.perf_counter()}

    def one_input(data: bytes) -> None:
        state["runs"] += 1
        fn(data)

    def summary() -> None:
        seconds = time.perf_counter() - state["start"]
        line = {
            "target": args.target,
            "executions": state["runs"],
            "seconds": round(seconds, 1),
            "exec_per_s": round(state["runs"] / seconds),
        }
        print(json.dumps(line), flush=True)
        with open(out / "summary.jsonl", "a") as log:
            log.write(json.dumps(line) + "\n")

    atexit.register(summary)  # libFuzzer ends through exit(): a crash exits non-zero
    flags = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        f"-artifact_prefix={out}/{args.target}-crash-",
        "-print_final_stats=1",
        *[flag for flag in libfuzzer if flag != "--"],
    ]
    if not any(not flag.startswith("-") for flag in libfuzzer):  # no inputs given: fuzz
        flags += [str(work), str(HERE / "corpus" / args.target)]
    atheris.Setup(flags, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
