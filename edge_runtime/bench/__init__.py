"""Benchmarks behind `edgerun bench ...`: each returns a dict the CLI prints and writes as JSON.

`loop_bench` measures control-loop lateness under an inference load (`load`) and judges it
against `loop_targets`; figures and the design they led to are in docs/perf/loop.md. `motors`
(Dynamixel driver vs dynamixel-sdk) and `mcu` (the MCU link) drive a simulated device in a
child process (`sim_process`). `report` holds the table, JSON and percentile helpers.
"""
