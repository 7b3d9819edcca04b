"""The SQL store's columnar search (``mlops/store/sql/run_table.py``) on SQLite and PostgreSQL.

The conformance suite compares ``search_run_table`` with ``search_runs`` on every store; these tests
cover what only the SQL store has: ids split over several statements, the SQLite path without the
JSON functions, and the query plans that keep the reads index lookups.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlops.entities import Metric, Param
from mlops.store.sql import run_table
from mlops.store.sql.run_table import SEARCH_COLUMNS, add_flat, read_run_table
from mlops.store.sql.search import select_run_ids
from mlops.store.sql.tracking import SqlTrackingStore
from mlops.store.tracking import RunTable, group_by_key
from mlops.tracking.frames import runs_to_frame, table_to_frame


@pytest.fixture
def store(sql_uri: str) -> Iterator[SqlTrackingStore]:
    yield SqlTrackingStore(sql_uri)


def _triples(table: RunTable) -> list[tuple[str, str, str, str]]:
    run_ids = list(table.columns["run_id"])
    found = []
    for kind, keyed in (("param", table.params), ("metric", table.metrics), ("tag", table.tags)):
        for key, column in keyed.items():
            for row, value in zip(column.rows, column.values, strict=True):
                if kind == "metric" and value is not None:
                    value = float(value)  # a Python float or a numpy float64, by path
                shown = "nan" if value is None or value != value else repr(value)
                found.append((kind, run_ids[row], key, shown))
    return sorted(found)


def _fill(store: SqlTrackingStore, runs: int = 7) -> str:
    exp = store.create_experiment("chunks", "memory://chunks")
    for i in range(runs):
        run = store.create_run(exp, run_name=f"r{i}", start_time=1000 + i, tags={"t": f"v{i % 2}"})
        params = [Param("a", str(i % 3))] + ([Param("b", "x'y\\z")] if i % 2 else [])
        metrics = [Metric("m", [0.1 + 0.2, math.nan, math.inf, -1.5][i % 4], 1, 0)]
        store.log_batch(run.run_id, metrics=metrics + [Metric("z", 1 / 3, 1, 0)] * (i % 2), params=params)
    return exp


def _assert_same(store: SqlTrackingStore, exp: str, **search: Any) -> None:
    table = store.search_run_table([exp], **search)
    runs = store.search_runs([exp], **search)
    assert _triples(table) == _triples(RunTable.from_runs(runs))
    pd.testing.assert_frame_equal(table_to_frame(table), runs_to_frame(runs), check_exact=True)


@pytest.mark.parametrize(
    "search", [{}, {"order_by": ["metrics.m DESC"]}, {"filter_string": "params.a = '1'"}]
)
def test_ids_split_over_statements(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch, search: dict[str, Any]
) -> None:
    exp = _fill(store)
    monkeypatch.setattr(run_table, "_JSON_CHUNK", 2)
    monkeypatch.setattr(run_table, "_IN_CHUNK", 3)
    _assert_same(store, exp, **search)


def test_sqlite_without_json_functions_or_blob_concatenation(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'mlops.db'}")
    exp = _fill(store)
    with store.db.read() as conn:
        assert run_table._aggregates_work(conn)
    monkeypatch.setattr(run_table, "_aggregates_work", lambda conn: False)
    monkeypatch.setattr(run_table, "_IN_CHUNK", 3)
    _assert_same(store, exp, order_by=["params.a"])


def test_sqlite_reads_are_index_lookups(tmp_path: Any) -> None:
    """Each read is driven by the list of run numbers and looks each run up by its primary key (the
    run's rows are clustered there): no table scan."""
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'mlops.db'}")
    _fill(store)
    exp = store.search_experiments()[0].experiment_id
    executed: list[str] = []
    with store.db.read() as conn:
        driver = conn.connection.dbapi_connection
        driver.set_trace_callback(executed.append)  # statements as SQLite runs them, values inlined
        try:
            table = read_run_table(conn, select_run_ids("sqlite", [exp], "", columns=SEARCH_COLUMNS))
        finally:
            driver.set_trace_callback(None)
        assert table.columns["run_id"]
        reads = [sql for sql in executed if "AS selected" in sql]  # not the json_each probe
        assert len(reads) == 3
        for sql in reads:
            plan = " | ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "SCAN selected VIRTUAL TABLE" in plan, plan
            assert "USING PRIMARY KEY (run_num=?)" in plan, plan


@pytest.mark.parametrize("chunk", [2, 20_000])
def test_latest_rows_without_value_bits_are_read_one_by_one(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A latest-metric row written by SQL outside the library, without ``value_bits``: the blob of
    that chunk is short, and its values are read as rows instead (nothing misaligned)."""
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'mlops.db'}")
    exp = _fill(store)
    monkeypatch.setattr(run_table, "_JSON_CHUNK", chunk)
    with store.db.write() as conn:
        conn.exec_driver_sql("UPDATE latest_metrics SET value_bits = NULL WHERE run_num % 3 = 1")
    _assert_same(store, exp, order_by=["metrics.m DESC"])
    _assert_same(store, exp, filter_string="params.a != '2'")
    executed: list[str] = []
    with store.db.read() as conn:
        conn.connection.dbapi_connection.set_trace_callback(executed.append)
        try:
            table = read_run_table(conn, select_run_ids("sqlite", [exp], "", columns=SEARCH_COLUMNS))
        finally:
            conn.connection.dbapi_connection.set_trace_callback(None)
    assert _triples(table) == _triples(RunTable.from_runs(store.search_runs([exp])))
    assert any("is_nan" in sql and "AS selected" in sql for sql in executed)  # the fallback ran


@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c d"]), unique=True, max_size=3),  # each run's keys, in order
        max_size=9,
    ),
    st.integers(1, 4),
)
def test_add_flat_groups_like_the_definition(run_keys: list[list[str]], chunk: int) -> None:
    """Chunks of runs given as flat (rows, keys, values) lists, dense or not, group as ``group_by_key``."""
    triples = [(row, key, f"{row}:{key}") for row, keys in enumerate(run_keys) for key in keys]
    expected: dict[str, tuple[list[int], list[Any]]] = {}
    group_by_key(expected, triples)
    grouped: dict[str, tuple[Any, Any]] = {}
    for first in range(0, len(run_keys), chunk):
        part = [t for t in triples if first <= t[0] < first + chunk]
        runs = min(chunk, len(run_keys) - first)
        add_flat(grouped, [t[0] for t in part], [t[1] for t in part], [t[2] for t in part], first, runs)
    assert {k: (list(r), list(v)) for k, (r, v) in grouped.items()} == expected


def test_add_flat_keeps_metric_arrays_and_row_ranges_when_dense() -> None:
    values = np.arange(6, dtype="<f8")
    grouped: dict[str, tuple[Any, Any]] = {}
    add_flat(grouped, [0, 0, 1, 1], ["m", "n", "m", "n"], values[:4], 0, 2)
    add_flat(grouped, [2, 2], ["m", "n"], values[4:], 2, 1)
    rows, column = grouped["n"]
    assert rows == range(3) and isinstance(column, np.ndarray) and column.tolist() == [1.0, 3.0, 5.0]


def test_a_dense_chunk_then_one_read_row_by_row(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first chunk's columns are a range and a slice; a later chunk without ``value_bits`` is
    grouped one by one onto them."""
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'mlops.db'}")
    exp = store.create_experiment("dense", "memory://dense")
    for i in range(4):
        run = store.create_run(exp, run_name=f"r{i}", start_time=1000 + i)
        store.log_batch(run.run_id, metrics=[Metric("m", i / 3, 1, 0)], params=[Param("p", str(i))])
    monkeypatch.setattr(run_table, "_JSON_CHUNK", 2)
    with store.db.write() as conn:  # the oldest run: the last row of the default order
        conn.exec_driver_sql("UPDATE latest_metrics SET value_bits = NULL WHERE run_num = 1")
    _assert_same(store, exp)
