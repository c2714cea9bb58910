"""Benchmarks behind `edgerun bench ...`: each prints a table and writes JSON (`report`).

`loop_bench` measures control-loop lateness under an inference load (`load`); figures and the
design they led to are in docs/perf/loop.md.
"""
