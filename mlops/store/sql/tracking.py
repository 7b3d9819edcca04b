"""The tracking store on SQL (SQLite by default, PostgreSQL, any SQLAlchemy URL)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mlops.entities import (
    TERMINAL_RUN_STATUSES,
    DatasetInput,
    Experiment,
    Metric,
    Param,
    Run,
    ViewType,
    now_ms,
)
from mlops.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlops.gc_pause import gc_paused
from mlops.store.sql.database import Database, fetch_tuples, get_database
from mlops.store.sql.metric_rows import CHUNK_COLUMNS, ChunkRow, history_from_chunks, metric_chunks
from mlops.store.sql.models import (
    SqlDatasetInput,
    SqlExperiment,
    SqlExperimentTag,
    SqlLatestMetric,
    SqlMetricChunk,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlops.store.sql.run_statements import KEYED_COLUMNS, RUN_COLUMNS, RunStatements
from mlops.store.sql.upsert import upsert_latest_metrics
from mlops.store.tracking import (
    RunTable,
    TrackingStore,
    check_lifecycle_stage,
    check_run_status,
    check_view,
)

__all__ = ["SqlTrackingStore"]

_IN_CHUNK = 500  # ids per IN (...) clause: well under every backend's bound-parameter limit
_INSERT_CHUNK = 1_000  # history chunk rows per executemany (each up to metric_rows.CHUNK_POINTS points)


def _view_filter(column: Any, view: ViewType) -> Any:
    check_view(view)
    return sa.true() if view == "all" else column == view


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _closed_run_message(run_id: str, status: str, stage: str) -> str:
    state = "deleted" if stage != "active" else status
    return f"run {run_id!r} is {state}; it accepts no more params or metrics"


def _loaded_value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan or value is None else float(value)


class SqlTrackingStore(TrackingStore):
    """Tracking store on a SQLAlchemy database.

    Args:
        uri: a SQLAlchemy URL: ``sqlite:///path/to/mlops.db``, ``postgresql+psycopg://user@host/db``.
        auto_migrate: create or upgrade the schema when needed (default True).

    Example:
        >>> store = SqlTrackingStore("sqlite://")
        >>> exp_id = store.create_experiment("demo", artifact_location="memory://demo")
        >>> store.get_experiment(exp_id).name
        'demo'
    """

    supports_native_search = True

    def __init__(self, uri: str, *, auto_migrate: bool = True) -> None:
        self.uri = uri
        self.db: Database = get_database(uri, auto_migrate=auto_migrate)
        self._sql = RunStatements.for_dialect(self.db.engine.dialect)

    # ================================================================== experiments
    def create_experiment(
        self, name: str, artifact_location: str, tags: Mapping[str, str] | None = None
    ) -> str:
        experiment_id = uuid.uuid4().hex
        now = now_ms()

        def create(conn: Connection) -> str:
            taken = conn.execute(sa.select(SqlExperiment.experiment_id).where(SqlExperiment.name == name))
            if taken.first() is not None:
                raise AlreadyExistsError(f"an experiment named {name!r} already exists")
            conn.execute(
                sa.insert(SqlExperiment).values(
                    experiment_id=experiment_id,
                    name=name,
                    artifact_location=artifact_location,
                    lifecycle_stage="active",
                    creation_time=now,
                    last_update_time=now,
                )
            )
            self._write_experiment_tags(conn, experiment_id, dict(tags or {}))
            return experiment_id

        try:
            return self.db.run(create)
        except SqlIntegrityError as e:  # a backend without BEGIN IMMEDIATE lost the race
            raise AlreadyExistsError(f"an experiment named {name!r} already exists") from e

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self.db.read() as conn:
            found = self._load_experiments(conn, SqlExperiment.experiment_id == experiment_id)
        if not found:
            raise NotFoundError(f"no experiment with id {experiment_id!r}")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self.db.read() as conn:
            found = self._load_experiments(conn, SqlExperiment.name == name)
        return found[0] if found else None

    def search_experiments(self, view: ViewType = "active") -> list[Experiment]:
        condition = _view_filter(SqlExperiment.lifecycle_stage, view)
        with self.db.read() as conn:
            return self._load_experiments(conn, condition)

    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        lifecycle_stage: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> Experiment:
        check_lifecycle_stage(lifecycle_stage)

        def update(conn: Connection) -> None:
            self._require_experiment(conn, experiment_id)
            values: dict[str, Any] = {"last_update_time": now_ms()}
            if name is not None:
                other = conn.execute(
                    sa.select(SqlExperiment.experiment_id).where(
                        SqlExperiment.name == name, SqlExperiment.experiment_id != experiment_id
                    )
                ).first()
                if other is not None:
                    raise AlreadyExistsError(f"an experiment named {name!r} already exists")
                values["name"] = name
            if lifecycle_stage is not None:
                values["lifecycle_stage"] = lifecycle_stage
            conn.execute(
                sa.update(SqlExperiment).where(SqlExperiment.experiment_id == experiment_id).values(**values)
            )
            if tags:
                self._write_experiment_tags(conn, experiment_id, tags)

        self.db.run(update)
        return self.get_experiment(experiment_id)

    def purge_experiment(self, experiment_id: str) -> None:
        def purge(conn: Connection) -> None:
            stage = self._require_experiment(conn, experiment_id)
            if stage != "deleted":
                raise InvalidInputError(
                    f"experiment {experiment_id!r} is {stage}; delete it before purging it permanently"
                )
            run_ids = list(
                conn.execute(sa.select(SqlRun.run_id).where(SqlRun.experiment_id == experiment_id)).scalars()
            )
            for chunk in _chunks(run_ids, _IN_CHUNK):
                self._delete_run_rows(conn, chunk)
            conn.execute(sa.delete(SqlExperimentTag).where(SqlExperimentTag.experiment_id == experiment_id))
            conn.execute(sa.delete(SqlExperiment).where(SqlExperiment.experiment_id == experiment_id))

        self.db.run(purge)

    # ================================================================== runs
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str,
        start_time: int,
        user_id: str = "",
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        artifact_uri: str | None = None,
    ) -> Run:
        run_id = uuid.uuid4().hex

        sql = self._sql

        def create(conn: Connection) -> str:
            row = sql.experiment_for_run.first(conn, {"experiment_id": experiment_id})
            if row is None:
                raise NotFoundError(f"no experiment with id {experiment_id!r}")
            stage, experiment_location = row
            if stage != "active":
                raise InvalidInputError(f"experiment {experiment_id!r} is deleted; restore it to add runs")
            if parent_run_id is not None and sql.run_exists.first(conn, {"run_id": parent_run_id}) is None:
                raise NotFoundError(f"no parent run with id {parent_run_id!r}")
            location = artifact_uri or f"{experiment_location.rstrip('/')}/{run_id}/artifacts"
            values = {
                "run_id": run_id,
                "experiment_id": experiment_id,
                "run_name": run_name,
                "status": "RUNNING",
                "start_time": start_time,
                "end_time": None,
                "lifecycle_stage": "active",
                "artifact_uri": location,
                "user_id": user_id,
                "parent_run_id": parent_run_id,
                "heartbeat_time": start_time,
            }
            run_num = sql.new_run_num(conn, values)
            if tags:
                sql.insert_tag.execute_rows(conn, [(run_num, k, v) for k, v in tags.items()], KEYED_COLUMNS)
            return location

        location = self.db.run(create)
        # A new run is exactly what was just written: no need to read it back.
        return Run(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=run_name,
            status="RUNNING",
            start_time=start_time,
            end_time=None,
            lifecycle_stage="active",
            artifact_uri=location,
            user_id=user_id,
            parent_run_id=parent_run_id,
            heartbeat_time=start_time,
            tags=dict(tags or {}),
        )

    def get_run(self, run_id: str) -> Run:
        with self.db.read() as conn:
            return self._load_run(conn, run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        lifecycle_stage: str | None = None,
        heartbeat_time: int | None = None,
    ) -> Run:
        check_run_status(status)
        check_lifecycle_stage(lifecycle_stage)
        given = {
            "status": status,
            "end_time": end_time,
            "run_name": run_name,
            "lifecycle_stage": lifecycle_stage,
            "heartbeat_time": heartbeat_time,
        }
        values = {k: v for k, v in given.items() if v is not None}

        sql = self._sql

        def update(conn: Connection) -> Run:
            if values:
                statement = sql.update_run(tuple(values))
                found = statement.rowcount(conn, {**values, "target_run_id": run_id}) > 0
            else:
                found = sql.run_exists.first(conn, {"run_id": run_id}) is not None
            if not found:
                raise NotFoundError(f"no run with id {run_id!r}")
            return self._load_run(conn, run_id)

        # A single-statement write needs no lock up front; the run is read back in the same
        # transaction, so it is exactly the state this update produced.
        return self.db.run(update, read_first=False)

    def end_run(
        self,
        run_id: str,
        *,
        status: str,
        end_time: int,
        metrics: Sequence[Metric] = (),
        read_back: bool = True,
    ) -> Run | None:
        check_run_status(status)

        def end(conn: Connection) -> Run | None:
            if metrics:
                self._write_metrics(conn, run_id, metrics)
            elif self._sql.run_exists.first(conn, {"run_id": run_id}) is None:
                raise NotFoundError(f"no run with id {run_id!r}")
            values = {"status": status, "end_time": end_time, "target_run_id": run_id}
            self._sql.update_run(("status", "end_time")).rowcount(conn, values)
            return self._load_run(conn, run_id) if read_back else None

        # One transaction: the last points and the end of the run commit together.
        return self.db.run(end, read_first=False)

    def purge_run(self, run_id: str) -> None:
        def purge(conn: Connection) -> None:
            if conn.execute(sa.select(SqlRun.run_id).where(SqlRun.run_id == run_id)).first() is None:
                raise NotFoundError(f"no run with id {run_id!r}")
            self._delete_run_rows(conn, [run_id])

        self.db.run(purge)

    # ================================================================== run data
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Mapping[str, str | None] | None = None,
    ) -> None:
        new_params = self._dedupe_params(params)
        if not (metrics or new_params or tags):
            with self.db.read() as conn:
                self._require_run(conn, run_id)
            return

        def write(conn: Connection) -> None:
            if metrics:
                run_num = self._write_metrics(conn, run_id, metrics)  # checks that the run is open
            else:
                status, stage, run_num = self._require_run(conn, run_id)
                if new_params and (stage != "active" or status in TERMINAL_RUN_STATUSES):
                    raise InvalidInputError(_closed_run_message(run_id, status, stage))
            if new_params:
                self._write_params(conn, run_id, run_num, new_params)
            if tags:
                self._write_run_tags(conn, run_num, tags)

        # Metric-only batches are appends: pysqlite's deferred transaction is much faster under
        # contention. Params need the read-then-write lock (write-once check).
        self.db.run(write, read_first=bool(new_params or tags))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self.db.read() as conn:
            run_num = self._require_run(conn, run_id)[2]
            chunks = self._sql.metric_chunks_of_key.all(conn, {"run_num": run_num, "key": key})
        return history_from_chunks(key, chunks)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        if not datasets:
            return

        def write(conn: Connection) -> None:
            self._require_run(conn, run_id)
            existing = {
                (r.name, r.digest, r.context): r.position
                for r in conn.execute(
                    sa.select(
                        SqlDatasetInput.name,
                        SqlDatasetInput.digest,
                        SqlDatasetInput.context,
                        SqlDatasetInput.position,
                    ).where(SqlDatasetInput.run_id == run_id)
                )
            }
            position = max(existing.values(), default=-1) + 1
            rows = []
            for d in datasets:
                if (d.name, d.digest, d.context) in existing:
                    continue
                existing[(d.name, d.digest, d.context)] = position
                rows.append(
                    {
                        "run_id": run_id,
                        "name": d.name,
                        "digest": d.digest,
                        "context": d.context,
                        "source": d.source,
                        "schema": d.schema,
                        "num_rows": d.num_rows,
                        "position": position,
                    }
                )
                position += 1
            if rows:
                conn.execute(sa.insert(SqlDatasetInput), rows)

        self.db.run(write)

    # ================================================================== search
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        view: ViewType = "active",
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[Run]:
        from mlops.store.sql.search import select_run_ids

        # select_run_ids validates every argument (a string given as experiment_ids included)
        query = select_run_ids(
            self.db.dialect,
            experiment_ids,
            filter_string,
            view=view,
            order_by=list(order_by),
            max_results=max_results,
        )
        with self.db.read() as conn:
            run_ids = list(conn.execute(query).scalars())
            source = query.subquery() if len(run_ids) > _IN_CHUNK else None
            return self._load_runs(conn, run_ids, sa.select(source.c[0]) if source is not None else None)

    def search_run_table(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        view: ViewType = "active",
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> RunTable:
        from mlops.store.sql.run_table import SEARCH_COLUMNS, read_run_table
        from mlops.store.sql.search import select_run_ids

        # The search selects the attributes itself; see run_table.py for the rest.
        query = select_run_ids(
            self.db.dialect,
            experiment_ids,
            filter_string,
            view=view,
            order_by=list(order_by),
            max_results=max_results,
            columns=SEARCH_COLUMNS,
        )
        with self.db.read() as conn:
            return read_run_table(conn, query)

    # ================================================================== helpers
    def _write_metrics(self, conn: Connection, run_id: str, metrics: Sequence[Metric]) -> int:
        """History rows and latest values of an open run; returns the run's number.

        Raises:
            NotFoundError: unknown run.
            InvalidInputError: the run is deleted or has ended.
        """
        status, stage, run_num = self._require_run(conn, run_id)
        if stage != "active" or status in TERMINAL_RUN_STATUSES:
            raise InvalidInputError(_closed_run_message(run_id, status, stage))
        with gc_paused():
            chunks, latest = metric_chunks(run_num, metrics)
            self._insert_metric_chunks(conn, chunks)
            upsert_latest_metrics(conn, self._sql.upsert_latest_metric, latest)
        return run_num

    def _insert_metric_chunks(self, conn: Connection, rows: list[ChunkRow]) -> None:
        """Insert history chunk rows (tuples of ``CHUNK_COLUMNS``) through the driver's executemany."""
        insert = self._sql.insert_metric_chunk
        for start in range(0, len(rows), _INSERT_CHUNK):
            insert.execute_rows(conn, rows[start : start + _INSERT_CHUNK], CHUNK_COLUMNS)

    def _require_experiment(self, conn: Connection, experiment_id: str) -> str:
        stage = conn.execute(
            sa.select(SqlExperiment.lifecycle_stage).where(SqlExperiment.experiment_id == experiment_id)
        ).scalar()
        if stage is None:
            raise NotFoundError(f"no experiment with id {experiment_id!r}")
        return str(stage)

    def _require_run(self, conn: Connection, run_id: str) -> tuple[str, str, int]:
        """The run's status, lifecycle stage and internal number."""
        row = self._sql.run_state.first(conn, {"run_id": run_id})
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        return str(row[0]), str(row[1]), int(row[2])

    @staticmethod
    def _dedupe_params(params: Sequence[Param]) -> dict[str, str]:
        unique: dict[str, str] = {}
        for p in params:
            if p.key in unique and unique[p.key] != p.value:
                raise InvalidInputError(
                    f"param {p.key!r} is given twice in one batch with different values "
                    f"({unique[p.key]!r} and {p.value!r})"
                )
            unique[p.key] = p.value
        return unique

    def _write_params(self, conn: Connection, run_id: str, run_num: int, params: dict[str, str]) -> None:
        # All of the run's params in one indexed read (a run holds tens to thousands of params;
        # cheaper than binding the new keys in IN lists).
        stored: dict[str, str] = dict(self._sql.params_of_run.all(conn, {"run_num": run_num}))
        for key, value in params.items():
            if key in stored and stored[key] != value:
                raise InvalidInputError(
                    f"param {key!r} of run {run_id!r} is already {stored[key]!r}; cannot change it to "
                    f"{value!r} (params are write-once: log a new run, or use a metric or tag)"
                )
        rows = [(run_num, k, v) for k, v in params.items() if k not in stored]
        self._sql.insert_param.execute_rows(conn, rows, KEYED_COLUMNS)

    def _write_run_tags(self, conn: Connection, run_num: int, tags: Mapping[str, str | None]) -> None:
        sql = self._sql
        stored = dict(sql.tags_of_run.all(conn, {"run_num": run_num}))
        # Only changed tags are rewritten (re-setting the system tags is the common case).
        changed = {k: v for k, v in tags.items() if stored.get(k) != v}
        sql.delete_tag.execute_many(conn, [{"run_num": run_num, "key": k} for k in changed if k in stored])
        sql.insert_tag.execute_rows(
            conn, [(run_num, k, v) for k, v in changed.items() if v is not None], KEYED_COLUMNS
        )

    @staticmethod
    def _write_experiment_tags(conn: Connection, experiment_id: str, tags: Mapping[str, str | None]) -> None:
        if not tags:
            return
        conn.execute(
            sa.delete(SqlExperimentTag).where(
                SqlExperimentTag.experiment_id == experiment_id, SqlExperimentTag.key.in_(list(tags))
            )
        )
        rows = [
            {"experiment_id": experiment_id, "key": k, "value": v} for k, v in tags.items() if v is not None
        ]
        if rows:
            conn.execute(sa.insert(SqlExperimentTag), rows)

    @staticmethod
    def _delete_run_rows(conn: Connection, run_ids: Sequence[str]) -> None:
        # Explicit deletes rather than relying on ON DELETE CASCADE, which some backends lack.
        nums = sa.select(SqlRun.run_num).where(SqlRun.run_id.in_(run_ids)).scalar_subquery()
        for table in (SqlMetricChunk, SqlLatestMetric, SqlParam, SqlTag):
            conn.execute(sa.delete(table).where(table.run_num.in_(nums)))
        conn.execute(sa.delete(SqlDatasetInput).where(SqlDatasetInput.run_id.in_(run_ids)))
        conn.execute(sa.update(SqlRun).where(SqlRun.parent_run_id.in_(run_ids)).values(parent_run_id=None))
        conn.execute(sa.delete(SqlRun).where(SqlRun.run_id.in_(run_ids)))

    @staticmethod
    def _load_experiments(conn: Connection, condition: Any) -> list[Experiment]:
        rows = conn.execute(
            sa.select(SqlExperiment)
            .where(condition)
            .order_by(SqlExperiment.creation_time, SqlExperiment.experiment_id)
        ).all()
        if not rows:
            return []
        tags: dict[str, dict[str, str]] = {r.experiment_id: {} for r in rows}
        for chunk in _chunks(list(tags), _IN_CHUNK):
            for t in conn.execute(
                sa.select(SqlExperimentTag).where(SqlExperimentTag.experiment_id.in_(chunk))
            ):
                tags[t.experiment_id][t.key] = t.value
        return [
            Experiment(
                experiment_id=r.experiment_id,
                name=r.name,
                artifact_location=r.artifact_location,
                lifecycle_stage=r.lifecycle_stage,
                creation_time=int(r.creation_time),
                last_update_time=int(r.last_update_time),
                tags=tags[r.experiment_id],
            )
            for r in rows
        ]

    def _load_run(self, conn: Connection, run_id: str) -> Run:
        """One run with all its data, read with the prepared single-run statements.

        Raises:
            NotFoundError: unknown run.
        """
        sql = self._sql
        row = sql.run_row.first(conn, {"run_id": run_id})
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        run = dict(zip(RUN_COLUMNS, row[:-1], strict=True))
        num = {"run_num": row[-1]}
        return Run(
            **run,
            params=dict(sql.params_of_run.all(conn, num)),
            metrics={k: _loaded_value(v, n) for k, v, n in sql.latest_metrics_of_run.all(conn, num)},
            tags=dict(sql.tags_of_run.all(conn, num)),
            inputs=tuple(
                DatasetInput(name=n, digest=d, source=s, schema=sc, num_rows=rows, context=c)
                for n, d, s, sc, rows, c, _position in sql.inputs_of_run.all(conn, {"run_id": run_id})
            ),
        )

    @staticmethod
    def _load_runs(conn: Connection, run_ids: Sequence[str], source: Any = None) -> list[Run]:
        """Runs with all their data, in the order of ``run_ids`` (unknown ids are left out).

        ``source``, a SELECT of run ids, replaces the literal id lists in the data queries (a search
        passes its own query, which saves binding thousands of ids five times).
        """
        rows: dict[str, Any] = {}
        params: dict[str, dict[str, str]] = {}
        metrics: dict[str, dict[str, float]] = {}
        tags: dict[str, dict[str, str]] = {}
        inputs: dict[str, list[tuple[int, DatasetInput]]] = {}
        chunks = [source] if source is not None else list(_chunks(list(run_ids), _IN_CHUNK))
        for chunk in chunks:
            for r in conn.execute(sa.select(*SqlRun.__table__.c).where(SqlRun.run_id.in_(chunk))).all():
                rows[r.run_id] = r
            for target, table in ((params, SqlParam), (tags, SqlTag)):
                query = (
                    sa.select(SqlRun.run_id, table.key, table.value)
                    .join(SqlRun, SqlRun.run_num == table.run_num)
                    .where(SqlRun.run_id.in_(chunk))
                )
                for run_id, key, value in fetch_tuples(conn, query):
                    found = target.get(run_id)
                    if found is None:
                        found = target[run_id] = {}
                    found[key] = value
            latest = SqlLatestMetric
            metric_query = (
                sa.select(SqlRun.run_id, latest.key, latest.value, latest.is_nan)
                .join(SqlRun, SqlRun.run_num == latest.run_num)
                .where(SqlRun.run_id.in_(chunk))
            )
            for run_id, key, value, is_nan in fetch_tuples(conn, metric_query):
                found_metrics = metrics.get(run_id)
                if found_metrics is None:
                    found_metrics = metrics[run_id] = {}
                found_metrics[key] = math.nan if is_nan or value is None else float(value)
            for d in conn.execute(sa.select(SqlDatasetInput).where(SqlDatasetInput.run_id.in_(chunk))).all():
                dataset = DatasetInput(
                    name=d.name,
                    digest=d.digest,
                    source=d.source,
                    schema=d.schema,
                    num_rows=d.num_rows,
                    context=d.context,
                )
                inputs.setdefault(d.run_id, []).append((d.position, dataset))
        runs = []
        for run_id in run_ids:
            row = rows.get(run_id)
            if row is None:
                continue
            runs.append(
                Run(
                    run_id=row.run_id,
                    experiment_id=row.experiment_id,
                    run_name=row.run_name,
                    status=row.status,
                    start_time=int(row.start_time),
                    end_time=None if row.end_time is None else int(row.end_time),
                    lifecycle_stage=row.lifecycle_stage,
                    artifact_uri=row.artifact_uri,
                    user_id=row.user_id,
                    parent_run_id=row.parent_run_id,
                    heartbeat_time=None if row.heartbeat_time is None else int(row.heartbeat_time),
                    params=params.get(run_id, {}),
                    metrics=metrics.get(run_id, {}),
                    tags=tags.get(run_id, {}),
                    inputs=tuple(d for _, d in sorted(inputs.get(run_id, []), key=lambda x: x[0])),
                )
            )
        return runs
