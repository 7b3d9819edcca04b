"""The SQL store's metric history in chunks (``metric_chunks``) on SQLite and PostgreSQL.

The conformance suite checks history semantics on every store; these tests cover what only the
chunked table has: a write larger than a chunk, and a damaged chunk.
"""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from mlops.entities import Metric
from mlops.errors import IntegrityError
from mlops.store.sql.metric_rows import CHUNK_POINTS
from mlops.store.sql.tracking import SqlTrackingStore


def _run(store: SqlTrackingStore) -> str:
    exp = store.create_experiment("history", "memory://history")
    return store.create_run(exp, run_name="r", start_time=0).run_id


def test_a_write_larger_than_a_chunk_is_split_and_read_back_whole(sql_uri: str) -> None:
    store = SqlTrackingStore(sql_uri)
    run_id = _run(store)
    n = CHUNK_POINTS + 2
    points = [Metric("loss", float(i) / 3, 1_000 + i, n - i) for i in range(n)]  # steps count down
    points[5] = Metric("loss", math.nan, 7, 0)  # a NaN, and a tie on step 0 with the last point
    store.log_batch(run_id, metrics=points)
    store.log_batch(run_id, metrics=[Metric("other", -0.0, 1, 1)])
    with store.db.read() as conn:
        counts = conn.execute(
            sa.text("SELECT key, points FROM metric_chunks ORDER BY id"),
        ).all()
    assert [tuple(c) for c in counts] == [("loss", CHUNK_POINTS), ("loss", 2), ("other", 1)]
    history = store.get_metric_history(run_id, "loss")
    assert len(history) == n
    expected = sorted(range(n), key=lambda i: (points[i].step, points[i].timestamp, i))
    assert [(m.step, m.timestamp) for m in history] == [
        (points[i].step, points[i].timestamp) for i in expected
    ]
    got = [m.value for m in history]
    want = [points[i].value for i in expected]
    assert [math.isnan(x) for x in got] == [math.isnan(x) for x in want]
    assert [x for x in got if not math.isnan(x)] == [x for x in want if not math.isnan(x)]
    (other,) = store.get_metric_history(run_id, "other")
    assert math.copysign(1.0, other.value) == -1.0  # the history keeps -0.0
    assert store.get_run(run_id).metrics["loss"] == points[0].value  # the highest step


def test_a_damaged_chunk_is_an_integrity_error(sql_uri: str) -> None:
    store = SqlTrackingStore(sql_uri)
    run_id = _run(store)
    store.log_batch(run_id, metrics=[Metric("loss", 0.5, 1, 0), Metric("loss", 0.25, 2, 1)])
    with store.db.write() as conn:
        conn.execute(sa.text("UPDATE metric_chunks SET points = 3"))
    with pytest.raises(IntegrityError, match="'loss' is damaged"):
        store.get_metric_history(run_id, "loss")
