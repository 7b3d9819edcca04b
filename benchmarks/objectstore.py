"""Benchmarks W1, W3 and W7 (``../shared/docs/BENCHMARKS.md``) on the object-store metadata store.

Run from the repository root::

    python -m benchmarks.objectstore                    # W1 W3 W7 on a local folder and the S3 server
    python -m benchmarks.objectstore W3 --backends file --runs 2000 --scale 1000 10000

Each measurement runs in a fresh child process on a fresh store. ``s3`` is moto's server, started by
this script on 127.0.0.1 as a subprocess (children reach it through ``AWS_ENDPOINT_URL_S3``): it is a
test double that handles one request at a time in ~10-20 ms, so S3 figures measure moto more than
the store. One JSON line per (workload, backend) is printed; ``W3scale`` adds search times over
larger experiments (runs written straight through the store API to save time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._harness import median_figures, run_child

MODULE = "benchmarks.objectstore"
FILTER = "metrics.m0 > 0.5 and params.p1 = 'a'"
ORDER_BY = ["metrics.m1 DESC"]
BUCKET = "mlops-bench"


def _uri(backend: str, tmp: Path) -> str:
    if backend == "file":
        return (tmp / "store").as_uri()
    return f"s3://{BUCKET}/{os.urandom(6).hex()}"


# ====================================================================== children
def w1(backend: str, tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """One run, ``log_metric`` one point per call through the buffered writer; time until durable."""
    from mlops import Client

    client = Client(_uri(backend, tmp), artifact_uri=(tmp / "artifacts").as_uri())
    exp = client.get_or_create_experiment("w1").experiment_id
    n = int(params["n"])
    run = client.create_run(exp, run_name="w1")
    start = time.perf_counter()
    for i in range(n):
        client.log_metric(run.run_id, "loss", i * 0.5, step=i)
    returned = time.perf_counter()
    client.flush()
    durable = time.perf_counter()
    client.end_run(run.run_id)
    stored = len(client.get_metric_history(run.run_id, "loss"))
    sync_n = int(params["sync_n"])
    sync_client = Client(client.tracking_uri, artifact_uri=client.artifact_uri, synchronous=True)
    sync_run = sync_client.create_run(exp, run_name="w1-sync")
    sync_start = time.perf_counter()
    for i in range(sync_n):
        sync_client.log_metric(sync_run.run_id, "loss", i * 0.5, step=i)
    sync_s = time.perf_counter() - sync_start
    sync_client.end_run(sync_run.run_id)
    return {
        "n": n,
        "durable_points_per_s": n / (durable - start),
        "us_per_call": (returned - start) / n * 1e6,
        "stored_points": stored,
        "sync_n": sync_n,
        "sync_points_per_s": sync_n / sync_s,
    }


def _w3_data(runs: int, seed: int = 3) -> list[tuple[dict[str, str], dict[str, float]]]:
    rng = random.Random(seed)
    return [
        ({f"p{j}": rng.choice("abc") for j in range(10)}, {f"m{j}": rng.random() for j in range(10)})
        for _ in range(runs)
    ]


def _timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    rest = sorted(times[1:] or times)
    return times[0], rest[len(rest) // 2], result


def w3(backend: str, tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Create runs with 10 params and 10 metrics through the client, then search them (filtered, all)."""
    from mlops import Client
    from mlops.store import open_tracking_store

    uri = _uri(backend, tmp)
    client = Client(uri, artifact_uri=(tmp / "artifacts").as_uri())
    runs = int(params["runs"])
    data = _w3_data(runs)
    exp = client.get_or_create_experiment("w3").experiment_id
    start = time.perf_counter()
    for run_params, run_metrics in data:
        run = client.create_run(exp)
        client.log_params(run.run_id, run_params)
        for key, value in run_metrics.items():
            client.log_metric(run.run_id, key, value)
        client.end_run(run.run_id)
    create_s = time.perf_counter() - start
    hits = [m["m1"] for p, m in data if m["m0"] > 0.5 and p["p1"] == "a"]
    figures: dict[str, Any] = {"runs": runs, "create_runs_per_s": runs / create_s}
    repeat = int(params.get("repeat", 5))
    cold, warm, frame = _timed(lambda: client.search_runs([exp], FILTER, order_by=ORDER_BY), repeat)
    figures.update(
        filtered_search_s=warm,
        filtered_search_first_call_s=cold,
        filtered_rows_ok=len(frame) == len(hits) and float(frame["metrics.m1"].iloc[0]) == max(hits),
    )
    cold, warm, frame = _timed(lambda: client.search_runs([exp]), repeat)
    figures.update(all_search_s=warm, all_rows=len(frame))
    # Another process's view: nothing cached, every run folded from its snapshot.
    fresh = open_tracking_store(uri)
    start = time.perf_counter()
    found = fresh.search_runs([exp], FILTER, order_by=ORDER_BY)
    figures.update(filtered_search_new_process_s=time.perf_counter() - start, fresh_rows=len(found))
    return figures


def w3_scale(backend: str, tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Search time as the experiment grows (runs written straight through the store API)."""
    from mlops.entities import Metric, Param
    from mlops.store import open_tracking_store

    uri = _uri(backend, tmp)
    store = open_tracking_store(uri)
    exp = store.create_experiment("scale", "memory://scale")
    figures: dict[str, Any] = {}
    made = 0
    rng = random.Random(7)
    for target in sorted(int(s) for s in params["scale"]):
        for _ in range(target - made):
            run = store.create_run(exp, run_name="r", start_time=made)
            store.log_batch(
                run.run_id,
                params=[Param(f"p{j}", rng.choice("abc")) for j in range(10)],
                metrics=[Metric(f"m{j}", rng.random(), 1, 0) for j in range(10)],
            )
            store.update_run(run.run_id, status="FINISHED", end_time=made)
            made += 1
        _, warm, _ = _timed(lambda: store.search_runs([exp], FILTER, order_by=ORDER_BY), 3)
        start = time.perf_counter()
        open_tracking_store(uri).search_runs([exp], FILTER, order_by=ORDER_BY)
        figures[f"search_{target}_runs_s"] = warm
        figures[f"search_{target}_runs_new_process_s"] = time.perf_counter() - start
    return figures


def _w7_worker(uri: str, name: str, barrier: Any, out: Any) -> None:
    from mlops.store import open_registry_store

    store = open_registry_store(uri)
    store.get_registered_model(name)
    barrier.wait()
    start = time.perf_counter()
    try:
        out.put(
            ("ok", store.create_model_version(name, "runs:/x/model").version, time.perf_counter() - start)
        )
    except Exception as e:  # reported, counted as an error
        out.put(("error", repr(e), time.perf_counter() - start))


def w7(backend: str, tmp: Path, params: dict[str, Any]) -> dict[str, Any]:
    """16 processes at once create a version of one model, ``rounds`` times (a new model each round)."""
    from mlops.store import open_registry_store

    uri = _uri(backend, tmp)
    ctx = mp.get_context("spawn")
    rounds, procs = int(params["rounds"]), int(params["procs"])
    ok, errors, slowest = True, 0, 0.0
    for r in range(rounds):
        name = f"model-{r}"
        open_registry_store(uri).create_registered_model(name)
        barrier, out = ctx.Barrier(procs), ctx.Queue()
        workers = [ctx.Process(target=_w7_worker, args=(uri, name, barrier, out)) for _ in range(procs)]
        for p in workers:
            p.start()
        results = [out.get(timeout=600) for _ in workers]
        for p in workers:
            p.join()
        errors += sum(1 for status, _, _ in results if status != "ok")
        versions = sorted(v for status, v, _ in results if status == "ok")
        ok = ok and versions == list(range(1, procs + 1))
        slowest = max([slowest, *(t for _, _, t in results)])
        stored = [v.version for v in open_registry_store(uri).search_model_versions(name)]
        ok = ok and stored == list(range(1, procs + 1))
    return {"calls": rounds * procs, "errors": errors, "versions_contiguous": ok, "slowest_call_s": slowest}


CHILDREN = {"W1": w1, "W3": w3, "W3scale": w3_scale, "W7": w7}


def child_main(wid: str, backend: str, params_json: str) -> None:
    with tempfile.TemporaryDirectory(prefix=f"bench-obj-{wid}-") as tmp:
        figures = CHILDREN[wid](backend, Path(tmp), json.loads(params_json))
    print(json.dumps(figures), flush=True)


# ====================================================================== parent
def _start_moto() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    env = {
        "AWS_ENDPOINT_URL_S3": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    os.environ.update(env)
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(BUCKET)
    return proc, env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workloads", nargs="*", default=["W1", "W3", "W7"])
    parser.add_argument("--backends", nargs="+", default=["file", "s3"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=2000, help="W3 runs on a local folder")
    parser.add_argument("--s3-runs", type=int, default=200, help="W3 runs on the S3 server")
    parser.add_argument("--scale", type=int, nargs="*", default=[1000, 5000, 20000], help="W3scale sizes")
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "BACKEND", "PARAMS"))
    args = parser.parse_args(argv)
    if args.child:
        child_main(*args.child)
        return
    moto, env = (None, {}) if "s3" not in args.backends else _start_moto()
    try:
        for wid in args.workloads:
            for backend in args.backends:
                s3 = backend == "s3"
                params: dict[str, Any] = {
                    "W1": {"n": 100_000, "sync_n": 300 if s3 else 5_000},
                    "W3": {"runs": args.s3_runs if s3 else args.runs},
                    "W3scale": {"scale": [s for s in args.scale if not s3 or s <= 2_000] or [500]},
                    "W7": {"rounds": 3, "procs": 16},
                }[wid]
                repeat = 1 if wid == "W3scale" else args.repeat
                figures = median_figures(
                    run_child(MODULE, ["--child", wid, backend, json.dumps(params)], env=env, timeout_s=3600)
                    for _ in range(repeat)
                )
                print(
                    json.dumps({"workload": wid, "backend": backend, "params": params, "figures": figures}),
                    flush=True,
                )
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(10)


if __name__ == "__main__":
    main()
