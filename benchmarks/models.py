"""Models benchmark W5c (see ``../shared/docs/BENCHMARKS.md``): cold start of a logged model.

Run from the repository root::

    python -m benchmarks.models            # W5c, 5 repeats, one JSON line
    python -m benchmarks.models --repeat 9

W5c: a new process imports ``mlops``, loads a ``LogisticRegression(max_iter=200)`` fitted on
``make_classification(20000, 20, random_state=0)`` from its run (``runs:/<run_id>/model``, SQLite +
local artifacts, skops with the integrity checks and the trusted-types policy), and makes its first
prediction. The figure is the wall time of the whole child process, interpreter start included,
measured by the parent; the child also reports its own import / load / predict split. The model is
logged once, by a separate setup child, so no measured process has written anything.

MLflow's figure (import 1.1 s + cold load 2.5 s) comes from the table in BENCHMARKS.md; it is measured
side by side only when ``mlflow`` is importable here (``MLOPS_BENCH_MLFLOW_PYTHON`` is not used yet).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._harness import machine_info, run_child

__all__ = ["main", "run_w5c"]

MODULE = "benchmarks.models"
TARGET_S = 1.0


def setup_child(root: str) -> None:
    """Log the W5c model into a fresh store under ``root``; print its URI as JSON."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    import mlops

    X, y = make_classification(20_000, 20, random_state=0)
    client = mlops.Client(f"sqlite:///{root}/mlops.db", artifact_uri=f"{root}/artifacts")
    run = client.create_run(client.get_or_create_experiment("w5c").experiment_id)
    info = client.log_model(
        run.run_id, LogisticRegression(max_iter=200).fit(X, y), "model", input_example=X[:5]
    )
    client.end_run(run.run_id)
    client.close()
    print(json.dumps({"model_uri": info.model_uri, "row": X[:1].tolist()}))


def cold_child(uri: str, row: str) -> None:
    """The measured process: import, load from the run, first prediction; print the split as JSON."""
    t0 = time.perf_counter()
    import mlops

    t1 = time.perf_counter()
    model = mlops.load_model(uri)
    t2 = time.perf_counter()
    prediction = model.predict(json.loads(row))
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": t1 - t0,
                "load_s": t2 - t1,
                "predict_s": t3 - t2,
                "prediction": int(prediction[0]),
            }
        )
    )


def run_w5c(repeat: int) -> dict[str, Any]:
    """Set up once, then ``repeat`` cold starts; medians of the wall time and the split."""
    with tempfile.TemporaryDirectory(prefix="mlops-w5c-") as root:
        env = {"MLOPS_TRACKING_URI": f"sqlite:///{root}/mlops.db", "MLOPS_ARTIFACT_URI": f"{root}/artifacts"}
        setup = run_child(MODULE, ["--setup", root], env=env)
        if "error" in setup:
            return {"workload": "W5c", "error": f"setup: {setup['error']}"}
        walls, children = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            child = run_child(MODULE, ["--cold", setup["model_uri"], json.dumps(setup["row"])], env=env)
            walls.append(time.perf_counter() - start)
            if "error" in child:
                return {"workload": "W5c", "error": child["error"]}
            children.append(child)
        python_only = _bare_interpreter_s(repeat)
    wall = statistics.median(walls)
    return {
        "workload": "W5c",
        "what": "new process: import mlops, load a logged LogisticRegression from runs:/, first prediction",
        "mlops_wall_s": round(wall, 3),
        "mlops_wall_min_s": round(min(walls), 3),
        "import_s": round(statistics.median(c["import_s"] for c in children), 3),
        "load_s": round(statistics.median(c["load_s"] for c in children), 3),
        "first_predict_s": round(statistics.median(c["predict_s"] for c in children), 4),
        "bare_python_s": round(python_only, 3),
        "mlflow_s": None,
        "mlflow_reference_s": 3.6,
        "target_s": TARGET_S,
        "meets_target": wall <= TARGET_S,
        "repeats": repeat,
        "machine": machine_info(),
    }


def _bare_interpreter_s(repeat: int) -> float:
    """Wall time of ``python -c pass``: the part of W5c no library can remove."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Command line: ``python -m benchmarks.models [W5c] [--repeat N]``; prints one JSON line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--setup"]:
        setup_child(args[1])
        return []
    if args[:1] == ["--cold"]:
        cold_child(args[1], args[2])
        return []
    parser = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="ids (default: W5c)")
    parser.add_argument("--repeat", type=int, default=5, help="cold starts; medians are reported")
    opts = parser.parse_args(args)
    unknown = [w for w in opts.workloads if w != "W5c"]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from ['W5c']")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    line = run_w5c(opts.repeat)
    print(json.dumps(line), flush=True)
    return [line]


if __name__ == "__main__":
    main()
