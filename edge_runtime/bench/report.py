"""Benchmark output shared by every `edgerun bench ...`: a rich table and a JSON file.

Rows are plain dicts (what goes into the JSON); a column names a dotted key path into a row,
so one list of rows feeds both the table and the file and they can never disagree.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table


def lookup(row: dict[str, Any], path: str) -> Any:
    """`lookup(row, "lateness_us.p99")` -> row["lateness_us"]["p99"] (None when absent)."""
    value: Any = row
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def print_table(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    console: Console | None = None,
    caption: str | None = None,
) -> Table:
    """Print `rows` with `columns` = [(key path, header), ...]; numbers right-aligned."""
    table = make_table(title, rows, columns, caption)
    (console or Console()).print(table)
    return table


def make_table(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    caption: str | None = None,
) -> Table:
    """The table `print_table` prints (for a live view that redraws it)."""
    table = Table(title=title, caption=caption)
    for path, header in columns:
        numeric = any(isinstance(lookup(r, path), (int, float)) for r in rows)
        table.add_column(header, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(lookup(row, path)) for path, _ in columns))
    return table


def print_summary(title: str, rows: Sequence[tuple[str, Any]], caption: str | None = None) -> Table:
    """A two-column (what, value) table: how single-run results read best."""
    pairs = [{"what": what, "value": str(value)} for what, value in rows]
    return print_table(title, pairs, [("what", ""), ("value", "")], caption=caption)


def percentiles(values: Sequence[float] | np.ndarray, with_max: bool = True) -> dict[str, float]:
    """p50, p99 (and max) of `values`, rounded to 0.1 as the benchmarks report them.

    NaN for each when there are no values: a run that measured nothing must not read as 0.
    """
    data = np.asarray(values, dtype=np.float64)
    keys = ("p50", "p99", "max") if with_max else ("p50", "p99")
    if not data.size:
        return dict.fromkeys(keys, float("nan"))
    p50, p99 = np.percentile(data, [50, 99])
    out = {"p50": round(float(p50), 1), "p99": round(float(p99), 1)}
    if with_max:
        out["max"] = round(float(data.max()), 1)
    return out


def machine_info() -> dict[str, Any]:
    """Where and when a figure was measured (benchmarks are meaningless without it)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux/macOS
        load = []
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "loadavg": load,
    }


def write_json(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write `payload` (with `machine` info added when missing) as indented JSON."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine_info(), **payload} if "machine" not in payload else payload
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return out


def write_outputs(
    result: dict[str, Any],
    json_path: str | None,
    plot_path: str | None = None,
    plot: Callable[[dict[str, Any], str], Path] | None = None,
    echo: Callable[[str], Any] = print,
) -> None:
    """The `--plot PNG` and `--json FILE` every reporting command offers, said the same way."""
    if plot is not None and plot_path:
        echo(f"plot: {plot(result, plot_path)}")
    if json_path:
        echo(f"json: {write_json(json_path, result)}")


def count_progress(what: str, step_fraction: float = 0.05) -> Callable[[int, int], None]:
    """A `progress(done, total)` that prints one line every ~5% (logs stay readable)."""
    shown = [-1]

    def progress(done: int, total: int) -> None:
        step = max(1, round(total * step_fraction))
        if done == total or done // step != shown[0]:
            shown[0] = done // step
            print(f"  {what}: {done}/{total}", flush=True)

    return progress
