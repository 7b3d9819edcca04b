"""The tracking store's hot statements, each compiled once per dialect (see ``prepared.py``).

Creating a run, logging params and tags, ending a run and reading one run are what a training loop
does thousands of times; these statements serve exactly those paths. Everything else in the store
uses ordinary SQLAlchemy Core.

Example:
    >>> from mlops.store.sql.database import Database
    >>> statements = RunStatements.for_dialect(Database("sqlite://").engine.dialect)
    >>> "INSERT INTO runs" in statements.insert_run.sql
    True
"""

from __future__ import annotations

import functools
import threading
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from mlops.store.sql.metric_rows import CHUNK_COLUMNS
from mlops.store.sql.models import (
    SqlDatasetInput,
    SqlExperiment,
    SqlLatestMetric,
    SqlMetricChunk,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlops.store.sql.prepared import Prepared
from mlops.store.sql.upsert import upsert_statement

__all__ = ["KEYED_COLUMNS", "RUN_COLUMNS", "RunStatements"]

_RUNS = cast(sa.Table, SqlRun.__table__)
_PARAMS = cast(sa.Table, SqlParam.__table__)
_TAGS = cast(sa.Table, SqlTag.__table__)
_LATEST = cast(sa.Table, SqlLatestMetric.__table__)
_INPUTS = cast(sa.Table, SqlDatasetInput.__table__)
_EXPERIMENTS = cast(sa.Table, SqlExperiment.__table__)
_METRIC_CHUNKS = cast(sa.Table, SqlMetricChunk.__table__)

RUN_COLUMNS = (
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "artifact_uri",
    "user_id",
    "parent_run_id",
    "heartbeat_time",
)
"""The run columns the statements read and write, in this order."""

KEYED_COLUMNS = ("run_num", "key", "value")
"""The columns of a param or tag row, in the order the insert statements take them."""


def _values(table: sa.Table, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: sa.bindparam(c, type_=table.c[c].type) for c in columns}


class RunStatements:
    """Prepared statements for one dialect; get them with :meth:`for_dialect`."""

    _cache: ClassVar[dict[str, RunStatements]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._updates: dict[tuple[str, ...], Prepared] = {}
        self._updates_lock = threading.Lock()

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> RunStatements:
        """The shared instance for this dialect (statements are constants; compile them once)."""
        key = f"{dialect.name}+{dialect.driver}:{dialect.paramstyle}"
        with cls._cache_lock:
            found = cls._cache.get(key)
            if found is None:
                found = cls._cache[key] = cls(dialect)
            return found

    def _prepare(self, statement: Any) -> Prepared:
        return Prepared(statement, self._dialect)

    # ------------------------------------------------------------------ experiments
    @functools.cached_property
    def experiment_for_run(self) -> Prepared:
        """``(lifecycle_stage, artifact_location)`` of experiment ``:experiment_id``."""
        e = _EXPERIMENTS.c
        return self._prepare(
            sa.select(e.lifecycle_stage, e.artifact_location).where(
                e.experiment_id == sa.bindparam("experiment_id")
            )
        )

    # ------------------------------------------------------------------ runs
    @functools.cached_property
    def insert_run(self) -> Prepared:
        """Insert one run (every column of :data:`RUN_COLUMNS`); where the dialect can, the statement
        returns the new ``run_num`` (see :meth:`new_run_num`)."""
        statement = sa.insert(_RUNS).values(**_values(_RUNS, RUN_COLUMNS))
        if self._dialect.insert_returning:
            statement = statement.returning(_RUNS.c.run_num)
        return self._prepare(statement)

    def new_run_num(self, conn: Any, values: dict[str, Any]) -> int:
        """Insert the run ``values`` (:data:`RUN_COLUMNS`) and return its ``run_num``."""
        cursor = self.insert_run.execute(conn, values)
        try:
            row = cursor.fetchone() if self._dialect.insert_returning else None
        finally:
            cursor.close()
        if row is None:  # no INSERT ... RETURNING on this database: read the number back
            row = self.run_state.first(conn, {"run_id": values["run_id"]})
            assert row is not None  # inserted just above, in this transaction
            return int(row[2])
        return int(row[0])

    @functools.cached_property
    def run_exists(self) -> Prepared:
        """``(run_id,)`` of run ``:run_id``."""
        return self._prepare(sa.select(_RUNS.c.run_id).where(_RUNS.c.run_id == sa.bindparam("run_id")))

    @functools.cached_property
    def run_state(self) -> Prepared:
        """``(status, lifecycle_stage, run_num)`` of run ``:run_id``."""
        r = _RUNS.c
        return self._prepare(
            sa.select(r.status, r.lifecycle_stage, r.run_num).where(r.run_id == sa.bindparam("run_id"))
        )

    @functools.cached_property
    def run_row(self) -> Prepared:
        """The :data:`RUN_COLUMNS` of run ``:run_id``, then its ``run_num``."""
        return self._prepare(
            sa.select(*(_RUNS.c[c] for c in RUN_COLUMNS), _RUNS.c.run_num).where(
                _RUNS.c.run_id == sa.bindparam("run_id")
            )
        )

    def update_run(self, columns: tuple[str, ...]) -> Prepared:
        """``UPDATE runs SET <columns> WHERE run_id = :run_id`` (one statement per set of columns)."""
        with self._updates_lock:
            found = self._updates.get(columns)
            if found is None:
                statement = (
                    sa.update(_RUNS)
                    .where(_RUNS.c.run_id == sa.bindparam("target_run_id"))
                    .values(**_values(_RUNS, columns))
                )
                found = self._updates[columns] = self._prepare(statement)
            return found

    # ------------------------------------------------------------------ metrics
    @functools.cached_property
    def insert_metric_chunk(self) -> Prepared:
        """Insert one metric history chunk (a row of ``metric_rows.CHUNK_COLUMNS``)."""
        return self._prepare(sa.insert(_METRIC_CHUNKS).values(**_values(_METRIC_CHUNKS, CHUNK_COLUMNS)))

    @functools.cached_property
    def metric_chunks_of_key(self) -> Prepared:
        """``(points, step_bytes, timestamp_bytes, value_bytes)`` of the chunks of key ``:key`` of run
        number ``:run_num``, in the order written."""
        c = _METRIC_CHUNKS.c
        return self._prepare(
            sa.select(c.points, c.step_bytes, c.timestamp_bytes, c.value_bytes)
            .where(c.run_num == sa.bindparam("run_num"), c.key == sa.bindparam("key"))
            .order_by(c.id)
        )

    @functools.cached_property
    def upsert_latest_metric(self) -> Prepared | None:
        """Make a row of ``upsert.COLUMNS`` the latest point of its key (None: no dialect upsert)."""
        statement = upsert_statement(self._dialect.name)
        return None if statement is None else self._prepare(statement)

    # ------------------------------------------------------------------ params and tags
    @functools.cached_property
    def params_of_run(self) -> Prepared:
        """``(key, value)`` of every param of run number ``:run_num``."""
        p = _PARAMS.c
        return self._prepare(sa.select(p.key, p.value).where(p.run_num == sa.bindparam("run_num")))

    @functools.cached_property
    def insert_param(self) -> Prepared:
        """Insert one param row (``run_num``, ``key``, ``value``)."""
        return self._prepare(sa.insert(_PARAMS).values(**_values(_PARAMS, KEYED_COLUMNS)))

    @functools.cached_property
    def tags_of_run(self) -> Prepared:
        """``(key, value)`` of every tag of run number ``:run_num``."""
        t = _TAGS.c
        return self._prepare(sa.select(t.key, t.value).where(t.run_num == sa.bindparam("run_num")))

    @functools.cached_property
    def delete_tag(self) -> Prepared:
        """Delete tag ``:key`` of run number ``:run_num``."""
        t = _TAGS.c
        return self._prepare(
            sa.delete(_TAGS).where(t.run_num == sa.bindparam("run_num"), t.key == sa.bindparam("key"))
        )

    @functools.cached_property
    def insert_tag(self) -> Prepared:
        """Insert one tag row (``run_num``, ``key``, ``value``)."""
        return self._prepare(sa.insert(_TAGS).values(**_values(_TAGS, KEYED_COLUMNS)))

    # ------------------------------------------------------------------ one run's data
    @functools.cached_property
    def latest_metrics_of_run(self) -> Prepared:
        """``(key, value, is_nan)`` of every latest metric of run number ``:run_num``."""
        m = _LATEST.c
        return self._prepare(sa.select(m.key, m.value, m.is_nan).where(m.run_num == sa.bindparam("run_num")))

    @functools.cached_property
    def inputs_of_run(self) -> Prepared:
        """Dataset inputs of run ``:run_id``: name, digest, source, schema, num_rows, context, position."""
        d = _INPUTS.c
        return self._prepare(
            sa.select(d.name, d.digest, d.source, d.schema, d.num_rows, d.context, d.position)
            .where(d.run_id == sa.bindparam("run_id"))
            .order_by(d.position)
        )
