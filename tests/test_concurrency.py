"""Many processes on one metadata store at once: no error, nothing lost, invariants kept.

Workers are started with the ``spawn`` method (a fresh interpreter each, like separate training
scripts) and released together by a barrier so that they really overlap.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops.entities import Metric
from mlops.errors import AlreadyExistsError
from mlops.store import open_registry_store, open_tracking_store

pytestmark = pytest.mark.slow

POINTS_PER_BATCH = 250
BATCHES = 8


def _metric_worker(uri: str, run_id: str, worker: int, barrier: Any) -> None:
    store = open_tracking_store(uri)
    barrier.wait()
    for b in range(BATCHES):
        points = [
            Metric(f"w{worker}", float(i), 1_000 + i, b * POINTS_PER_BATCH + i)
            for i in range(POINTS_PER_BATCH)
        ]
        store.log_batch(run_id, metrics=points)


def _get_or_create_worker(uri: str, name: str, barrier: Any) -> str:
    store = open_tracking_store(uri)
    barrier.wait()
    existing = store.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    try:
        return store.create_experiment(name, "memory://shared")
    except AlreadyExistsError:
        found = store.get_experiment_by_name(name)
        assert found is not None
        return found.experiment_id


def _version_worker(uri: str, name: str, barrier: Any) -> int:
    store = open_registry_store(uri)
    barrier.wait()
    return store.create_model_version(name, "runs:/x/model").version


def _call(args: tuple[Callable[..., Any], tuple[Any, ...]]) -> tuple[str, Any]:
    fn, fn_args = args
    try:
        return "ok", fn(*fn_args)
    except BaseException:
        return "error", traceback.format_exc()


WORKER = object()  # placeholder in an argument list: replaced by the worker's index


def _run_parallel(n: int, fn: Callable[..., Any], *args: Any) -> list[Any]:
    """Call ``fn(*args, barrier)`` in ``n`` spawned processes at once; fail on any worker error."""
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        jobs = [(fn, (*(i if a is WORKER else a for a in args), barrier)) for i in range(n)]
        with ctx.Pool(n) as pool:
            results = pool.map(_call, jobs)
    errors = [r for status, r in results if status == "error"]
    assert errors == [], "\n".join(errors)
    return [r for _, r in results]


def test_eight_processes_append_metrics_to_one_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlops.db'}"
    store = open_tracking_store(uri)
    exp = store.create_experiment("e", "memory://e")
    run_id = store.create_run(exp, run_name="r", start_time=1).run_id
    _run_parallel(8, _metric_worker, uri, run_id, WORKER)
    run = store.get_run(run_id)
    for w in range(8):
        history = store.get_metric_history(run_id, f"w{w}")
        assert [m.step for m in history] == list(range(BATCHES * POINTS_PER_BATCH))
        assert run.metrics[f"w{w}"] == float(POINTS_PER_BATCH - 1)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_processes_get_or_create_one_experiment(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlops.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    open_tracking_store(uri)  # schema first: concurrent first-open is tested separately
    ids = _run_parallel(8, _get_or_create_worker, uri, "shared-name")
    assert len(set(ids)) == 1
    assert [e.name for e in open_tracking_store(uri).search_experiments()] == ["shared-name"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sixteen_processes_create_versions_one_to_sixteen(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlops.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    open_registry_store(uri).create_registered_model("credit")
    versions = _run_parallel(16, _version_worker, uri, "credit")
    assert sorted(versions) == list(range(1, 17))
    store = open_registry_store(uri)
    assert [v.version for v in store.search_model_versions("credit")] == list(range(1, 17))
    events = store.list_events("credit")
    assert [e.seq for e in events] == list(range(1, 18))  # created + 16 versions, no gap


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_processes_opening_a_brand_new_database_at_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    uri = f"sqlite:///{tmp_path / 'new.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    ids = _run_parallel(6, _get_or_create_worker, uri, "first")
    assert len(set(ids)) == 1
