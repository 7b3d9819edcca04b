"""The background metric writer: batching, flush, backpressure, error reporting, exit."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mlops import Client
from mlops.entities import Metric, Param
from mlops.store.sql.tracking import SqlTrackingStore
from mlops.tracking.writer import MetricWriter, WriterError


class SlowStore(SqlTrackingStore):
    """The real SQLite store, with each batch write delayed (to make the writer fall behind)."""

    delay_s = 0.05

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.batch_sizes: list[int] = []

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: dict[str, str | None] | None = None,
    ) -> None:
        time.sleep(self.delay_s)
        self.batch_sizes.append(len(metrics))
        super().log_batch(run_id, metrics=metrics, params=params, tags=tags)


def _run(store: SqlTrackingStore) -> str:
    return store.create_run(store.create_experiment("w", "memory://w"), run_name="r", start_time=0).run_id


def test_points_are_written_in_batches_and_flush_makes_them_durable(tmp_path: Path) -> None:
    store = SlowStore(f"sqlite:///{tmp_path / 'w.db'}")
    run_id = _run(store)
    writer = MetricWriter(store, flush_interval_s=10, batch_size=1_000)
    for i in range(5_000):
        writer.add(run_id, "m", float(i), 1, i)
    writer.flush()
    assert writer.pending == 0
    assert len(store.get_metric_history(run_id, "m")) == 5_000
    assert len(store.batch_sizes) < 50  # batched, not one write per point
    writer.close()


def test_interval_writes_without_a_flush(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'w.db'}")
    run_id = _run(store)
    writer = MetricWriter(store, flush_interval_s=0.05)
    writer.add(run_id, "m", 1.0, 1, 0)
    deadline = time.monotonic() + 10
    while not store.get_metric_history(run_id, "m") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(store.get_metric_history(run_id, "m")) == 1
    writer.close()


def test_full_buffer_blocks_the_caller(tmp_path: Path) -> None:
    store = SlowStore(f"sqlite:///{tmp_path / 'w.db'}")
    store.delay_s = 0.2
    run_id = _run(store)
    writer = MetricWriter(store, flush_interval_s=10, batch_size=100, max_buffered=500)
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, len(writer._buffer))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    for i in range(3_000):
        writer.add(run_id, "m", 1.0, 1, i)
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join()
    writer.flush()
    assert peak <= 500 + 1  # never more than max_buffered waiting (one add may be in flight)
    assert elapsed > 0.2  # the caller was held back while the slow store caught up
    assert len(store.get_metric_history(run_id, "m")) == 3_000
    writer.close()


def test_a_failed_write_surfaces_on_the_next_call(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'w.db'}"
    client = Client(uri, artifact_uri=tmp_path.as_uri(), flush_interval_s=10)
    exp = client.get_or_create_experiment("e").experiment_id
    run = client.create_run(exp)
    client.log_metric(run.run_id, "m", 1.0)
    SqlTrackingStore(uri).purge_run(run.run_id)  # another process removes the run meanwhile
    with pytest.raises(WriterError, match=r"1 metric points were not written.*no run"):
        client.flush()
    client.flush()  # reported once; the writer keeps working
    other = client.create_run(exp)
    client.log_metric(other.run_id, "m", 2.0)
    assert client.get_run(other.run_id).metrics["m"] == 2.0
    client.close()


def test_end_run_writes_the_last_points_with_the_end_of_the_run(tmp_path: Path) -> None:
    """The remaining points of the run and its end are one store call, in logging order."""
    uri = f"sqlite:///{tmp_path / 'w.db'}"
    client = Client(uri, artifact_uri=tmp_path.as_uri(), flush_interval_s=10)
    run = client.create_run(client.get_or_create_experiment("e").experiment_id)
    calls: list[tuple[str, int]] = []
    store = client.store
    original_end, original_batch = store.end_run, store.log_batch

    def spy_end(run_id: str, **kw: Any) -> Any:
        calls.append(("end", len(kw.get("metrics", ()))))
        return original_end(run_id, **kw)

    def spy_batch(run_id: str, **kw: Any) -> Any:
        calls.append(("batch", len(kw.get("metrics", ()))))
        return original_batch(run_id, **kw)

    store.end_run = spy_end  # type: ignore[method-assign]  # records calls, the real store writes
    store.log_batch = spy_batch  # type: ignore[method-assign]
    for step in range(5):
        client.log_metric(run.run_id, "m", float(step), step=step)
    ended = client.end_run(run.run_id)
    assert calls == [("end", 5)]
    assert ended.status == "FINISHED" and ended.metrics["m"] == 4.0
    assert [p.value for p in client.get_metric_history(run.run_id, "m")] == [0.0, 1.0, 2.0, 3.0, 4.0]
    client.close()


def test_end_run_still_ends_the_run_when_its_last_points_fail(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'w.db'}"
    client = Client(uri, artifact_uri=tmp_path.as_uri(), flush_interval_s=10)
    exp = client.get_or_create_experiment("e").experiment_id
    run = client.create_run(exp)
    client.log_metric(run.run_id, "m", 1.0)
    client.log_metric(run.run_id, "m", 2.0, step=1)
    SqlTrackingStore(uri).update_run(run.run_id, status="KILLED")  # another process ends it first
    with pytest.raises(WriterError, match=r"2 metric points were not written.*KILLED"):
        client.end_run(run.run_id)
    assert client.get_run(run.run_id).status == "FINISHED"
    assert client.get_metric_history(run.run_id, "m") == []
    # an earlier failed background write: the run is ended, then the error is raised
    other = client.create_run(exp)
    client.log_metric(other.run_id, "m", 1.0)
    third = client.create_run(exp)
    client.log_metric(third.run_id, "m", 1.0)  # two runs buffered: ending flushes everything
    SqlTrackingStore(uri).purge_run(third.run_id)
    with pytest.raises(WriterError, match=r"1 metric points were not written.*no run"):
        client.end_run(other.run_id)
    assert client.get_run(other.run_id).status == "FINISHED"
    assert client.get_run(other.run_id).metrics["m"] == 1.0
    client.close()


def test_flush_timeout(tmp_path: Path) -> None:
    store = SlowStore(f"sqlite:///{tmp_path / 'w.db'}")
    store.delay_s = 1.0
    run_id = _run(store)
    writer = MetricWriter(store, flush_interval_s=10)
    writer.add(run_id, "m", 1.0, 1, 0)
    with pytest.raises(TimeoutError, match="1 points"):
        writer.flush(timeout_s=0.1)
    writer.close()


def test_interpreter_exit_flushes_and_ends_the_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'w.db'}"
    script = (
        "import mlops\n"
        f"mlops.set_tracking_uri({uri!r})\n"
        f"mlops.set_artifact_uri({tmp_path.as_uri()!r})\n"
        "run = mlops.start_run()\n"
        "print(run.run_id, flush=True)\n"
        "for i in range(20_000):\n"
        "    mlops.log_metric('loss', float(i), step=i)\n"
        # no flush, no end_run: the script simply exits
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    run_id = out.stdout.split()[0]
    store = SqlTrackingStore(uri)
    assert len(store.get_metric_history(run_id, "loss")) == 20_000
    assert store.get_run(run_id).status == "FINISHED"
