"""Serving benchmarks W5a, W5b, W5d (see ``../shared/docs/BENCHMARKS.md``), with MLflow pyfunc beside.

Run from the repository root::

    python -m benchmarks.serving                      # W5a W5b W5d, 3 repeats, one JSON line each
    python -m benchmarks.serving W5a --repeat 5
    python -m benchmarks.serving --mlflow-python /work/mlflow-venv/bin/python

* W5a: ``OnlinePredictor.predict(dict)`` of the W4a model (``LogisticRegression(max_iter=200)`` on
  ``make_classification(20000, 20, random_state=0)``, fitted on a DataFrame ``f0..f19`` so it has
  feature names), 2,000 calls, p50/p99, signature checks on; the floor is raw ``model.predict`` on a
  1-row NumPy array (the same model fitted on the array). Also the model fitted on an array.
* W5b: ``BatchPredictor.predict`` of a 1,000,000-row DataFrame against raw ``model.predict``.
* W5d: ``predict_file`` of a 5,000,000-row Parquet file of the credit features (the 30,000 rows of
  ``credit_default_taiwan`` resampled), StandardScaler + LogisticRegression, local disk; throughput
  against raw predict on the loaded frame, and the peak RSS growth of a process that only runs
  ``predict_file`` (peak during the call minus the RSS at its start) against the in-memory size of
  one chunk; Arrow's pool peak is printed beside it, for diagnosis.

Each measurement runs in its own child process; MLflow runs in its own interpreter (default:
``/work/mlflow-venv/bin/python`` when it exists, else skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._harness import machine_info, median_figures, run_child

__all__ = ["main"]

MODULE = "benchmarks.serving"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "credit_default_taiwan.csv.gz"
MLFLOW_PYTHON = "/work/mlflow-venv/bin/python"
TARGETS = {"W5a": 1.3, "W5b": 1.1, "W5d": 0.8}


def _w4a(frame: bool) -> tuple[Any, Any, Any]:
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(20_000, 20, random_state=0)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
    model = LogisticRegression(max_iter=200).fit(df if frame else X, y)
    return model, X, df


def _pcts(fn: Any, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


# ---------------------------------------------------------------- children (one process each)
def child_w5a() -> None:
    from mlops.models import infer_signature, save_model
    from mlops.serving import OnlinePredictor

    named, X, df = _w4a(frame=True)
    plain, _, _ = _w4a(frame=False)
    root = Path(tempfile.mkdtemp(prefix="mlops-w5a-"))
    save_model(named, root / "named", input_example=df.head())
    save_model(plain, root / "plain", signature=infer_signature(df))
    row = X[:1]
    records = [dict(zip(df.columns, r.tolist(), strict=True)) for r in X[:2000]]
    out: dict[str, Any] = {}
    with OnlinePredictor(str(root / "named")) as p_named, OnlinePredictor(str(root / "plain")) as p_plain:
        for _ in range(200):  # warm up
            plain.predict(row), p_named.predict(records[0]), p_plain.predict(records[0])
        floors, nameds, plains = [], [], []
        for _ in range(3):  # interleaved, so drift hits all three alike
            floors.append(_pcts(lambda: plain.predict(row), 2000))
            it = iter(records * 2)
            nameds.append(_pcts(lambda it=it: p_named.predict(next(it)), 2000))
            it2 = iter(records * 2)
            plains.append(_pcts(lambda it2=it2: p_plain.predict(next(it2)), 2000))
        out["mode_named"], out["mode_plain"] = p_named.mode, p_plain.mode
    out["floor_p50_ms"] = statistics.median(f[0] for f in floors)
    out["floor_p99_ms"] = statistics.median(f[1] for f in floors)
    out["online_p50_ms"] = statistics.median(f[0] for f in nameds)
    out["online_p99_ms"] = statistics.median(f[1] for f in nameds)
    out["online_array_model_p50_ms"] = statistics.median(f[0] for f in plains)
    print(json.dumps(out))


def child_w5b() -> None:
    import numpy as np
    import pandas as pd

    from mlops.models import save_model
    from mlops.serving import BatchPredictor

    model, _, df = _w4a(frame=True)
    root = Path(tempfile.mkdtemp(prefix="mlops-w5b-"))
    save_model(model, root / "m", input_example=df.head())
    big = pd.DataFrame(np.random.default_rng(0).normal(size=(1_000_000, 20)), columns=df.columns)
    predictor = BatchPredictor(str(root / "m"))
    raw, ours = [], []
    for _ in range(7):
        t = time.perf_counter()
        model.predict(big)
        raw.append(time.perf_counter() - t)
        t = time.perf_counter()
        predictor.predict(big)
        ours.append(time.perf_counter() - t)
    print(json.dumps({"raw_s": statistics.median(raw), "mlops_s": statistics.median(ours)}))


def _credit_model_and_file(root: Path, rows: int) -> tuple[Any, Path, list[str]]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = pd.read_csv(DATA)
    features = [c for c in data.columns if c not in ("ID", "default payment next month")]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(data[features], data["default payment next month"])
    path = root / "credit-5m.parquet"
    if not path.exists():
        rng = np.random.default_rng(0)
        with pq.ParquetWriter(
            path, pa.Schema.from_pandas(data[["ID", *features]], preserve_index=False)
        ) as w:
            for start in range(0, rows, 500_000):
                take = rng.integers(0, len(data), min(500_000, rows - start))
                part = data[["ID", *features]].iloc[take].reset_index(drop=True)
                part["ID"] = np.arange(start, start + len(part))
                w.write_table(pa.Table.from_pandas(part, preserve_index=False))
    return model, path, features


def child_w5d_setup(root: str, rows: int) -> None:
    from mlops.models import save_model

    model, path, features = _credit_model_and_file(Path(root), rows)
    import pandas as pd

    example = pd.read_parquet(path).head(5)[features]
    save_model(model, Path(root) / "model", input_example=example)
    print(json.dumps({"path": str(path)}))


def child_w5d_floor(root: str) -> None:
    import pandas as pd

    from mlops.models import load_model

    model = load_model(str(Path(root) / "model"))
    features = list(model.signature.input_names)  # type: ignore[union-attr]
    frame = pd.read_parquet(Path(root) / "credit-5m.parquet", columns=features)
    t = time.perf_counter()
    model.raw.predict(frame)
    print(json.dumps({"raw_predict_s": time.perf_counter() - t, "rows": len(frame)}))


def _rss_kb() -> int:
    """The process's resident set size now, in KiB (Linux ``/proc``; elsewhere the peak so far)."""
    import resource

    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_w5d_file(root: str, n_jobs: int, chunk_rows: int) -> None:
    import resource

    import pyarrow as pa

    from mlops.serving import BatchPredictor

    predictor = BatchPredictor(str(Path(root) / "model"), n_jobs=n_jobs)
    # Growth = peak during the call minus the RSS *at its start*. The peak-so-far (ru_maxrss) used
    # before is not the start: a transient peak while the model loaded would hide growth.
    before_kb = _rss_kb()
    t = time.perf_counter()
    result = predictor.predict_file(
        str(Path(root) / "credit-5m.parquet"),
        str(Path(root) / f"out-{n_jobs}.parquet"),
        chunk_rows=chunk_rows,
        keep_columns=["ID"],
        progress=False,
    )
    seconds = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    chunk_bytes = chunk_rows * len(predictor.plan.names) * 8
    print(
        json.dumps(
            {
                "file_s": seconds,
                "rows": result.rows,
                "rss_growth_mb": (peak_kb - before_kb) / 1024,
                "chunk_mb": chunk_bytes / 2**20,
                # live Arrow memory at its peak (reader buffers, batches, output; the pool is unused
                # before the call), for diagnosis: the rest of the growth is NumPy arrays, allocator
                # caches and thread stacks
                "arrow_pool_peak_mb": pa.default_memory_pool().max_memory() / 2**20,
            }
        )
    )


# ---------------------------------------------------------------- MLflow peer (its own interpreter)
def peer_child(workload: str) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn
    import numpy as np
    import pandas as pd

    model, _, df = _w4a(frame=True)
    root = Path(tempfile.mkdtemp(prefix="mlflow-serving-"))
    mlflow.sklearn.save_model(model, str(root / "m"), input_example=df.head())
    pyfunc = mlflow.pyfunc.load_model(str(root / "m"))
    if workload == "W5a":
        rows = [df.iloc[[i]] for i in range(2000)]
        it = iter(rows * 3)
        for _ in range(100):
            pyfunc.predict(rows[0])
        p50, p99 = _pcts(lambda: pyfunc.predict(next(it)), 2000)
        print(json.dumps({"mlflow_p50_ms": p50, "mlflow_p99_ms": p99}))
        return
    big = pd.DataFrame(np.random.default_rng(0).normal(size=(1_000_000, 20)), columns=df.columns)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        pyfunc.predict(big)
        times.append(time.perf_counter() - t)
    print(json.dumps({"mlflow_s": statistics.median(times)}))


# ---------------------------------------------------------------- parent
def _peer(workload: str, python: str | None) -> dict[str, Any]:
    if not python or not os.path.exists(python):
        return {}
    result = run_child(MODULE, ["--peer", workload], python=python, timeout_s=600)
    return {} if "error" in result else result


def run_w5a(repeat: int, mlflow_python: str | None) -> dict[str, Any]:
    r = median_figures(run_child(MODULE, ["--child", "W5a"]) for _ in range(repeat))
    peer = _peer("W5a", mlflow_python)
    ratio = r.get("online_p50_ms", float("nan")) / r.get("floor_p50_ms", float("nan"))
    return {
        "workload": "W5a",
        **r,
        "ratio_to_floor": round(ratio, 3),
        "target_ratio": TARGETS["W5a"],
        "meets_target": ratio <= TARGETS["W5a"],
        **peer,
        "speedup_vs_mlflow": round(peer["mlflow_p50_ms"] / r["online_p50_ms"], 1) if peer else None,
    }


def run_w5b(repeat: int, mlflow_python: str | None) -> dict[str, Any]:
    r = median_figures(run_child(MODULE, ["--child", "W5b"]) for _ in range(repeat))
    peer = _peer("W5b", mlflow_python)
    ratio = r.get("mlops_s", float("nan")) / r.get("raw_s", float("nan"))
    return {
        "workload": "W5b",
        **r,
        "ratio_to_raw": round(ratio, 3),
        "target_ratio": TARGETS["W5b"],
        "meets_target": ratio <= TARGETS["W5b"],
        **peer,
    }


def run_w5d(repeat: int, rows: int, chunk_rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mlops-w5d-") as root:
        setup = run_child(MODULE, ["--child", "W5d-setup", root, str(rows)], timeout_s=1800)
        if "error" in setup:
            return {"workload": "W5d", "error": setup["error"]}
        floor = median_figures(run_child(MODULE, ["--child", "W5d-floor", root]) for _ in range(repeat))
        out: dict[str, Any] = {
            "workload": "W5d",
            "rows": rows,
            "chunk_rows": chunk_rows,
            "raw_predict_s": floor.get("raw_predict_s"),
        }
        for n_jobs in (1, 2):
            r = median_figures(
                run_child(MODULE, ["--child", "W5d-file", root, str(n_jobs), str(chunk_rows)])
                for _ in range(repeat)
            )
            ratio = floor["raw_predict_s"] / r["file_s"]
            out[f"n_jobs{n_jobs}"] = {
                **r,
                "throughput_ratio": round(ratio, 3),
                "memory_ratio_to_chunk": round(r["rss_growth_mb"] / r["chunk_mb"], 2),
            }
        best = max(out["n_jobs1"]["throughput_ratio"], out["n_jobs2"]["throughput_ratio"])
        out.update(
            target_ratio=TARGETS["W5d"],
            meets_throughput=best >= TARGETS["W5d"],
            meets_memory=out["n_jobs1"]["memory_ratio_to_chunk"] <= 2.0,
        )
    return out


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Command line (see the module docstring); prints one JSON line per workload."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--peer"]:
        peer_child(args[1])
        return []
    if args[:1] == ["--child"]:
        kind, rest = args[1], args[2:]
        {"W5a": child_w5a, "W5b": child_w5b}.get(kind, lambda: None)()
        if kind == "W5d-setup":
            child_w5d_setup(rest[0], int(rest[1]))
        elif kind == "W5d-floor":
            child_w5d_floor(rest[0])
        elif kind == "W5d-file":
            child_w5d_file(rest[0], int(rest[1]), int(rest[2]))
        return []
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=["W5a", "W5b", "W5d"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=5_000_000, help="W5d file rows")
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--mlflow-python", default=MLFLOW_PYTHON if os.path.exists(MLFLOW_PYTHON) else None)
    opts = parser.parse_args(args)
    results = []
    for w in opts.workloads:
        if w == "W5a":
            r = run_w5a(opts.repeat, opts.mlflow_python)
        elif w == "W5b":
            r = run_w5b(opts.repeat, opts.mlflow_python)
        elif w == "W5d":
            r = run_w5d(opts.repeat, opts.rows, opts.chunk_rows)
        else:
            parser.error(f"unknown workload {w!r}; choose from W5a, W5b, W5d")
        r["machine"] = machine_info()
        print(json.dumps(r), flush=True)
        results.append(r)
    return results


if __name__ == "__main__":
    main()
