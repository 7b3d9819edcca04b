"""A search result read as a :class:`~mlops.store.tracking.RunTable`: no ``Run`` or ``Row`` objects.

The search query itself selects the runs' attributes, in order, and then their numbers
(``select_run_ids(..., columns=SEARCH_COLUMNS)``). Then one SELECT per kind of keyed data (params,
tags, latest metrics) reads the values of the selected runs, each with the run's row (its index in
the result):

* **SQLite.** The run numbers are bound once, as a JSON array, and joined through ``json_each``, whose
  ``key`` column is the index. Params and tags come back as one row per key holding two JSON
  arrays (rows, values): Python's sqlite3 driver spends about 1 µs on every result row (it releases
  the GIL and takes SQLite's mutex at each step), several times what ``json.loads`` spends per
  value. Metric values stay one ``(row, key, value)`` row each: SQLite 3.40 writes floats into JSON
  with 15 significant digits, which loses precision, and formatting them exactly
  (``printf('%!.17g')``) and parsing them back costs as much as the rows.
* **Other databases** (PostgreSQL, ...). The numbers go in chunks of bound ``IN`` lists; each
  ``(run_num, key, value)`` row's run number is mapped to its index.

Every value reaches the database as a bound parameter; no SQL text is built from input.

Example:
    >>> from mlops.store.sql.search import select_run_ids
    >>> engine = sa.create_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> search = select_run_ids("sqlite", ["0"], "params.C = '1'", columns=SEARCH_COLUMNS)
    >>> with engine.connect() as conn:
    ...     table = read_run_table(conn, search)
    >>> table.columns["run_id"], table.params
    ([], {})
"""

from __future__ import annotations

import json
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from mlops.store.sql.database import fetch_tuples
from mlops.store.sql.models import Base
from mlops.store.sql.prepared import Prepared
from mlops.store.tracking import RUN_TABLE_ATTRIBUTES, RunTable, group_by_key, sparse_columns

__all__ = ["SEARCH_COLUMNS", "read_run_table"]

_IN_CHUNK = 500  # ids per IN (...) clause: well under every backend's bound-parameter limit
# Runs per statement on SQLite: bounds the JSON texts (SQLite caps a string at 1 GB by default).
_JSON_CHUNK = 20_000
_TABLES = {
    "params": Base.metadata.tables["params"],
    "metrics": Base.metadata.tables["latest_metrics"],
    "tags": Base.metadata.tables["tags"],
}
SEARCH_COLUMNS = (*RUN_TABLE_ATTRIBUTES, "run_num")
"""The ``runs`` columns :func:`read_run_table` wants its search to select, in this order."""
_json_each_works: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()

# kind ("params", "metrics", "tags") -> key -> (rows, values)
_Grouped = dict[str, dict[str, tuple[list[int], list[Any]]]]


def read_run_table(conn: Connection, search: sa.Select[Any]) -> RunTable:
    """Run ``search`` (a SELECT of the :data:`SEARCH_COLUMNS` of ``runs``, in result order) and read
    the params, latest metrics and tags of the runs it selects.
    """
    found = fetch_tuples(conn, search)
    columns = [list(column) for column in zip(*found, strict=True)] or [[] for _ in SEARCH_COLUMNS]
    run_nums: list[int] = columns.pop()
    grouped: _Grouped = {kind: {} for kind in _TABLES}
    if run_nums and conn.dialect.name == "sqlite" and _has_json_each(conn):
        for start in range(0, len(run_nums), _JSON_CHUNK):
            _read_sqlite(conn, run_nums[start : start + _JSON_CHUNK], start, grouped)
    elif run_nums:
        _read_in_chunks(conn, run_nums, grouped)
    keyed = {kind: sparse_columns(by_key) for kind, by_key in grouped.items()}
    attributes = dict(zip(RUN_TABLE_ATTRIBUTES, columns, strict=True))
    return RunTable(attributes, keyed["params"], keyed["metrics"], keyed["tags"])


def _sqlite_reads() -> dict[str, sa.Select[Any]]:
    """Per kind, the SELECT of the values of the runs numbered in ``:run_nums`` (a JSON array), each
    run's row being ``:first_row`` plus its index in the array. Built once: bound values only.
    """
    selected = sa.func.json_each(sa.bindparam("run_nums", type_=sa.Text)).table_valued(
        "key", "value", name="selected"
    )
    row = selected.c.key + sa.bindparam("first_row", type_=sa.Integer)
    reads: dict[str, sa.Select[Any]] = {}
    for kind, table in _TABLES.items():
        source = selected.join(table, table.c.run_num == selected.c.value)
        if kind == "metrics":  # (row, key, value) rows
            reads[kind] = sa.select(row, table.c.key, table.c.value).select_from(source)
        else:  # one row per key: its rows and its values, as two JSON arrays
            reads[kind] = (
                sa.select(table.c.key, sa.func.json_group_array(row), sa.func.json_group_array(table.c.value))
                .select_from(source)
                .group_by(table.c.key)
            )
    return reads


_SQLITE_READS = _sqlite_reads()
_prepared_reads: dict[tuple[str, str], dict[str, Prepared]] = {}


def _prepared(dialect: Dialect) -> dict[str, Prepared]:
    """:data:`_SQLITE_READS` compiled once for this driver (run on its cursor: no per-call setup)."""
    key = (dialect.driver, str(dialect.paramstyle))
    found = _prepared_reads.get(key)
    if found is None:
        found = _prepared_reads[key] = {k: Prepared(q, dialect) for k, q in _SQLITE_READS.items()}
    return found


def _read_sqlite(conn: Connection, run_nums: list[int], first_row: int, grouped: _Grouped) -> None:
    """Add the values of these runs (rows ``first_row``, ``first_row + 1``, ...) to ``grouped``."""
    values = {"run_nums": json.dumps(run_nums), "first_row": first_row}
    # The rows array of a key every run has, as SQLite writes it: recognised, not parsed.
    every_row = list(range(first_row, first_row + len(run_nums)))
    every_row_json = json.dumps(every_row, separators=(",", ":"))
    for kind, read in _prepared(conn.dialect).items():
        found = read.all(conn, values)
        if kind == "metrics":
            group_by_key(grouped[kind], found)
            continue
        for key, rows, json_values in found:
            column = grouped[kind].setdefault(key, ([], []))
            column[0].extend(every_row if rows == every_row_json else json.loads(rows))
            column[1].extend(json.loads(json_values))


def _read_in_chunks(conn: Connection, run_nums: list[int], grouped: _Grouped) -> None:
    position = {run_num: i for i, run_num in enumerate(run_nums)}
    for start in range(0, len(run_nums), _IN_CHUNK):
        chunk = run_nums[start : start + _IN_CHUNK]
        for kind, table in _TABLES.items():
            query = sa.select(table.c.run_num, table.c.key, table.c.value).where(table.c.run_num.in_(chunk))
            group_by_key(grouped[kind], ((position[r], k, v) for r, k, v in fetch_tuples(conn, query)))


def _has_json_each(conn: Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, and in most builds before)."""
    engine = conn.engine
    works = _json_each_works.get(engine)
    if works is None:
        try:
            conn.exec_driver_sql("SELECT json_group_array(value) FROM json_each('[1]')").all()
            works = True
        except sa.exc.OperationalError:
            works = False
        _json_each_works[engine] = works
    return works
