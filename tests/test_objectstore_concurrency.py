"""Many processes on one object-store metadata store (local folder, S3 server, GCS server) at once.

Workers are spawned interpreters released together by a barrier; each opens the store from the URI and
the storage options it is given (the servers run in this test process's fixtures). A last test
SIGKILLs a writer in the middle of logging to a local-folder store and checks what it left.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops.entities import Metric, Param
from mlops.errors import AlreadyExistsError
from mlops.store import open_registry_store, open_tracking_store

pytestmark = pytest.mark.slow

BACKENDS = ["file", "s3", "gcs"]


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """A fresh store URI on each backend and the storage options to open it."""
    unique = uuid.uuid4().hex
    if request.param == "file":
        return (tmp_path / "store").as_uri(), {}
    if request.param == "s3":
        options = request.getfixturevalue("s3_storage_options")
        return f"s3://{request.getfixturevalue('s3_bucket')}/conc-{unique}", options
    options = request.getfixturevalue("gcs_storage_options")
    return f"gs://{request.getfixturevalue('gcs_bucket')}/conc-{unique}", options


def _call(job: tuple[Callable[..., Any], tuple[Any, ...]]) -> tuple[str, Any]:
    fn, args = job
    try:
        return "ok", fn(*args)
    except BaseException:
        return "error", traceback.format_exc()


def _run_parallel(n: int, fn: Callable[..., Any], *args: Any) -> list[Any]:
    """``fn(worker_index, *args, barrier)`` in ``n`` spawned processes at once; fail on any error."""
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        with ctx.Pool(n) as pool:
            results = pool.map(_call, [(fn, (i, *args, barrier)) for i in range(n)])
    errors = [r for status, r in results if status == "error"]
    assert errors == [], "\n".join(errors)
    return [r for _, r in results]


# ---------------------------------------------------------------------- versions
def _version_worker(worker: int, uri: str, options: dict[str, Any], name: str, barrier: Any) -> int:
    store = open_registry_store(uri, **options)
    store.get_registered_model(name)  # warm up the connection before the race
    barrier.wait()
    return store.create_model_version(name, f"runs:/{worker}/model").version


def test_sixteen_processes_create_versions_one_to_sixteen(store_location: tuple[str, dict[str, Any]]) -> None:
    uri, options = store_location
    open_registry_store(uri, **options).create_registered_model("credit")
    versions = _run_parallel(16, _version_worker, uri, options, "credit")
    assert sorted(versions) == list(range(1, 17))
    store = open_registry_store(uri, **options)  # a fresh process view: nothing cached
    found = store.search_model_versions("credit")
    assert [v.version for v in found] == list(range(1, 17))
    assert sorted(v.source for v in found) == sorted(f"runs:/{w}/model" for w in range(16))
    events = store.list_events("credit")
    assert [e.seq for e in events] == list(range(1, 18))  # created + 16 versions, no gap, no fork
    prev = ""
    for e in events:
        assert e.prev_hash == prev and e.hash == e.compute_hash()
        prev = e.hash


# ---------------------------------------------------------------------- metrics
BATCHES = 6
POINTS = 200


def _metric_worker(
    worker: int, uri: str, options: dict[str, Any], shared_run: str, barrier: Any
) -> tuple[str, str]:
    store = open_tracking_store(uri, **options)
    barrier.wait()
    exp = store.get_experiment_by_name("shared")
    if exp is None:
        try:
            exp_id = store.create_experiment("shared", "memory://shared")
        except AlreadyExistsError:
            found = store.get_experiment_by_name("shared")
            assert found is not None
            exp_id = found.experiment_id
    else:
        exp_id = exp.experiment_id
    own = store.create_run(exp_id, run_name=f"w{worker}", start_time=worker).run_id
    for b in range(BATCHES):
        points = [Metric("loss", float(i), 1_000 + i, b * POINTS + i) for i in range(POINTS)]
        store.log_batch(own, metrics=points, params=[Param("worker", str(worker))] if b == 0 else ())
        shared = [Metric(f"w{worker}", float(b * POINTS + i), 1, b * POINTS + i) for i in range(POINTS)]
        store.log_batch(shared_run, metrics=shared)
    store.update_run(own, status="FINISHED", end_time=2)
    return exp_id, own


def test_eight_processes_log_metrics_to_one_experiment(store_location: tuple[str, dict[str, Any]]) -> None:
    uri, options = store_location
    store = open_tracking_store(uri, **options)
    base = store.create_experiment("base", "memory://base")
    shared_run = store.create_run(base, run_name="shared", start_time=0).run_id
    results = _run_parallel(8, _metric_worker, uri, options, shared_run)
    exp_ids = {exp for exp, _ in results}
    assert len(exp_ids) == 1  # one experiment, however the creation race went
    reader = open_tracking_store(uri, **options)
    steps = list(range(BATCHES * POINTS))
    for w in range(8):
        history = reader.get_metric_history(shared_run, f"w{w}")
        assert [m.step for m in history] == steps and [m.value for m in history] == [float(s) for s in steps]
    runs = reader.search_runs(list(exp_ids), "attributes.status = 'FINISHED'", order_by=["params.worker"])
    assert [r.params["worker"] for r in runs] == [str(w) for w in range(8)]
    for run in runs:
        assert run.metrics["loss"] == float(POINTS - 1)
        assert [m.step for m in reader.get_metric_history(run.run_id, "loss")] == steps


# ---------------------------------------------------------------------- SIGKILL mid-batch
CHILD = textwrap.dedent(
    """
    import sys
    from mlops.entities import Metric
    from mlops.store import open_tracking_store

    store = open_tracking_store(sys.argv[1])
    exp = store.create_experiment("crash", "memory://crash")
    run = store.create_run(exp, run_name="doomed", start_time=1).run_id
    print("RUN", run, flush=True)
    batch = 0
    while True:
        points = [Metric("loss", batch + i / 10_000, 1, batch * 5_000 + i) for i in range(5_000)]
        store.log_batch(run, metrics=points)
        print("B", batch, flush=True)
        batch += 1
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_writer_killed_mid_batch_leaves_no_partial_record(tmp_path: Path) -> None:
    uri = (tmp_path / "store").as_uri()
    child = subprocess.Popen([sys.executable, "-c", CHILD, uri], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    run_id, confirmed = "", -1
    try:
        for line in child.stdout:
            kind, value = line.split()
            if kind == "RUN":
                run_id = value
            else:
                confirmed = int(value)
                if confirmed >= 5:
                    break
    finally:
        os.kill(child.pid, signal.SIGKILL)  # lands anywhere: mid-encoding, mid-write or between batches
        child.wait()
    store = open_tracking_store(uri)
    run = store.get_run(run_id)
    history = store.get_metric_history(run_id, "loss")
    assert len(history) % 5_000 == 0  # whole batches only
    batches = len(history) // 5_000
    assert batches >= confirmed + 1  # every batch that returned is there
    assert [m.step for m in history] == list(range(batches * 5_000))
    assert run.metrics["loss"] == history[-1].value
    for record in (tmp_path / "store" / ".mlops" / "meta-v1" / "tracking" / "runs" / run_id).glob("0*.json"):
        json.loads(record.read_bytes())  # every visible record is complete
    # The store keeps working: the run accepts data, and new runs can be created.
    store.log_batch(run_id, metrics=[Metric("after", 1.0, 1, 0)])
    assert store.get_run(run_id).metrics["after"] == 1.0
    exp = store.get_experiment_by_name("crash")
    assert exp is not None
    store.create_run(exp.experiment_id, run_name="next", start_time=2)
    assert len(store.search_runs([exp.experiment_id])) == 2
