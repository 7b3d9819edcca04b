"""A search result read as a :class:`~mlops.store.tracking.RunTable`: no ``Run`` or ``Row`` objects.

The search query itself selects the runs' attributes, in order, and then their numbers
(``select_run_ids(..., columns=SEARCH_COLUMNS)``). Then one SELECT per kind of keyed data (params,
tags, latest metrics) reads the values of the selected runs, each with the run's row (its index in
the result):

* **SQLite.** The run numbers are bound once, as a JSON array, and joined through ``json_each``, whose
  ``key`` column is the index. Each kind comes back as a single row of three aggregates over the
  joined rows: the rows and the keys as JSON arrays, and the values as a JSON array (params, tags)
  or, for metrics, as one blob concatenating each value's 8 IEEE 754 bytes (``value_bits``). Python's
  sqlite3 driver spends about 1 µs on every result row (it releases the GIL and takes SQLite's mutex
  at each step), several times what ``json.loads`` spends per value, and numpy reads the blob as it
  is. Floats do not go through text: SQLite 3.40 writes 15 significant digits into JSON, and its
  ``printf('%!.17g')`` is not exact either. A latest-metric row without ``value_bits`` (written
  through SQL outside the library) makes the blob too short; those runs' values are then read one
  row each.
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
import math
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from mlops.store.sql.database import fetch_tuples
from mlops.store.sql.models import Base
from mlops.store.sql.prepared import Prepared
from mlops.store.tracking import RUN_TABLE_ATTRIBUTES, RunTable, group_by_key, sparse_columns

__all__ = ["SEARCH_COLUMNS", "add_flat", "read_run_table"]

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
_aggregates_checked: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()

# kind ("params", "metrics", "tags") -> key -> (rows, values): lists, or a range and a slice (see add_flat)
_Grouped = dict[str, dict[str, tuple[Any, Any]]]


def read_run_table(conn: Connection, search: sa.Select[Any]) -> RunTable:
    """Run ``search`` (a SELECT of the :data:`SEARCH_COLUMNS` of ``runs``, in result order) and read
    the params, latest metrics and tags of the runs it selects.
    """
    found = fetch_tuples(conn, search)
    columns = [list(column) for column in zip(*found, strict=True)] or [[] for _ in SEARCH_COLUMNS]
    run_nums: list[int] = columns.pop()
    grouped: _Grouped = {kind: {} for kind in _TABLES}
    if run_nums and conn.dialect.name == "sqlite" and _aggregates_work(conn):
        for start in range(0, len(run_nums), _JSON_CHUNK):
            _read_sqlite(conn, run_nums[start : start + _JSON_CHUNK], start, grouped)
    elif run_nums:
        _read_in_chunks(conn, run_nums, grouped)
    keyed = {kind: sparse_columns(by_key) for kind, by_key in grouped.items()}
    attributes = dict(zip(RUN_TABLE_ATTRIBUTES, columns, strict=True))
    return RunTable(attributes, keyed["params"], keyed["metrics"], keyed["tags"])


def _sqlite_reads() -> dict[str, sa.Select[Any]]:
    """Per kind, the one-row SELECT of the values of the runs numbered in ``:run_nums`` (a JSON
    array), each run's row being ``:first_row`` plus its index in the array: ``(rows, keys, values)``,
    aggregated as described in the module docstring. ``metric_rows`` is the fallback for metrics:
    ``(row, key, value, is_nan)`` rows. Built once: bound values only.
    """
    selected = sa.func.json_each(sa.bindparam("run_nums", type_=sa.Text)).table_valued(
        "key", "value", name="selected"
    )
    row = selected.c.key + sa.bindparam("first_row", type_=sa.Integer)
    reads: dict[str, sa.Select[Any]] = {}
    for kind, table in _TABLES.items():
        source = selected.join(table, table.c.run_num == selected.c.value)
        rows_and_keys = (sa.func.json_group_array(row), sa.func.json_group_array(table.c.key))
        if kind == "metrics":
            blob = sa.cast(sa.func.group_concat(table.c.value_bits, sa.literal_column("''")), sa.LargeBinary)
            reads[kind] = sa.select(*rows_and_keys, blob).select_from(source)
            reads["metric_rows"] = sa.select(row, table.c.key, table.c.value, table.c.is_nan).select_from(
                source
            )
        else:
            reads[kind] = sa.select(*rows_and_keys, sa.func.json_group_array(table.c.value)).select_from(
                source
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
    reads = _prepared(conn.dialect)
    for kind in _TABLES:
        found = reads[kind].first(conn, values)
        assert found is not None  # an aggregate without GROUP BY: always one row
        rows, keys = _json_ints(found[0]), json.loads(found[1])
        if kind != "metrics":
            add_flat(grouped[kind], rows, keys, json.loads(found[2]), first_row, len(run_nums))
        elif found[2] is not None and len(found[2]) == 8 * len(rows):
            add_flat(grouped[kind], rows, keys, np.frombuffer(found[2], "<f8"), first_row, len(run_nums))
        else:  # some rows lack value_bits
            flat = reads["metric_rows"].all(conn, values)
            _as_lists(grouped[kind])
            group_by_key(grouped[kind], ((r, k, math.nan if nan else v) for r, k, v, nan in flat))


def _json_ints(text: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    """A JSON array of integers as SQLite writes it (``[0,0,1]``), parsed by numpy: 4x ``json.loads``."""
    return np.fromstring(text[1:-1], dtype=np.int64, sep=",")


def add_flat(
    grouped: dict[str, tuple[Any, Any]],
    rows: Sequence[int] | np.ndarray[Any, Any],
    keys: list[str],
    values: Sequence[Any] | np.ndarray[Any, Any],
    first_row: int,
    runs: int,
) -> None:
    """Add the values of ``runs`` consecutive runs from row ``first_row`` on, given as three
    parallel lists (``rows[i]``, ``keys[i]``, ``values[i]``), to ``grouped``: key -> (rows, values).

    When every run has the same keys, listed run by run in the same order (the usual search), each
    key's values are a slice of ``values`` and its rows a ``range``; otherwise the triples are
    grouped one by one.

    Example:
        >>> grouped: dict[str, tuple[Any, Any]] = {}
        >>> add_flat(grouped, [0, 0, 1, 1], ["C", "k", "C", "k"], ["1", "a", "2", "b"], 0, 2)
        >>> grouped["k"]
        (range(0, 2), ['a', 'b'])
    """
    width = len(keys) // runs if runs else 0
    rows = np.asarray(rows, dtype=np.int64)
    if (
        width
        and len(rows) == width * runs
        and keys == keys[:width] * runs
        and np.array_equal(rows, np.repeat(np.arange(first_row, first_row + runs), width))
    ):
        every_row = range(first_row, first_row + runs)
        for i, key in enumerate(keys[:width]):
            _add_column(grouped, key, every_row, values[i::width])
        return
    _as_lists(grouped)  # sparse keys: plain lists from here on
    plain = values.tolist() if isinstance(values, np.ndarray) else values  # Python floats, not numpy's
    group_by_key(grouped, zip(rows.tolist(), keys, plain, strict=True))


def _as_lists(grouped: dict[str, tuple[Any, Any]]) -> None:
    """Turn the ``(range, slice)`` columns of dense chunks into lists that :func:`group_by_key` extends."""
    for key, (rows, values) in grouped.items():
        if isinstance(rows, range):
            grouped[key] = (list(rows), values.tolist() if isinstance(values, np.ndarray) else list(values))


def _add_column(grouped: dict[str, tuple[Any, Any]], key: str, rows: range, values: Any) -> None:
    """Append a key's values in the runs ``rows`` (consecutive) to what ``grouped`` has for it."""
    found = grouped.get(key)
    if found is None:
        grouped[key] = (rows, values)
    elif isinstance(found[0], range) and found[0].stop == rows.start:
        joined = (
            np.concatenate([found[1], values]) if isinstance(values, np.ndarray) else [*found[1], *values]
        )
        grouped[key] = (range(found[0].start, rows.stop), joined)
    else:
        grouped[key] = ([*found[0], *rows], [*found[1], *values])


def _read_in_chunks(conn: Connection, run_nums: list[int], grouped: _Grouped) -> None:
    position = {run_num: i for i, run_num in enumerate(run_nums)}
    for start in range(0, len(run_nums), _IN_CHUNK):
        chunk = run_nums[start : start + _IN_CHUNK]
        for kind, table in _TABLES.items():
            query = sa.select(table.c.run_num, table.c.key, table.c.value).where(table.c.run_num.in_(chunk))
            group_by_key(grouped[kind], ((position[r], k, v) for r, k, v in fetch_tuples(conn, query)))


def _aggregates_work(conn: Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, and in most builds before)
    and concatenates blobs byte for byte in ``group_concat``: what :func:`_read_sqlite` relies on.
    """
    engine = conn.engine
    works = _aggregates_checked.get(engine)
    if works is None:
        probe = (
            "SELECT json_group_array(n), CAST(group_concat(b, '') AS BLOB) FROM "
            "(SELECT 1 AS n, x'00ff00' AS b UNION ALL SELECT 2, x'7f0000')"
        )
        try:
            works = tuple(conn.exec_driver_sql(probe).one()) == ("[1,2]", b"\x00\xff\x00\x7f\x00\x00")
        except sa.exc.OperationalError:
            works = False
        _aggregates_checked[engine] = works
    return works
