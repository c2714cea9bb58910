"""The `bench` and `sim` groups several modules add commands to, with their help written once.

`CommandTree` takes a group's help from whichever module registers into it first, so each
module passes these (`cli.command(..., **BENCH)`) and `edgerun --help` reads the same
whatever order the plugins load in.
"""

BENCH = {"group": "bench", "group_help": "benchmarks (print a table, write JSON)"}
SIM = {"group": "sim", "group_help": "run simulated devices on pseudo-terminals"}
