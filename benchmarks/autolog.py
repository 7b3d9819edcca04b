"""Autolog benchmarks W4a and W4b (see ``../shared/docs/BENCHMARKS.md``), side by side with MLflow.

Run from the repository root::

    python -m benchmarks.autolog                       # W4a and W4b, 3 repeats each
    python -m benchmarks.autolog --mlflow-python /path/to/mlflow-venv/bin/python

W4a: ``LogisticRegression(max_iter=200).fit`` on ``make_classification(20000, 20, random_state=0)``.
W4b: ``RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit`` on 10,000 × 20.

Each repeat is a fresh process with a fresh SQLite store. The process first fits once without autolog
(and once to warm imports), then with autolog (defaults: params, training metrics, dataset, model with
signature and input example). Two figures per library: the time until ``fit`` returns, and the time
until everything is durable (``mlops.flush()``, which waits for the background model upload and ends
the run; MLflow's autolog is synchronous, so both are the same for it). MLflow runs in its own
interpreter when ``--mlflow-python`` (or ``MLOPS_BENCH_MLFLOW_PYTHON``) names one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

from benchmarks._harness import machine_info, median_figures, run_child

__all__ = ["main"]

MODULE = "benchmarks.autolog"
TARGETS = {"W4a": "overhead <= 0.15 s", "W4b": "<= 1.15x the fit without autolog"}


def _model(workload: str) -> tuple[Any, Any, Any]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if workload == "W4a":
        X, y = make_classification(20000, 20, random_state=0)
        return (lambda: LogisticRegression(max_iter=200)), X, y
    X, y = make_classification(10000, 20, random_state=0)
    return (lambda: RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)), X, y


def child(library: str, workload: str, root: str) -> dict[str, Any]:
    """One repeat in this process: plain fit, then the fit under the library's autolog."""
    make, X, y = _model(workload)
    make().fit(X, y)  # warm-up: imports and caches
    started = time.perf_counter()
    make().fit(X, y)
    plain = time.perf_counter() - started
    if library == "mlops":
        import mlops

        mlops.set_tracking_uri(f"sqlite:///{root}/mlops.db")
        mlops.set_artifact_uri(f"file://{root}/artifacts")
        mlops.autolog(silent=True)
        started = time.perf_counter()
        make().fit(X, y)
        returned = time.perf_counter() - started
        mlops.flush()
        durable = time.perf_counter() - started
        warm = _warm_fit(make, X, y, mlops.flush)
        run = mlops.search_runs(output_format="list")[-1]
        logged = {
            "params": len(run.params),
            "metrics": len(run.metrics),
            "model": "mlops.model.manifest_sha256/model" in run.tags,
            "status": run.status,
        }
    else:
        import mlflow

        os.chdir(root)  # MLflow puts artifacts in ./mlruns
        mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
        mlflow.sklearn.autolog(silent=True)
        started = time.perf_counter()
        make().fit(X, y)
        returned = durable = time.perf_counter() - started
        run = mlflow.last_active_run()
        warm = _warm_fit(make, X, y, lambda: None)
        logged = {"params": len(run.data.params), "metrics": len(run.data.metrics), "status": run.info.status}
    return {
        "plain_fit_s": plain,
        "autolog_fit_return_s": returned,
        "autolog_durable_s": durable,
        "overhead_return_s": returned - plain,
        "overhead_durable_s": durable - plain,
        "ratio_return": returned / plain,
        "ratio_durable": durable / plain,
        "warm_overhead_return_s": warm["warm_fit_return_s"] - plain,
        "warm_overhead_durable_s": warm["warm_durable_s"] - plain,
        "warm_ratio_durable": warm["warm_durable_s"] / plain,
        **warm,
        **logged,
    }


def _warm_fit(make: Any, X: Any, y: Any, flush: Any) -> dict[str, float]:
    """A second fit under autolog in the same process: the steady-state cost per fit."""
    started = time.perf_counter()
    make().fit(X, y)
    returned = time.perf_counter() - started
    flush()
    return {"warm_fit_return_s": returned, "warm_durable_s": time.perf_counter() - started}


def _repeat(library: str, workload: str, repeats: int, python: str | None) -> dict[str, Any]:
    results = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="mlops-bench-") as root:
            results.append(run_child(MODULE, ["--child", library, workload, root], python=python))
    return median_figures(results)


def main(argv: list[str] | None = None) -> int:
    """Run W4a and W4b; print one JSON line per workload."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.autolog")
    parser.add_argument("workloads", nargs="*", default=["W4a", "W4b"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mlflow-python", default=os.environ.get("MLOPS_BENCH_MLFLOW_PYTHON"))
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("LIBRARY", "WORKLOAD", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    for workload in args.workloads:
        ours = _repeat("mlops", workload, args.repeat, None)
        peer = None
        if not args.no_mlflow and args.mlflow_python:
            peer = _repeat("mlflow", workload, args.repeat, args.mlflow_python)
        # the targets are per fit: judged on the steady state (the cold first fit is reported too)
        if workload == "W4a":
            met = ours.get("warm_overhead_durable_s", float("inf")) <= 0.15
        else:
            met = ours.get("warm_ratio_durable", float("inf")) <= 1.15
        line = {
            "workload": workload,
            "mlops": ours,
            "mlflow": peer,
            "ratio": (peer["warm_overhead_durable_s"] / ours["warm_overhead_durable_s"])
            if peer and "error" not in peer and ours.get("warm_overhead_durable_s", 0) > 0
            else None,
            "target": TARGETS[workload],
            "met": met,
            "machine": machine_info(),
        }
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
