"""Shared helpers of the benchmark suite: child processes, JSON lines, medians and the summary table.

Every measurement runs in a child process (a fresh interpreter, a fresh store) that prints one JSON
object as its last stdout line; the parent collects them, takes medians over repeats and prints one
JSON line per workload. Nothing here imports ``mlops`` or a peer library, so the same helpers serve a
child that runs in another interpreter (a separate virtual environment holding the peer).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "ChildResult",
    "format_table",
    "load_average",
    "machine_info",
    "median_figures",
    "run_child",
]

ChildResult = dict[str, Any]


def run_child(
    module: str,
    args: Sequence[str],
    *,
    python: str | None = None,
    timeout_s: float = 900.0,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> ChildResult:
    """Run ``python -m module *args`` and return the JSON object of its last stdout line.

    Args:
        module: the module to run (``benchmarks.tracking``).
        args: its command-line arguments.
        python: the interpreter (default: this one). A peer may live in another virtual environment.
        timeout_s: kill the child after this many seconds.
        env: extra environment variables for the child.
        cwd: working directory (default: the repository root, so ``benchmarks`` is importable).

    Returns:
        The child's figures, or ``{"error": "..."}`` when it failed, timed out or printed no JSON.

    Example:
        >>> run_child("json.tool", ["--help"], timeout_s=30)["error"].startswith("no JSON")
        True
    """
    root = cwd or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH", "")) if p)
    try:
        out = subprocess.run(
            [python or sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout_s,
            env=child_env,
            cwd=root,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    lines = [line for line in out.stdout.strip().splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr.strip().splitlines() or ["(no stderr)"])[-3:]
        prefix = f"exit code {out.returncode}" if out.returncode != 0 else "no JSON on stdout"
        return {"error": f"{prefix}: {' | '.join(tail)}"}
    result: ChildResult = json.loads(lines[-1])
    return result


def median_figures(results: Iterable[ChildResult]) -> ChildResult:
    """Combine repeats: the median of every numeric figure; other values from the first repeat.

    Booleans are combined with ``all`` (a check passes only when it passed every time); other values
    are kept when every repeat agrees, else listed; NaN figures are left out of medians. The number
    of repeats that failed is reported as ``failed_repeats`` with the first error.

    Example:
        >>> median_figures([{"x": 1.0, "ok": True}, {"x": 3.0, "ok": True}, {"x": 2.0, "ok": False}])
        {'x': 2.0, 'ok': False, 'repeats': 3}
    """
    done = [r for r in results]
    good = [r for r in done if "error" not in r]
    combined: ChildResult = {}
    if good:
        for key, first in good[0].items():
            values = [r[key] for r in good if key in r and not _is_nan(r[key])]
            if not values:
                combined[key] = first
                continue
            if isinstance(first, bool):
                combined[key] = all(bool(v) for v in values)
            elif isinstance(first, (int, float)) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
            ):
                combined[key] = statistics.median(values)
            else:
                distinct = []
                for v in values:
                    if v not in distinct:
                        distinct.append(v)
                combined[key] = distinct[0] if len(distinct) == 1 else distinct
    combined["repeats"] = len(good)
    bad = [r for r in done if "error" in r]
    if bad:
        combined["failed_repeats"] = len(bad)
        combined["error"] = bad[0]["error"]
    return combined


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux/macOS
        return None


def machine_info() -> dict[str, Any]:
    """Where the figures come from: CPU count, platform, Python, SQLite, time and load."""
    import sqlite3

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": load_average(),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain-text table with aligned columns.

    Example:
        >>> print(format_table([["W1", 1.5]], ["id", "x"]))
        id  x
        --  ----
        W1  1.50
    """
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
