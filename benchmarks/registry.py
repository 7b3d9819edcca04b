"""Registry benchmark W7 (``../shared/docs/BENCHMARKS.md``): 16 processes at once create a version of one
registered model, 3 rounds, on a fresh SQLite file; mlops against MLflow.

Run from the repository root::

    python -m benchmarks.registry                      # mlops, and MLflow when available
    python -m benchmarks.registry --processes 16 --rounds 3 --mlflow-python /path/to/python

Each side runs in its own child process on its own fresh SQLite file. Per round, every worker
(a spawned interpreter, released by a barrier) makes one call: mlops ``RegistryClient.register_model``
(round 1 also races to create the model), MLflow ``MlflowClient.create_model_version`` on a model
created beforehand (MLflow 3's ``register_model`` of a ``runs:/`` URI needs a logged model). The
parent prints one JSON line: calls, errors, whether each round's versions were unique and contiguous,
and wall time, for both. MLflow's interpreter: ``--mlflow-python``, ``$MLOPS_BENCH_MLFLOW_PYTHON``, or
this one when it imports ``mlflow``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from typing import Any

from benchmarks._harness import run_child

__all__ = ["main", "measure"]

MODULE = "benchmarks.registry"
TARGET = "0 errors; versions 1..16 unique and contiguous each round, on every store"


def _mlops_worker(uri: str, run_id: str, barrier: Any) -> tuple[str, Any, float]:
    from mlops.registry import RegistryClient

    reg = RegistryClient(uri, user="bench")
    barrier.wait()
    start = time.perf_counter()
    try:
        version = reg.register_model(f"runs:/{run_id}/model", "credit").version
        return "ok", version, time.perf_counter() - start
    except Exception:
        return "error", traceback.format_exc(limit=3), time.perf_counter() - start


def _mlflow_worker(uri: str, run_id: str, barrier: Any) -> tuple[str, Any, float]:
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    barrier.wait()
    start = time.perf_counter()
    try:
        # mlflow.register_model("runs:/...") needs a LoggedModel in MLflow 3; the registry call it ends
        # in is create_model_version, measured here directly.
        version = int(client.create_model_version("credit", f"runs:/{run_id}/model", run_id=run_id).version)
        return "ok", version, time.perf_counter() - start
    except Exception:
        return "error", traceback.format_exc(limit=3), time.perf_counter() - start


def _setup(library: str, uri: str) -> str:
    """Create the source run (and nothing else: round 1 races to create the model)."""
    if library == "mlops":
        import mlops

        client = mlops.Client(uri, artifact_uri="memory://bench-registry")
        run = client.create_run(client.get_or_create_experiment("bench").experiment_id)
        client.end_run(run.run_id)
        return run.run_id
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri).create_registered_model("credit")
    with mlflow.start_run() as active:
        return str(active.info.run_id)


def measure(library: str, processes: int, rounds: int) -> dict[str, Any]:
    """Run W7 for ``library`` (``mlops`` or ``mlflow``) in this process; return the figures."""
    folder = tempfile.mkdtemp(prefix=f"w7-{library}-")
    uri = f"sqlite:///{os.path.join(folder, 'store.db')}"
    run_id = _setup(library, uri)
    worker = _mlops_worker if library == "mlops" else _mlflow_worker
    ctx = mp.get_context("spawn")
    calls = errors = 0
    contiguous: list[bool] = []
    latencies: list[float] = []
    first_errors: list[str] = []
    walls: list[float] = []
    with ctx.Manager() as manager, ctx.Pool(processes) as pool:
        pool.map(abs, range(processes))  # start every interpreter before timing
        for r in range(rounds):
            barrier = manager.Barrier(processes)
            start = time.perf_counter()
            results = pool.starmap(worker, [(uri, run_id, barrier)] * processes)
            walls.append(time.perf_counter() - start)
            calls += len(results)
            versions = sorted(v for status, v, _ in results if status == "ok")
            failed = [v for status, v, _ in results if status != "ok"]
            errors += len(failed)
            first_errors.extend(str(f).strip().splitlines()[-1] for f in failed[:2])
            expected = list(range(r * processes + 1, (r + 1) * processes + 1))
            contiguous.append(versions == expected)
            latencies.extend(t for _, _, t in results)
    latencies.sort()
    return {
        "library": library,
        "calls": calls,
        "errors": errors,
        "versions_contiguous_per_round": contiguous,
        "wall_s": round(sum(walls), 3),
        "round_wall_s": [round(w, 3) for w in walls],
        "call_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "call_max_ms": round(1000 * latencies[-1], 1),
        "error_samples": first_errors[:3],
    }


def _find_mlflow_python(explicit: str | None) -> str | None:
    from benchmarks.tracking import find_mlflow_python

    return find_mlflow_python(explicit)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments; as parent, run both sides in children and print one JSON line."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mlflow-python", default=None)
    parser.add_argument("--child", choices=["mlops", "mlflow"], default=None, help=argparse.SUPPRESS)
    opts = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if opts.child:
        print(json.dumps(measure(opts.child, opts.processes, opts.rounds)))
        return 0
    args = ["--processes", str(opts.processes), "--rounds", str(opts.rounds)]
    ours = run_child(MODULE, [*args, "--child", "mlops"])
    mlflow_python = _find_mlflow_python(opts.mlflow_python)
    theirs = run_child(MODULE, [*args, "--child", "mlflow"], python=mlflow_python) if mlflow_python else None
    line = {
        "workload": "W7",
        "what": f"{opts.processes} processes at once create a version of one model, {opts.rounds} rounds",
        "target": TARGET,
        "mlops": ours,
        "mlflow": theirs,
    }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
