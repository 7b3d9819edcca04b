"""``python -m benchmarks``: every workload, one JSON line each, then a summary table.

Usage::

    python -m benchmarks                          # all workloads, 3 repeats, peers when installed
    python -m benchmarks --only W1,W3 --repeat 5
    python -m benchmarks --only F1 --json-out results.jsonl
    python -m benchmarks --mlflow-python /path/to/venv-with-mlflow/bin/python

Tracking workloads (W1, W2, W3, W6, W8) come from :mod:`benchmarks.tracking`; W5c from
``python -m benchmarks.models``, W7 from ``python -m benchmarks.registry`` and the fairness workloads
(F1-F4) from ``python -m benchmarks.fairness``, each run as a subprocess. Ratios are mlops's speed-up over
the peer measured in the same invocation (> 1: mlops is faster).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import tracking
from benchmarks._harness import format_table, machine_info

FAIRNESS = ("F1", "F2", "F3", "F4")
# Workloads of other benchmark modules, run as ``python -m <module> <args>`` (one JSON line each).
OTHERS: dict[str, tuple[str, list[str]]] = {
    "W5c": ("benchmarks.models", ["W5c"]),
    "W7": ("benchmarks.registry", []),
}


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated workload ids, e.g. W1,W3,F1")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per figure (medians are reported)")
    parser.add_argument("--json-out", default=None, help="also write the JSON lines to this file")
    parser.add_argument("--mlflow-python", default=None, help="interpreter that can import mlflow")
    parser.add_argument("--no-peers", action="store_true", help="measure mlops only (tracking workloads)")
    parser.add_argument("--quick", action="store_true", help="smaller MLflow sizes (see benchmarks.tracking)")
    opts = parser.parse_args(list(argv))
    known = set(tracking.RUNNERS) | set(FAIRNESS) | set(OTHERS)
    opts.ids = [w.strip() for w in opts.only.split(",") if w.strip()]
    unknown = [w for w in opts.ids if w not in known]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {sorted(known)}")
    return opts


def run_module(module: str, args: Sequence[str], label: str) -> list[dict[str, Any]]:
    """Run ``python -m module *args`` in a subprocess; its JSON lines (plus an error line if it fails)."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False, cwd=root
    )
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        lines.append({"workload": label, "error": f"{module} failed: {tail}"})
    return lines


def run_fairness(ids: Sequence[str], repeat: int) -> list[dict[str, Any]]:
    """Run ``python -m benchmarks.fairness`` as a subprocess and collect its JSON lines."""
    return run_module("benchmarks.fairness", [*ids, "--repeat", str(repeat)], ",".join(ids) or "F*")


def _other_rows(line: dict[str, Any]) -> list[list[Any]]:
    if "error" in line:
        return [[line.get("workload"), "error", str(line["error"])[:60], None, None, None, False]]
    if "mlops_seconds" in line:
        return _fairness_rows(line)
    target = str(line.get("target", ""))
    return [[line.get("workload"), "(see its JSON line)", None, None, line.get("ratio"),
             target[:40] + ("..." if len(target) > 40 else ""), line.get("met")]]


def _fairness_rows(line: dict[str, Any]) -> list[list[Any]]:
    seconds, target = line.get("mlops_seconds"), line.get("target_seconds")
    met = isinstance(seconds, (int, float)) and isinstance(target, (int, float)) and seconds <= target
    rows = [[line["workload"], "seconds", seconds, line.get("fairlearn_seconds_scaled"),
             line.get("ratio_fairlearn_over_mlops"), f"<= {target} s", met]]
    if "target_peak_rss_mb" in line:
        rss = line.get("mlops_peak_rss_mb")
        rows.append([line["workload"], "peak RSS (MB)", rss, line.get("fairlearn_peak_rss_mb"), None,
                     f"<= {line['target_peak_rss_mb']} MB",
                     isinstance(rss, (int, float)) and rss <= line["target_peak_rss_mb"]])
    return rows


def summary_table(lines: Sequence[dict[str, Any]]) -> str:
    """The readable table: workload, figure, mlops, peer, ratio, target, met."""
    rows: list[list[Any]] = []
    for line in lines:
        if "summary" in line:
            if "error" in (line.get("mlops") or {}):
                rows.append([line["workload"], "error", line["mlops"]["error"][:60], None, None, None, False])
            for r in line["summary"]:
                rows.append([line["workload"], r["figure"], r["mlops"], r["mlflow"], r["ratio"], r["target"],
                             r["met"]])
        else:
            rows.extend(_other_rows(line))
    header = ["workload", "figure", "mlops", "peer", "ratio (x)", "target", "met"]
    return format_table(rows, header)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen workloads; print JSON lines and the summary table. Returns 0."""
    opts = _parse(sys.argv[1:] if argv is None else argv)
    chosen = opts.ids or [*tracking.RUNNERS, *OTHERS, *FAIRNESS]
    info = machine_info()
    mlflow_py = None if opts.no_peers else tracking.find_mlflow_python(opts.mlflow_python)
    info["mlflow"] = tracking.mlflow_version(mlflow_py)
    print(json.dumps({"machine": info}), flush=True)
    out = open(opts.json_out, "w") if opts.json_out else None  # noqa: SIM115 - written line by line
    lines: list[dict[str, Any]] = []

    def emit(line: dict[str, Any]) -> None:
        lines.append(line)
        text = json.dumps(line)
        print(text, flush=True)
        if out is not None:
            out.write(text + "\n")
            out.flush()

    try:
        if out is not None:
            out.write(json.dumps({"machine": info}) + "\n")
        for wid in (w for w in chosen if w in tracking.RUNNERS):
            emit(tracking.run_workload(wid, opts.repeat, mlflow_py, opts.quick))
        fair = [w for w in chosen if w in FAIRNESS]
        if fair:
            for line in run_fairness(fair, opts.repeat):
                emit(line)
        for wid in (w for w in chosen if w in OTHERS):
            module, args = OTHERS[wid]
            if wid == "W5c":
                args = [*args, "--repeat", str(opts.repeat)]
            elif mlflow_py:
                args = [*args, "--mlflow-python", mlflow_py]
            for line in run_module(module, args, wid):
                emit(line)
    finally:
        if out is not None:
            out.close()
    print()
    print(f"{info['date']}, {info['cpus']} CPUs, load average {info['load_average']}, "
          f"SQLite {info['sqlite']}, MLflow {info['mlflow'] or 'not installed'}; medians of {opts.repeat}")
    print(summary_table(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
