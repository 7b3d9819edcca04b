"""Tracking benchmarks W1, W2, W3, W6 and W8 (see ``../shared/docs/BENCHMARKS.md``), mlops against MLflow.

Run from the repository root::

    python -m benchmarks.tracking                 # every tracking workload, 3 repeats
    python -m benchmarks.tracking W1 W8 --repeat 5
    python -m benchmarks                          # everything, with the summary table

Every measurement runs in a fresh child process on a fresh SQLite file in a temporary folder. MLflow
runs in its own child process, with its own fresh SQLite file (``mlflow.set_tracking_uri("sqlite:///…")``),
on the same workload, in the same invocation. MLflow's interpreter is, in order: ``--mlflow-python``,
the ``MLOPS_BENCH_MLFLOW_PYTHON`` environment variable, or this interpreter when it can import ``mlflow``
(a separate virtual environment is useful when MLflow's pins conflict with the project's). Without
MLflow the ``mlflow`` figures are ``null``.

The module imports neither ``mlops`` nor ``mlflow`` at import time: a child imports the one it measures.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks._harness import median_figures, run_child

_bits = struct.Struct("<d").pack  # a float's 8 bytes, as value_bits and history chunks store them
_int64 = struct.Struct("<q").pack  # a step's or timestamp's 8 bytes in a history chunk

__all__ = ["WORKLOADS", "find_mlflow_python", "main", "run_workload"]

MODULE = "benchmarks.tracking"
FILTER = "metrics.m0 > 0.5 and params.p1 = 'a'"
ORDER_BY = ["metrics.m1 DESC"]

WORKLOADS: dict[str, dict[str, Any]] = {
    "W1": {
        "what": "one run; log_metric('loss', v, step=i) one call per point; time until durable",
        "n": 100_000,
        "sync_n": 5_000,
        "mlflow_n": 10_000,
        "target": "default >= 150,000 points/s durable and >= 25x MLflow's best mode; <= 3 us per call; "
        "synchronous=True >= 5,000 points/s",
    },
    "W2": {
        "what": "100 keys x 1,000 steps through the batch API",
        "keys": 100,
        "steps": 1_000,
        "target": ">= 200,000 points/s, no per-call size limit",
    },
    "W3": {
        "what": "create 2,000 runs (10 params, 10 metrics); filtered search and search all -> DataFrame",
        "runs": 2_000,
        "big_runs": 100_000,
        "search_repeat": 5,
        "target": "create >= 1,000 runs/s; filtered search <= 25 ms; all 2,000 <= 150 ms (>= 10x MLflow); "
        "100,000 runs: filtered search <= 0.5 s",
    },
    "W6": {
        "what": "8 processes, own run each, 2,000 points each, one log_metric call per point, one SQLite",
        "procs": 8,
        "points": 2_000,
        "target": "0 errors, 0 lost; >= 50,000 points/s aggregate; call p99 <= 1 ms",
    },
    "W8": {
        "what": "a child logs in a loop (flushing every N points), SIGKILL after ~2 s; reopen the store",
        "kill_after_s": 2.0,
        "flush_every": 20_000,
        "paced_rate": 20_000,
        "target": "store opens and works; nothing lost that flush() confirmed; loss <= flush interval "
        "(0.5 s) + one batch; killed run marked KILLED",
    },
}


# ====================================================================== helpers (child side)
def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, nearest-rank."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Run ``fn`` ``repeat`` times; return (first call's seconds, median seconds of the others, result)."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    rest = times[1:] or times
    return times[0], statistics.median(rest), result


def _mlops_fluent(tmp: Path) -> Any:
    import mlops

    mlops.set_tracking_uri(f"sqlite:///{tmp / 'mlops.db'}")
    mlops.set_artifact_uri(str(tmp / "artifacts"))
    return mlops


def _mlflow_fluent(tmp: Path) -> Any:
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    return mlflow


def _mlflow_experiment(mlflow: Any, tmp: Path, name: str) -> str:
    """An experiment whose artifacts go to the temporary folder (not ./mlruns)."""
    client = mlflow.MlflowClient()
    exp_id: str = client.create_experiment(name, artifact_location=(tmp / "mlflow-artifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


# ====================================================================== W1
def mlops_w1(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W1 on mlops: default buffered mode (durable at flush) and ``synchronous=True``."""
    mlops = _mlops_fluent(tmp)
    n = int(params.get("n", WORKLOADS["W1"]["n"]))
    run = mlops.start_run(run_name="w1")
    log_metric = mlops.log_metric
    start = time.perf_counter()
    for i in range(n):
        log_metric("loss", i * 0.5, step=i)
    returned = time.perf_counter()
    mlops.flush()
    durable = time.perf_counter()
    mlops.end_run()
    ended = time.perf_counter()
    stored = len(mlops.get_metric_history(run.run_id, "loss"))

    sync_n = int(params.get("sync_n", WORKLOADS["W1"]["sync_n"]))
    mlops.start_run(run_name="w1-sync")
    sync_start = time.perf_counter()
    for i in range(sync_n):
        log_metric("loss", i * 0.5, step=i, synchronous=True)
    sync_s = time.perf_counter() - sync_start
    mlops.end_run()
    return {
        "n": n,
        "durable_points_per_s": n / (durable - start),
        "us_per_call": (returned - start) / n * 1e6,
        "flush_after_loop_s": durable - returned,
        "end_run_s": ended - durable,
        "stored_points": stored,
        "sync_n": sync_n,
        "sync_points_per_s": sync_n / sync_s,
    }


def mlflow_w1(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W1 on MLflow in one mode: ``sync``, ``async`` (``synchronous=False``) or ``async_buffered``.

    ``async_buffered`` needs ``MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS=1`` in the environment before
    MLflow is imported; the parent sets it.
    """
    mlflow = _mlflow_fluent(tmp)
    mode = params["mode"]
    n = int(params.get("n", WORKLOADS["W1"]["mlflow_n"]))
    _mlflow_experiment(mlflow, tmp, "w1")
    run = mlflow.start_run(run_name=f"w1-{mode}")
    synchronous = mode == "sync"
    start = time.perf_counter()
    for i in range(n):
        mlflow.log_metric("loss", i * 0.5, step=i, synchronous=synchronous)
    returned = time.perf_counter()
    if not synchronous:
        mlflow.flush_async_logging()
    durable = time.perf_counter()
    mlflow.end_run()
    stored = len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss"))
    return {
        "mode": mode,
        "n": n,
        "durable_points_per_s": n / (durable - start),
        "us_per_call": (returned - start) / n * 1e6,
        "stored_points": stored,
    }


# ====================================================================== W2
def _w2_data(keys: int, steps: int) -> list[tuple[str, float, int]]:
    rng = random.Random(2)
    return [(f"k{k}", rng.random(), s) for s in range(steps) for k in range(keys)]


def mlops_w2(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W2 on mlops: one ``Client.log_batch`` call with every point, and ``log_metrics`` per step."""
    mlops = _mlops_fluent(tmp)
    from mlops.entities import Metric, now_ms

    keys, steps = int(params.get("keys", 100)), int(params.get("steps", 1_000))
    data = _w2_data(keys, steps)
    stamp = now_ms()
    client = mlops.get_client()
    exp = client.get_or_create_experiment("w2").experiment_id

    run = client.create_run(exp, run_name="w2-batch")
    metrics = [Metric(k, v, stamp, s) for k, v, s in data]
    start = time.perf_counter()
    client.log_batch(run.run_id, metrics=metrics)
    returned = time.perf_counter()
    client.flush()
    batch_s = time.perf_counter() - start
    batch_caller_s = returned - start
    client.end_run(run.run_id)
    batch_stored = sum(len(client.get_metric_history(run.run_id, f"k{k}")) for k in range(keys))

    per_step = [{f"k{k}": data[s * keys + k][1] for k in range(keys)} for s in range(steps)]
    run2 = mlops.start_run(run_name="w2-log-metrics", experiment_id=exp)
    start = time.perf_counter()
    for s, values in enumerate(per_step):
        mlops.log_metrics(values, step=s)
    mlops.flush()
    per_step_s = time.perf_counter() - start
    mlops.end_run()
    per_step_stored = sum(len(client.get_metric_history(run2.run_id, f"k{k}")) for k in range(keys))
    return {
        "points": len(data),
        "log_batch_calls": 1,
        "log_batch_points_per_s": len(data) / batch_s,
        "log_batch_caller_s": batch_caller_s,
        "log_batch_stored": batch_stored,
        "log_metrics_points_per_s": len(data) / per_step_s,
        "log_metrics_stored": per_step_stored,
    }


def mlflow_w2(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W2 on MLflow: ``MlflowClient.log_batch`` in chunks of 1,000 (its limit) and ``log_metrics``."""
    mlflow = _mlflow_fluent(tmp)
    from mlflow.entities import Metric

    keys, steps = int(params.get("keys", 100)), int(params.get("steps", 1_000))
    data = _w2_data(keys, steps)
    stamp = int(time.time() * 1000)
    exp = _mlflow_experiment(mlflow, tmp, "w2")
    client = mlflow.MlflowClient()

    run = client.create_run(exp, run_name="w2-batch")
    metrics = [Metric(k, v, stamp, s) for k, v, s in data]
    chunk = 1_000
    start = time.perf_counter()
    for i in range(0, len(metrics), chunk):
        client.log_batch(run.info.run_id, metrics=metrics[i : i + chunk])
    batch_s = time.perf_counter() - start
    client.set_terminated(run.info.run_id)
    batch_stored = sum(len(client.get_metric_history(run.info.run_id, f"k{k}")) for k in range(keys))

    per_step = [{f"k{k}": data[s * keys + k][1] for k in range(keys)} for s in range(steps)]
    run2 = mlflow.start_run(run_name="w2-log-metrics", experiment_id=exp)
    start = time.perf_counter()
    for s, values in enumerate(per_step):
        mlflow.log_metrics(values, step=s)
    per_step_s = time.perf_counter() - start
    mlflow.end_run()
    per_step_stored = sum(len(client.get_metric_history(run2.info.run_id, f"k{k}")) for k in range(keys))
    return {
        "points": len(data),
        "log_batch_calls": math.ceil(len(data) / chunk),
        "log_batch_points_per_s": len(data) / batch_s,
        "log_batch_stored": batch_stored,
        "log_metrics_points_per_s": len(data) / per_step_s,
        "log_metrics_stored": per_step_stored,
    }


# ====================================================================== W3
def _w3_data(runs: int, seed: int = 3) -> list[tuple[dict[str, str], dict[str, float]]]:
    rng = random.Random(seed)
    return [
        ({f"p{j}": rng.choice("abc") for j in range(10)}, {f"m{j}": rng.random() for j in range(10)})
        for _ in range(runs)
    ]


def _w3_expected(data: list[tuple[dict[str, str], dict[str, float]]]) -> tuple[int, float]:
    """Rows the filter must return and the ``m1`` of the first row (ordered by m1 descending)."""
    hits = [m["m1"] for p, m in data if m["m0"] > 0.5 and p["p1"] == "a"]
    return len(hits), max(hits)


def _w3_search_figures(
    search: Callable[..., Any], exp: str, repeat: int, expected: tuple[int, float]
) -> dict[str, Any]:
    cold, filtered_s, frame = _timed(lambda: search([exp], FILTER, ORDER_BY), repeat)
    first_m1 = float(frame["metrics.m1"].iloc[0]) if len(frame) else math.nan
    all_cold, all_s, everything = _timed(lambda: search([exp], "", []), repeat)
    return {
        "filtered_search_s": filtered_s,
        "filtered_search_first_call_s": cold,
        "filtered_rows": len(frame),
        "filtered_rows_ok": len(frame) == expected[0] and first_m1 == expected[1],
        "all_search_s": all_s,
        "all_search_first_call_s": all_cold,
        "all_rows": len(everything),
        "all_columns": len(everything.columns),
    }


def mlops_w3(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W3 on mlops through the fluent API (``with start_run(): log_params; log_metrics``)."""
    mlops = _mlops_fluent(tmp)
    runs = int(params.get("runs", WORKLOADS["W3"]["runs"]))
    repeat = int(params.get("search_repeat", WORKLOADS["W3"]["search_repeat"]))
    data = _w3_data(runs)
    exp = mlops.set_experiment("w3").experiment_id
    start = time.perf_counter()
    for run_params, run_metrics in data:
        with mlops.start_run():
            mlops.log_params(run_params)
            mlops.log_metrics(run_metrics)
    create_s = time.perf_counter() - start

    def search(ids: list[str], filter_string: str, order_by: list[str]) -> Any:
        return mlops.search_runs(ids, filter_string, order_by=order_by)

    figures = {"runs": runs, "create_runs_per_s": runs / create_s}
    figures.update(_w3_search_figures(search, exp, repeat, _w3_expected(data)))
    return figures


def floor_w3(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """The floor of W3's create phase: the statements and transactions mlops runs per run, issued
    through ``sqlite3`` directly (no library code) on the same schema and settings.

    Per run: (1) take the write lock, read the experiment, insert the run and its 5 system tags;
    (2) take the write lock, read the run's state and params, insert 10 params; (3) read the run's
    state, insert 10 history chunks (one point each) and upsert 10 latest values, set the end status (``with
    start_run()`` does not read the ended run back). Three commits, as the client does.
    """
    import sqlite3
    import uuid

    from mlops.store.sql.tracking import SqlTrackingStore

    runs = int(params.get("runs", WORKLOADS["W3"]["runs"]))
    path = tmp / "floor.db"
    store = SqlTrackingStore(f"sqlite:///{path}")  # the schema and indexes mlops uses
    exp = store.create_experiment("w3", artifact_location=(tmp / "artifacts").as_uri())
    store.db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "busy_timeout=60000", "synchronous=NORMAL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    tags = [("mlops.user", "u"), ("mlops.source.name", "/x.py"), ("mlops.source.git.commit", "c" * 40)]
    tags += [("mlops.source.git.dirty", "false"), ("mlops.source.git.branch", "main")]
    upsert = (
        "INSERT INTO latest_metrics (run_num, key, step, timestamp, value, is_nan, value_bits) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (run_num, key) DO UPDATE SET step = excluded.step, "
        "timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan, "
        "value_bits = excluded.value_bits WHERE excluded.step > latest_metrics.step OR "
        "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)"
    )
    start = time.perf_counter()
    for run_params, run_metrics in _w3_data(runs):
        run_id, now = uuid.uuid4().hex, int(time.time() * 1000)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?", (exp,)
        )
        num = conn.execute(
            "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time, "
            "lifecycle_stage, artifact_uri, user_id, parent_run_id, heartbeat_time) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING run_num",
            (run_id, exp, "r", "RUNNING", now, None, "active", "file:///a", "u", None, now),
        ).fetchone()[0]
        conn.executemany(
            "INSERT INTO tags (run_num, key, value) VALUES (?,?,?)", [(num, k, v) for k, v in tags]
        )
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        state = "SELECT status, lifecycle_stage, run_num FROM runs WHERE run_id = ?"
        conn.execute(state, (run_id,)).fetchone()
        conn.execute("SELECT key, value FROM params WHERE run_num = ?", (num,)).fetchall()
        conn.executemany(
            "INSERT INTO params (run_num, key, value) VALUES (?,?,?)",
            [(num, k, v) for k, v in run_params.items()],
        )
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        conn.execute(state, (run_id,)).fetchone()
        conn.executemany(  # one history chunk per key: the run's one point of it
            "INSERT INTO metric_chunks (run_num, key, points, step_bytes, timestamp_bytes, value_bytes) "
            "VALUES (?,?,?,?,?,?)",
            [(num, k, 1, _int64(0), _int64(now), _bits(v)) for k, v in run_metrics.items()],
        )
        conn.executemany(upsert, [(num, k, 0, now, v, False, _bits(v)) for k, v in run_metrics.items()])
        conn.execute("UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?", ("FINISHED", now, run_id))
        conn.execute("COMMIT")
    create_s = time.perf_counter() - start
    conn.close()
    return {"runs": runs, "create_runs_per_s": runs / create_s, "commits_per_run": 3}


def mlops_w3_big(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W3's filtered search over 100,000 runs; the runs are bulk-inserted into the store's own tables.

    One run is created through the client (for its system tags); the rest are written by ``executemany``
    on the store's SQLAlchemy connection, one transaction, with the same rows the client would write
    (run, 10 params, the run's tags, 10 latest metrics and 10 history points).
    """
    import uuid

    mlops = _mlops_fluent(tmp)
    runs = int(params.get("big_runs", WORKLOADS["W3"]["big_runs"]))
    repeat = int(params.get("search_repeat", 3))
    data = _w3_data(runs)
    exp = mlops.set_experiment("w3-big").experiment_id
    with mlops.start_run() as first:
        mlops.log_params(data[0][0])
        mlops.log_metrics(data[0][1])
    client = mlops.get_client()
    template = client.get_run(first.run_id)
    start = time.perf_counter()
    now = int(time.time() * 1000)
    run_rows, param_rows, tag_rows, latest_rows, metric_rows = [], [], [], [], []
    for i, (run_params, run_metrics) in enumerate(data[1:], start=1):
        run_id = uuid.uuid4().hex
        stamp = now + i
        run_rows.append(
            (
                run_id,
                exp,
                f"bulk-{i}",
                "FINISHED",
                stamp,
                stamp + 1,
                "active",
                f"{tmp}/artifacts/{run_id}",
                template.user_id,
                None,
                stamp,
            )
        )
        param_rows += [(run_id, k, v) for k, v in run_params.items()]
        tag_rows += [(run_id, k, v) for k, v in template.tags.items()]
        latest_rows += [(run_id, k, 0, stamp, v, False, _bits(v)) for k, v in run_metrics.items()]
        metric_rows.append((run_id, run_metrics, stamp))

    def bulk(conn: Any) -> None:
        conn.exec_driver_sql(
            "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time, "
            "lifecycle_stage, artifact_uri, user_id, parent_run_id, heartbeat_time) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            run_rows,
        )
        nums = dict(conn.exec_driver_sql("SELECT run_id, run_num FROM runs").all())
        conn.exec_driver_sql(
            "INSERT INTO params (run_num, key, value) VALUES (?,?,?)", [(nums[r], *x) for r, *x in param_rows]
        )
        conn.exec_driver_sql(
            "INSERT INTO tags (run_num, key, value) VALUES (?,?,?)", [(nums[r], *x) for r, *x in tag_rows]
        )
        conn.exec_driver_sql(
            "INSERT INTO latest_metrics (run_num, key, step, timestamp, value, is_nan, value_bits) "
            "VALUES (?,?,?,?,?,?,?)",
            [(nums[r], *x) for r, *x in latest_rows],
        )
        conn.exec_driver_sql(
            "INSERT INTO metric_chunks (run_num, key, points, step_bytes, timestamp_bytes, value_bytes) "
            "VALUES (?,?,?,?,?,?)",
            [
                (nums[r], k, 1, _int64(0), _int64(t), _bits(v))
                for r, ms, t in metric_rows
                for k, v in ms.items()
            ],
        )

    client.store.db.run(bulk, read_first=False)
    create_s = time.perf_counter() - start
    expected = _w3_expected(data)
    # The set-up's millions of row tuples are not part of a searching process: drop them first.
    for rows in (run_rows, param_rows, tag_rows, latest_rows, metric_rows):
        rows.clear()
    del data
    gc.collect()

    def search(ids: list[str], filter_string: str, order_by: list[str]) -> Any:
        return mlops.search_runs(ids, filter_string, order_by=order_by)

    floor_once, floor_close = _w3_big_floor(client.store, exp)
    # The search and its floor alternate, so both see the same machine (the page cache and the
    # disk settle for minutes after the bulk insert).
    start = time.perf_counter()
    frame = search([exp], FILTER, ORDER_BY)
    cold = time.perf_counter() - start
    floor_once()
    ours, floor = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        frame = search([exp], FILTER, ORDER_BY)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        floor_once()
        floor.append(time.perf_counter() - start)
    floor_close()
    filtered_s = statistics.median(ours)
    return {
        "floor_statements_s": statistics.median(floor),
        "runs": runs,
        "created_via": "1 run through the client, the rest bulk-inserted with executemany on the store's "
        "own connection (client.store.db), one transaction, same rows as the client writes",
        "bulk_create_s": create_s,
        "filtered_search_s": filtered_s,
        "filtered_search_first_call_s": cold,
        "filtered_rows": len(frame),
        "filtered_rows_ok": len(frame) == expected[0] and float(frame["metrics.m1"].iloc[0]) == expected[1],
    }


def _w3_big_floor(store: Any, exp: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """The floor of the 100,000-run search: the statements mlops runs for it (the search query, then
    the params, tags and latest-metric reads of the selected runs), through ``sqlite3`` directly on
    a connection of its own, rows fetched and nothing else (no grouping, no DataFrame).

    Returns:
        ``(run once, close)``.
    """
    import sqlite3

    from mlops.store.sql.run_table import _SQLITE_READS, SEARCH_COLUMNS
    from mlops.store.sql.search import select_run_ids

    dialect = store.db.engine.dialect

    def driver_sql(statement: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)

    search_sql, names, values = driver_sql(
        select_run_ids("sqlite", [exp], FILTER, order_by=ORDER_BY, columns=SEARCH_COLUMNS)
    )
    reads = [driver_sql(_SQLITE_READS[kind]) for kind in ("params", "metrics", "tags")]  # not the fallback
    conn = sqlite3.connect(store.db.engine.url.database)
    for pragma in ("cache_size=-65536", "mmap_size=268435456"):  # as the store's connections
        conn.execute(f"PRAGMA {pragma}")

    def once() -> None:
        found = conn.execute(search_sql, tuple(values[n] for n in names)).fetchall()
        bound = {"run_nums": json.dumps([row[-1] for row in found]), "first_row": 0}
        for sql, read_names, _ in reads:
            conn.execute(sql, tuple(bound[n] for n in read_names)).fetchall()

    return once, conn.close


def mlflow_w3(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W3 on MLflow through its fluent API."""
    mlflow = _mlflow_fluent(tmp)
    runs = int(params.get("runs", WORKLOADS["W3"]["runs"]))
    repeat = int(params.get("search_repeat", WORKLOADS["W3"]["search_repeat"]))
    data = _w3_data(runs)
    exp = _mlflow_experiment(mlflow, tmp, "w3")
    start = time.perf_counter()
    for run_params, run_metrics in data:
        with mlflow.start_run():
            mlflow.log_params(run_params)
            mlflow.log_metrics(run_metrics)
    create_s = time.perf_counter() - start

    def search(ids: list[str], filter_string: str, order_by: list[str]) -> Any:
        return mlflow.search_runs(experiment_ids=ids, filter_string=filter_string, order_by=order_by)

    figures = {"runs": runs, "create_runs_per_s": runs / create_s}
    figures.update(_w3_search_figures(search, exp, repeat, _w3_expected(data)))
    return figures


# ====================================================================== W6
def _w6_worker(impl: str, uri: str, exp: str, points: int, barrier: Any, results: Any) -> None:
    """One W6 process: its own run, ``points`` calls of ``log_metric``, then end the run (flush)."""
    lib: Any
    if impl == "mlops":
        import mlops

        lib = mlops
        lib.set_tracking_uri(uri)
        lib.set_artifact_uri(str(Path(uri.removeprefix("sqlite:///")).parent / "artifacts"))
        run_id = lib.start_run(experiment_id=exp).run_id
    else:
        import logging

        import mlflow

        lib = mlflow
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        lib.set_tracking_uri(uri)
        run_id = lib.start_run(experiment_id=exp).info.run_id
    log_metric = lib.log_metric
    latencies = []
    errors = []
    barrier.wait()
    start = time.monotonic()
    for i in range(points):
        t = time.perf_counter()
        try:
            log_metric("loss", i * 0.5, step=i)
        except Exception as e:  # counted, not fatal: the figure is how many calls fail
            errors.append(repr(e))
        latencies.append(time.perf_counter() - t)
    try:
        lib.end_run()
    except Exception as e:
        errors.append(repr(e))
    end = time.monotonic()
    results.put({"run_id": run_id, "start": start, "end": end, "latencies": latencies, "errors": errors})


def _w6(impl: str, tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    import multiprocessing as mp

    procs = int(params.get("procs", WORKLOADS["W6"]["procs"]))
    points = int(params.get("points", WORKLOADS["W6"]["points"]))
    if impl == "mlops":
        lib = _mlops_fluent(tmp)
        uri = f"sqlite:///{tmp / 'mlops.db'}"
        exp = lib.set_experiment("w6").experiment_id
    else:
        lib = _mlflow_fluent(tmp)
        uri = f"sqlite:///{tmp / 'mlflow.db'}"
        exp = _mlflow_experiment(lib, tmp, "w6")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_w6_worker, args=(impl, uri, exp, points, barrier, results)) for _ in range(procs)
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    client = lib.get_client() if impl == "mlops" else lib.MlflowClient()
    stored = sum(len(client.get_metric_history(o["run_id"], "loss")) for o in outcomes)
    latencies = sorted(x for o in outcomes for x in o["latencies"])
    errors = [e for o in outcomes for e in o["errors"]]
    wall = max(o["end"] for o in outcomes) - min(o["start"] for o in outcomes)
    return {
        "processes": procs,
        "points": procs * points,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "lost": procs * points - stored,
        "aggregate_points_per_s": procs * points / wall,
        "wall_s": wall,
        "call_p50_ms": _percentile(latencies, 0.50) * 1e3,
        "call_p99_ms": _percentile(latencies, 0.99) * 1e3,
        "call_max_ms": latencies[-1] * 1e3,
    }


def mlops_w6(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W6 on mlops (fluent API, default buffered mode, ``end_run`` flushes)."""
    return _w6("mlops", tmp, params)


def mlflow_w6(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W6 on MLflow (fluent API, synchronous logging, its default)."""
    return _w6("mlflow", tmp, params)


# ====================================================================== W8
def w8_value(step: int) -> float:
    """The value the W8 logger logs at ``step`` (exact in binary floating point)."""
    return step * 0.25


def w8_logger(impl: str, mode: str, uri: str, progress: str, flush_every: int, rate: float) -> None:
    """The W8 child: log ``loss`` in a loop until killed.

    Prints ``{"run_id": ...}`` first, then ``F <step>`` after each ``flush()`` that returned (for
    MLflow in sync mode, after every call, each of which is durable when it returns). The last step
    whose ``log_metric`` returned is kept in the 8-byte file ``progress`` (memory-mapped: a store per
    point, no system call), so the parent can read it after the kill.

    Args:
        impl: ``mlops`` or ``mlflow``.
        mode: ``buffered`` (mlops default), ``sync`` or ``async`` (MLflow ``synchronous=False``).
        uri: the SQLite URI.
        progress: path of the progress file (created by the parent, 8 bytes).
        flush_every: call ``flush()`` every this many points (mlops).
        rate: points per second to pace the loop at (0: as fast as possible).
    """
    import mmap
    import struct

    if impl == "mlops":
        from mlops import Client

        client = Client(uri, artifact_uri=str(Path(progress).parent / "artifacts"))
        run_id = client.create_run(client.get_or_create_experiment("w8").experiment_id).run_id

        def log(step: int) -> None:
            client.log_metric(run_id, "loss", w8_value(step), step=step)

        flush: Callable[[], None] | None = client.flush
    else:
        import logging

        import mlflow

        logging.getLogger("mlflow").setLevel(logging.ERROR)
        mlflow.set_tracking_uri(uri)
        run_id = mlflow.start_run().info.run_id
        synchronous = mode == "sync"

        def log(step: int) -> None:
            mlflow.log_metric("loss", w8_value(step), step=step, synchronous=synchronous)

        flush = None
    print(json.dumps({"run_id": run_id}), flush=True)
    with open(progress, "r+b") as f:
        mem = mmap.mmap(f.fileno(), 8)
    pack = struct.Struct("<q").pack_into
    step = 0
    start = time.perf_counter()
    while True:
        log(step)
        pack(mem, 0, step)
        if impl == "mlflow" and mode == "sync":
            print(f"F {step}", flush=True)
        elif flush is not None and (step + 1) % flush_every == 0:
            flush()
            print(f"F {step}", flush=True)
        step += 1
        if rate and step % 100 == 0:
            ahead = step / rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)


def _sqlite_integrity(path: Path) -> str:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def kill_logger(
    impl: str,
    mode: str,
    db: Path,
    *,
    kill_after_s: float,
    flush_every: int,
    rate: float,
    python: str | None = None,
) -> dict[str, Any]:
    """Start :func:`w8_logger` in a child process, SIGKILL it after ``kill_after_s``; what it reported.

    Returns:
        ``run_id``, ``confirmed`` (the last step confirmed durable, -1 if none), ``last_logged`` (the
        last step whose call returned, -1 if none) and ``kill_time`` (epoch seconds).
    """
    progress = db.parent / f"progress-{impl}-{mode}.bin"
    progress.write_bytes(b"\xff" * 8)  # -1: nothing logged yet
    root = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
        "PYTHONWARNINGS": "ignore",
    }
    args = [impl, mode, f"sqlite:///{db}", str(progress), str(flush_every), str(rate)]
    child = subprocess.Popen(
        [python or sys.executable, "-m", MODULE, "--w8-logger", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    if not first.startswith("{"):
        child.kill()
        raise RuntimeError(
            f"W8 logger failed to start: {first!r} {child.stderr.read() if child.stderr else ''}"
        )
    run_id = json.loads(first)["run_id"]
    started = time.time()  # the child prints its run id just before its first point
    confirmed = [-1]

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("F "):
                confirmed[0] = int(line.split()[1])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(kill_after_s)
    kill_time = time.time()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reader.join(timeout=10)
    import struct

    last_logged = struct.unpack("<q", progress.read_bytes()[:8])[0]
    return {
        "run_id": run_id,
        "confirmed": confirmed[0],
        "last_logged": last_logged,
        "kill_time": kill_time,
        "started": started,
        "returncode": child.returncode,
    }


def _w8_mlops_case(
    tmp: Path, name: str, flush_every: int, rate: float, kill_after_s: float
) -> dict[str, Any]:
    import mlops

    db = tmp / f"w8-{name}.db"
    killed = kill_logger(
        "mlops", "buffered", db, kill_after_s=kill_after_s, flush_every=flush_every, rate=rate
    )
    integrity = _sqlite_integrity(db)
    reopen_start = time.perf_counter()
    client = mlops.Client(f"sqlite:///{db}", artifact_uri=str(tmp / "artifacts"))
    probe = client.create_run(client.get_or_create_experiment("w8").experiment_id, run_name="after-kill")
    client.log_metric(probe.run_id, "probe", 1.0)
    works = client.get_run(probe.run_id).metrics.get("probe") == 1.0
    client.end_run(probe.run_id)
    reopen_s = time.perf_counter() - reopen_start
    history = client.get_metric_history(killed["run_id"], "loss")
    steps = [m.step for m in history]
    stored_last = steps[-1] if steps else -1
    contiguous = steps == list(range(len(steps)))
    values_ok = all(m.value == w8_value(m.step) for m in history)
    confirmed = killed["confirmed"]
    lost_confirmed = sum(1 for s in range(confirmed + 1)) - sum(1 for s in steps if s <= confirmed)
    lost = killed["last_logged"] - stored_last
    # the lost points were logged after the last stored one (or after the loop started, if none is stored)
    span = killed["kill_time"] - (history[-1].timestamp / 1000 if history else killed["started"])
    heartbeat = client.store.get_run(killed["run_id"]).heartbeat_time or 0
    stale_after_s = 1.0
    while time.time() - heartbeat / 1000 <= stale_after_s:  # the heartbeat must be older than the window
        time.sleep(0.05)
    marked = client.mark_dead_runs(stale_after_s=stale_after_s)
    status = client.store.get_run(killed["run_id"]).status
    client.close()
    return {
        f"{name}_rate_points_per_s": rate or None,
        f"{name}_logged": killed["last_logged"] + 1,
        f"{name}_confirmed": confirmed + 1,
        f"{name}_stored": len(steps),
        f"{name}_lost_confirmed": lost_confirmed,
        f"{name}_lost_unconfirmed": lost,
        f"{name}_lost_span_s": span,
        f"{name}_history_contiguous_and_exact": contiguous and values_ok,
        f"{name}_integrity_check": integrity,
        f"{name}_reopen_and_write_ok": works,
        f"{name}_reopen_s": reopen_s,
        f"{name}_killed_run_status": status,
        f"{name}_marked_dead": killed["run_id"] in marked,
    }


def mlops_w8(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W8 on mlops: a tight loop (worst case) and a loop paced at ``paced_rate`` points/s."""
    spec = WORKLOADS["W8"]
    kill_after_s = float(params.get("kill_after_s", spec["kill_after_s"]))
    flush_every = int(params.get("flush_every", spec["flush_every"]))
    figures: dict[str, Any] = {
        "flush_every": flush_every,
        "flush_interval_s": 0.5,
        "batch_size": 50_000,
        "mark_dead_runs_stale_after_s": 1.0,
        "heartbeat_interval_s": "10 (MetricWriter default; Client does not expose it)",
    }
    figures.update(_w8_mlops_case(tmp, "tight", flush_every, 0.0, kill_after_s))
    figures.update(
        _w8_mlops_case(
            tmp, "paced", flush_every, float(params.get("paced_rate", spec["paced_rate"])), kill_after_s
        )
    )
    return figures


def mlflow_w8(tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """W8 on MLflow: synchronous logging and ``synchronous=False``; then reopen the store."""
    kill_after_s = float(params.get("kill_after_s", WORKLOADS["W8"]["kill_after_s"]))
    figures: dict[str, Any] = {}
    for mode in ("sync", "async"):
        db = tmp / f"w8-{mode}.db"
        killed = kill_logger("mlflow", mode, db, kill_after_s=kill_after_s, flush_every=1, rate=0.0)
        integrity = _sqlite_integrity(db)
        mlflow = _mlflow_fluent(tmp)
        mlflow.set_tracking_uri(f"sqlite:///{db}")
        client = mlflow.MlflowClient()
        steps = sorted(m.step for m in client.get_metric_history(killed["run_id"], "loss"))
        # Every stored point's call returned, whatever the progress file last showed (a rare lag seen
        # at high load made the lost fraction negative).
        returned = max(killed["last_logged"] + 1, len(steps))
        with mlflow.start_run(run_name="after-kill") as probe:
            mlflow.log_metric("probe", 1.0)
        works = client.get_run(probe.info.run_id).data.metrics.get("probe") == 1.0
        figures.update(
            {
                f"{mode}_returned_calls": returned,
                f"{mode}_stored": len(steps),
                f"{mode}_lost_confirmed": sum(1 for s in range(killed["confirmed"] + 1))
                - sum(1 for s in steps if s <= killed["confirmed"]),
                f"{mode}_lost_returned_fraction": (returned - len(steps)) / returned
                if returned
                else math.nan,
                f"{mode}_integrity_check": integrity,
                f"{mode}_reopen_and_write_ok": works,
                f"{mode}_killed_run_status": client.get_run(killed["run_id"]).info.status,
            }
        )
    return figures


# ====================================================================== child dispatch
CHILDREN: dict[tuple[str, str], Callable[[Path, dict[str, Any]], dict[str, Any]]] = {
    ("mlops", "W1"): mlops_w1,
    ("mlflow", "W1"): mlflow_w1,
    ("mlops", "W2"): mlops_w2,
    ("mlflow", "W2"): mlflow_w2,
    ("mlops", "W3"): mlops_w3,
    ("mlops", "W3big"): mlops_w3_big,
    ("floor", "W3"): floor_w3,
    ("mlflow", "W3"): mlflow_w3,
    ("mlops", "W6"): mlops_w6,
    ("mlflow", "W6"): mlflow_w6,
    ("mlops", "W8"): mlops_w8,
    ("mlflow", "W8"): mlflow_w8,
}


def child_main(impl: str, wid: str, params_json: str) -> None:
    """Measure one workload on one implementation in this (fresh) process; print its figures as JSON."""
    params = json.loads(params_json)
    with tempfile.TemporaryDirectory(prefix=f"bench-{impl}-{wid}-") as tmp:
        figures = CHILDREN[(impl, wid)](Path(tmp), params)
    print(json.dumps(figures), flush=True)


# ====================================================================== parent side
def find_mlflow_python(explicit: str | None = None) -> str | None:
    """The interpreter that runs the MLflow side, or None when MLflow is not available.

    Order: ``explicit``, ``$MLOPS_BENCH_MLFLOW_PYTHON``, then this interpreter if it can import mlflow.
    """
    import importlib.util

    candidate = explicit or os.environ.get("MLOPS_BENCH_MLFLOW_PYTHON")
    if candidate:
        ok = (
            subprocess.run([candidate, "-c", "import mlflow"], capture_output=True, check=False).returncode
            == 0
        )
        return candidate if ok else None
    return sys.executable if importlib.util.find_spec("mlflow") is not None else None


def mlflow_version(python: str | None) -> str | None:
    """MLflow's version in ``python`` (None without MLflow)."""
    if python is None:
        return None
    out = subprocess.run(
        [python, "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or None


def _measure(
    impl: str,
    wid: str,
    repeat: int,
    params: dict[str, Any],
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    args = ["--child", impl, wid, json.dumps(params)]
    return median_figures(run_child(MODULE, args, python=python, env=env) for _ in range(repeat))


def _ratio(ours: Any, theirs: Any, *, higher_is_better: bool = True) -> float | None:
    """mlops's speed-up over MLflow (> 1: mlops is faster), or None when a figure is missing."""
    if not isinstance(ours, (int, float)) or not isinstance(theirs, (int, float)) or not ours or not theirs:
        return None
    return ours / theirs if higher_is_better else theirs / ours


def _row(
    figure: str, ours: Any, theirs: Any, ratio: float | None, target: str, met: bool | None
) -> dict[str, Any]:
    return {"figure": figure, "mlops": ours, "mlflow": theirs, "ratio": ratio, "target": target, "met": met}


def _line(
    wid: str,
    ours: dict[str, Any],
    theirs: dict[str, Any] | None,
    ratio: Any,
    rows: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    checks = [r["met"] for r in rows if r["met"] is not None]
    line = {
        "workload": wid,
        "what": WORKLOADS[wid]["what"],
        "mlops": ours,
        "mlflow": theirs,
        "ratio": ratio,
        "target": WORKLOADS[wid]["target"],
        "met": bool(checks) and all(checks) and "error" not in ours,
        "summary": rows,
    }
    line.update(extra or {})
    return line


def _get(figures: dict[str, Any] | None, key: str) -> Any:
    return None if figures is None else figures.get(key)


def run_w1(repeat: int, mlflow_py: str | None, quick: bool) -> dict[str, Any]:
    """W1: mlops default and synchronous modes; MLflow sync, async and async with 1 s buffering."""
    ours = _measure("mlops", "W1", repeat, {})
    theirs: dict[str, Any] | None = None
    if mlflow_py:
        full = WORKLOADS["W1"]["mlflow_n"]
        n = 2_000 if quick else full  # the slow modes; the buffered mode always gets the full N: its
        # durable rate depends on N (the last second of buffering is a fixed cost)
        theirs = {
            "sync": _measure("mlflow", "W1", repeat, {"mode": "sync", "n": n}, mlflow_py),
            "async": _measure("mlflow", "W1", repeat, {"mode": "async", "n": n}, mlflow_py),
            "async_buffered_1s": _measure(
                "mlflow",
                "W1",
                repeat,
                {"mode": "async_buffered", "n": full},
                mlflow_py,
                env={"MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS": "1"},
            ),
        }
        rates = {m: f.get("durable_points_per_s") for m, f in theirs.items() if "durable_points_per_s" in f}
        if rates:
            best = max(rates, key=lambda m: rates[m] or 0)
            theirs["best_mode"] = best
            theirs["best_durable_points_per_s"] = rates[best]
    durable = ours.get("durable_points_per_s")
    best_rate = _get(theirs, "best_durable_points_per_s")
    ratio = _ratio(durable, best_rate)
    sync_ratio = _ratio(ours.get("sync_points_per_s"), _get(_get(theirs, "sync"), "durable_points_per_s"))
    rows = [
        _row(
            "durable points/s (default mode)",
            durable,
            best_rate,
            ratio,
            ">= 150,000",
            durable is not None and durable >= 150_000,
        ),
        _row(
            "  ... vs MLflow's best mode",
            durable,
            best_rate,
            ratio,
            ">= 25x",
            None if ratio is None else ratio >= 25,
        ),
        _row(
            "us per call, caller thread",
            ours.get("us_per_call"),
            _get(_get(theirs, "async_buffered_1s"), "us_per_call"),
            _ratio(
                ours.get("us_per_call"),
                _get(_get(theirs, "async_buffered_1s"), "us_per_call"),
                higher_is_better=False,
            ),
            "<= 3 us",
            _le(ours.get("us_per_call"), 3.0),
        ),
        _row(
            "synchronous=True points/s",
            ours.get("sync_points_per_s"),
            _get(_get(theirs, "sync"), "durable_points_per_s"),
            sync_ratio,
            ">= 5,000",
            _ge(ours.get("sync_points_per_s"), 5_000),
        ),
        _row(
            "stored = logged",
            ours.get("stored_points"),
            None,
            None,
            "100,000",
            ours.get("stored_points") == ours.get("n"),
        ),
    ]
    return _line("W1", ours, theirs, ratio, rows, {"ratios": {"durable_vs_best": ratio, "sync": sync_ratio}})


def _ge(value: Any, bound: float) -> bool:
    return isinstance(value, (int, float)) and value >= bound


def _le(value: Any, bound: float) -> bool:
    return isinstance(value, (int, float)) and value <= bound


def run_w2(repeat: int, mlflow_py: str | None, quick: bool) -> dict[str, Any]:
    """W2: 100 x 1,000 points through the batch API."""
    ours = _measure("mlops", "W2", repeat, {})
    theirs = _measure("mlflow", "W2", 1 if quick else repeat, {}, mlflow_py) if mlflow_py else None
    ratio = _ratio(ours.get("log_batch_points_per_s"), _get(theirs, "log_batch_points_per_s"))
    per_step = _ratio(ours.get("log_metrics_points_per_s"), _get(theirs, "log_metrics_points_per_s"))
    rows = [
        _row(
            "log_batch points/s (one call)",
            ours.get("log_batch_points_per_s"),
            _get(theirs, "log_batch_points_per_s"),
            ratio,
            ">= 200,000",
            _ge(ours.get("log_batch_points_per_s"), 200_000),
        ),
        _row(
            "log_metrics per step points/s",
            ours.get("log_metrics_points_per_s"),
            _get(theirs, "log_metrics_points_per_s"),
            per_step,
            "(info)",
            None,
        ),
        _row(
            "stored = logged",
            ours.get("log_batch_stored"),
            _get(theirs, "log_batch_stored"),
            None,
            "100,000",
            ours.get("log_batch_stored") == ours.get("points") == ours.get("log_metrics_stored"),
        ),
    ]
    return _line("W2", ours, theirs, ratio, rows, {"ratios": {"log_batch": ratio, "log_metrics": per_step}})


def run_w3(repeat: int, mlflow_py: str | None, quick: bool) -> dict[str, Any]:
    """W3: create 2,000 runs, filtered search and search all; filtered search over 100,000 runs."""
    ours = _measure("mlops", "W3", repeat, {})
    floor = _measure("floor", "W3", repeat, {})
    big = _measure("mlops", "W3big", 1, {})
    theirs = _measure("mlflow", "W3", 1 if quick else repeat, {}, mlflow_py) if mlflow_py else None
    ratios = {
        "create": _ratio(ours.get("create_runs_per_s"), _get(theirs, "create_runs_per_s")),
        "filtered_search": _ratio(
            ours.get("filtered_search_s"), _get(theirs, "filtered_search_s"), higher_is_better=False
        ),
        "all_search": _ratio(ours.get("all_search_s"), _get(theirs, "all_search_s"), higher_is_better=False),
    }
    rows = [
        _row(
            "create runs/s",
            ours.get("create_runs_per_s"),
            _get(theirs, "create_runs_per_s"),
            ratios["create"],
            ">= 1,000",
            _ge(ours.get("create_runs_per_s"), 1_000),
        ),
        _row(
            "  ... vs raw sqlite3, same statements (floor)",
            ours.get("create_runs_per_s"),
            floor.get("create_runs_per_s"),
            _ratio(ours.get("create_runs_per_s"), floor.get("create_runs_per_s")),
            "(info)",
            None,
        ),
        _row(
            "filtered search -> DataFrame (s)",
            ours.get("filtered_search_s"),
            _get(theirs, "filtered_search_s"),
            ratios["filtered_search"],
            "<= 0.025 s",
            _le(ours.get("filtered_search_s"), 0.025),
        ),
        _row(
            "search all 2,000 -> DataFrame (s)",
            ours.get("all_search_s"),
            _get(theirs, "all_search_s"),
            ratios["all_search"],
            "<= 0.150 s",
            _le(ours.get("all_search_s"), 0.150),
        ),
        _row(
            "  ... vs MLflow",
            ours.get("all_search_s"),
            _get(theirs, "all_search_s"),
            ratios["all_search"],
            ">= 10x",
            None if ratios["all_search"] is None else ratios["all_search"] >= 10,
        ),
        _row(
            "results right (rows, order)",
            ours.get("filtered_rows"),
            _get(theirs, "filtered_rows"),
            None,
            "same rows",
            bool(ours.get("filtered_rows_ok")),
        ),
    ]
    if big is not None:
        rows.append(
            _row(
                "filtered search, 100,000 runs (s)",
                big.get("filtered_search_s"),
                None,
                None,
                "<= 0.5 s",
                _le(big.get("filtered_search_s"), 0.5),
            )
        )
        rows.append(
            _row(
                "  ... its statements alone through sqlite3 (floor, s)",
                big.get("filtered_search_s"),
                big.get("floor_statements_s"),
                _ratio(big.get("floor_statements_s"), big.get("filtered_search_s")),
                "(info)",
                None,
            )
        )
    extra = {"ratios": ratios, "mlops_100k": big, "floor_create": floor}
    return _line("W3", ours, theirs, ratios["all_search"], rows, extra)


def run_w6(repeat: int, mlflow_py: str | None, quick: bool) -> dict[str, Any]:
    """W6: 8 processes logging to one SQLite file at once."""
    ours = _measure("mlops", "W6", repeat, {})
    theirs = (
        _measure("mlflow", "W6", 1 if quick else repeat, {"points": 250} if quick else {}, mlflow_py)
        if mlflow_py
        else None
    )
    ratio = _ratio(ours.get("aggregate_points_per_s"), _get(theirs, "aggregate_points_per_s"))
    rows = [
        _row("errors", ours.get("errors"), _get(theirs, "errors"), None, "0", ours.get("errors") == 0),
        _row("lost points", ours.get("lost"), _get(theirs, "lost"), None, "0", ours.get("lost") == 0),
        _row(
            "aggregate points/s",
            ours.get("aggregate_points_per_s"),
            _get(theirs, "aggregate_points_per_s"),
            ratio,
            ">= 50,000",
            _ge(ours.get("aggregate_points_per_s"), 50_000),
        ),
        _row(
            "call p99 (ms)",
            ours.get("call_p99_ms"),
            _get(theirs, "call_p99_ms"),
            _ratio(ours.get("call_p99_ms"), _get(theirs, "call_p99_ms"), higher_is_better=False),
            "<= 1 ms",
            _le(ours.get("call_p99_ms"), 1.0),
        ),
        _row("call max (ms)", ours.get("call_max_ms"), _get(theirs, "call_max_ms"), None, "(info)", None),
    ]
    return _line("W6", ours, theirs, ratio, rows)


def run_w8(repeat: int, mlflow_py: str | None, quick: bool) -> dict[str, Any]:
    """W8: SIGKILL during logging, then reopen the store."""
    ours = _measure("mlops", "W8", repeat, {})
    theirs = _measure("mlflow", "W8", 1 if quick else repeat, {}, mlflow_py) if mlflow_py else None
    rows = []
    for case in ("tight", "paced"):
        rows += [
            _row(
                f"{case}: integrity_check / reopen+write",
                ours.get(f"{case}_integrity_check"),
                _get(theirs, "sync_integrity_check"),
                None,
                "ok, works",
                ours.get(f"{case}_integrity_check") == "ok" and bool(ours.get(f"{case}_reopen_and_write_ok")),
            ),
            _row(
                f"{case}: confirmed points lost",
                ours.get(f"{case}_lost_confirmed"),
                _get(theirs, "sync_lost_confirmed"),
                None,
                "0",
                ours.get(f"{case}_lost_confirmed") == 0,
            ),
            _row(
                f"{case}: unconfirmed lost (points)",
                ours.get(f"{case}_lost_unconfirmed"),
                _get(theirs, "async_lost_returned_fraction"),
                None,
                "(info; MLflow: async fraction)",
                None,
            ),
            _row(
                f"{case}: lost span (s)",
                ours.get(f"{case}_lost_span_s"),
                None,
                None,
                "<= 0.5 s + 1 batch (1 s)",
                _le(ours.get(f"{case}_lost_span_s"), 1.0),
            ),
            _row(
                f"{case}: killed run status",
                ours.get(f"{case}_killed_run_status"),
                _get(theirs, "sync_killed_run_status"),
                None,
                "KILLED",
                ours.get(f"{case}_killed_run_status") == "KILLED",
            ),
        ]
    return _line("W8", ours, theirs, None, rows)


RUNNERS: dict[str, Callable[[int, str | None, bool], dict[str, Any]]] = {
    "W1": run_w1,
    "W2": run_w2,
    "W3": run_w3,
    "W6": run_w6,
    "W8": run_w8,
}


def run_workload(
    wid: str, repeat: int = 3, mlflow_python: str | None = None, quick: bool = False
) -> dict[str, Any]:
    """Measure one workload on mlops (and MLflow when ``mlflow_python`` is given); the JSON line's dict."""
    line = RUNNERS[wid](repeat, mlflow_python, quick)
    from benchmarks._harness import load_average

    line["repeat"] = repeat
    line["load_average_after"] = load_average()
    return line


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Command line: ``python -m benchmarks.tracking [W1 W3 ...] [--repeat N] [--mlflow-python PATH]``.

    Prints one JSON line per workload and returns them.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        child_main(args[1], args[2], args[3])
        return []
    if args[:1] == ["--w8-logger"]:
        impl, mode, uri, progress, flush_every, rate = args[1:7]
        w8_logger(impl, mode, uri, progress, int(flush_every), float(rate))
        return []
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tracking", description=__doc__.splitlines()[0]
    )
    parser.add_argument("workloads", nargs="*", help="ids (default: all of " + ", ".join(RUNNERS) + ")")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per figure; medians are reported")
    parser.add_argument("--mlflow-python", default=None, help="interpreter that can import mlflow")
    parser.add_argument("--no-mlflow", action="store_true", help="measure mlops only")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="MLflow: W1 N=2,000, W6 250 points/process, one repeat of W2, W3, W6, W8",
    )
    opts = parser.parse_args(args)
    unknown = [w for w in opts.workloads if w not in RUNNERS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(RUNNERS)}")
    mlflow_py = None if opts.no_mlflow else find_mlflow_python(opts.mlflow_python)
    lines = []
    for wid in opts.workloads or list(RUNNERS):
        line = run_workload(wid, opts.repeat, mlflow_py, opts.quick)
        print(json.dumps(line), flush=True)
        lines.append(line)
    return lines


if __name__ == "__main__":
    main()
