"""The packaged Alembic scripts, the schema check on open, and the models agree."""

from __future__ import annotations

import logging
import math
import struct
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mlops.entities import Metric, Param
from mlops.errors import InvalidInputError, SchemaVersionError
from mlops.store import open_tracking_store
from mlops.store.sql import migrate
from mlops.store.sql.database import Database
from mlops.store.sql.models import Base


def test_head_constant_matches_the_scripts() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())  # type: ignore[arg-type]
    assert scripts.get_current_head() == migrate.HEAD_REVISION
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(migrate.KNOWN_REVISIONS)


def test_migrated_schema_equals_the_models(sql_uri: str) -> None:
    db = Database(sql_uri)

    def expected(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        # indexes that the migrations create on databases other than SQLite only
        return not (
            kind == "index"
            and not reflected
            and db.dialect == "sqlite"
            and getattr(obj, "info", {}).get("not_on_sqlite")
        )

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": expected})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    db.dispose()


def test_empty_database_without_auto_migrate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaVersionError, match="auto_migrate"):
        Database(f"sqlite:///{tmp_path / 'x.db'}", auto_migrate=False)


def test_database_from_a_newer_library_is_refused(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    open_tracking_store(uri)
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="upgrade mlops"):
        Database(uri)


def test_reopening_an_up_to_date_store_does_not_migrate(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_tracking_store(uri)
    exp = store.create_experiment("kept", "memory://k")
    again = Database(uri, auto_migrate=False)  # would raise if a migration were needed
    with again.read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
    assert open_tracking_store(uri).get_experiment(exp).name == "kept"


# ------------------------------------------------------------------ upgrade from 0001 (a user's old store)
def _fill_at_0001(uri: str) -> None:
    """A store as version 0001 of the schema left it: two runs (the first still RUNNING) with params,
    tags, metrics and dataset inputs."""
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        migrate.upgrade(conn, "0001_initial")
        conn.execute(
            sa.text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
                "creation_time, last_update_time) VALUES ('e1', 'old', 'memory://old', 'active', 1, 1)"
            )
        )
        for num, run_id in ((1, "a" * 32), (2, "b" * 32)):
            conn.execute(  # run_num from the database's own sequence, as the 0001 code left it
                sa.text(
                    "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, "
                    "end_time, lifecycle_stage, artifact_uri, user_id, parent_run_id, heartbeat_time) "
                    "VALUES (:id, 'e1', :name, :status, :num, :end, 'active', 'memory://x', 'u', NULL, NULL)"
                ),
                {
                    "num": num,
                    "id": run_id,
                    "name": f"run-{num}",
                    "status": "RUNNING" if num == 1 else "FINISHED",
                    "end": None if num == 1 else num,
                },
            )
            num = conn.execute(
                sa.text("SELECT run_num FROM runs WHERE run_id = :id"), {"id": run_id}
            ).scalar()
            conn.execute(
                sa.text(
                    "INSERT INTO params (run_id, key, value) VALUES (:id, 'C', :v), (:id, 'solver', 's')"
                ),
                {"id": run_id, "v": str(num)},
            )
            conn.execute(
                sa.text("INSERT INTO tags (run_id, key, value) VALUES (:id, 'team', 'risk')"), {"id": run_id}
            )
            conn.execute(
                sa.text(
                    "INSERT INTO latest_metrics (run_id, key, step, timestamp, value, is_nan) "
                    "VALUES (:id, 'auc', 3, 7, :v, false), (:id, 'loss', 0, 7, NULL, true)"
                ),
                {"id": run_id, "v": 0.5 + num / 10},
            )
            conn.execute(
                sa.text(  # one key out of step order, a NaN, and a tie broken by the order written
                    "INSERT INTO metrics (run_num, key, step, timestamp, value, is_nan) "
                    "VALUES (:num, 'auc', 3, 7, :v, false), (:num, 'auc', 1, 9, 0.25, false), "
                    "(:num, 'loss', 0, 7, NULL, true), (:num, 'auc', 3, 7, -1.5, false)"
                ),
                {"num": num, "v": 0.5 + num / 10},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO dataset_inputs (run_id, name, digest, context, source, schema, num_rows, "
                    "position) VALUES (:id, 'train', 'd1', 'training', 'file:///t.csv', '{}', 10, 0)"
                ),
                {"id": run_id},
            )
    engine.dispose()


def test_a_0001_store_is_upgraded_with_every_row_kept(sql_uri: str, caplog: pytest.LogCaptureFixture) -> None:
    _fill_at_0001(sql_uri)
    with caplog.at_level(logging.WARNING, logger="mlops.store.sql.database"):
        store = open_tracking_store(sql_uri)  # auto_migrate: 0001 -> head
    assert f"from 0001_initial to {migrate.HEAD_REVISION}" in caplog.text  # the user is told
    with Database(sql_uri, auto_migrate=False).read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
    run = store.get_run("b" * 32)
    assert run.params == {"C": "2", "solver": "s"}
    assert run.tags == {"team": "risk"}
    assert run.metrics["auc"] == pytest.approx(0.7) and math.isnan(run.metrics["loss"])
    assert [d.name for d in run.inputs] == ["train"]
    history = [(m.step, m.timestamp, m.value) for m in store.get_metric_history("b" * 32, "auc")]
    assert history == [(1, 9, 0.25), (3, 7, 0.5 + 2 / 10), (3, 7, -1.5)]  # 0004 packed them in order
    (loss,) = store.get_metric_history("b" * 32, "loss")
    assert (loss.step, loss.timestamp) == (0, 7) and math.isnan(loss.value)
    found = store.search_runs(["e1"], "params.C = '1' and metrics.auc > 0.55 and tags.team = 'risk'")
    assert [r.run_id for r in found] == ["a" * 32]
    table = store.search_run_table(["e1"], order_by=["metrics.auc DESC"])
    assert table.columns["run_id"] == ["b" * 32, "a" * 32]
    # 0003 filled value_bits: the table's values are the stored ones, bit for bit
    auc = table.metrics["auc"]
    assert dict(zip(auc.rows, auc.values, strict=True)) == {0: 0.5 + 2 / 10, 1: 0.5 + 1 / 10}
    assert all(v is None or math.isnan(v) for v in table.metrics["loss"].values)  # NaN may be None
    with Database(sql_uri, auto_migrate=False).read() as conn:
        stored = conn.execute(sa.text("SELECT value, is_nan, value_bits FROM latest_metrics")).all()
    assert len(stored) == 4
    for value, is_nan, bits in stored:
        (decoded,) = struct.unpack("<d", bytes(bits))
        assert math.isnan(decoded) if is_nan else decoded == value
    # the upgraded store takes new data, and the write-once check sees the old params
    new = store.create_run("e1", run_name="new", start_time=9, tags={"team": "ops"})
    store.log_batch(new.run_id, params=[Param("C", "3")], metrics=[Metric("auc", 0.9, 1, 0)])
    with pytest.raises(InvalidInputError, match="already '1'"):
        store.log_batch("a" * 32, params=[Param("C", "9")])
    assert store.get_run(new.run_id).params == {"C": "3"}
    store.purge_run("a" * 32)
    assert [r.run_id for r in store.search_runs(["e1"], "tags.team = 'risk'")] == ["b" * 32]


def test_downgrading_to_0001_keeps_every_row(sql_uri: str) -> None:
    _fill_at_0001(sql_uri)
    open_tracking_store(sql_uri)
    engine = sa.create_engine(sql_uri)
    with engine.begin() as conn:
        from alembic import command

        command.downgrade(migrate.alembic_config(conn), "0001_initial")  # type: ignore[arg-type]
    with engine.connect() as conn:
        params = conn.execute(sa.text("SELECT run_id, key, value FROM params ORDER BY run_id, key")).all()
        latest = conn.execute(sa.text("SELECT run_id, key, is_nan FROM latest_metrics ORDER BY 1, 2")).all()
        history = conn.execute(
            sa.text("SELECT run_num, key, step, timestamp, value, is_nan FROM metrics ORDER BY run_num, id")
        ).all()
    engine.dispose()
    assert [tuple(p) for p in params] == [
        ("a" * 32, "C", "1"),
        ("a" * 32, "solver", "s"),
        ("b" * 32, "C", "2"),
        ("b" * 32, "solver", "s"),
    ]
    assert [(r[0][0], r[1], bool(r[2])) for r in latest] == [
        ("a", "auc", False),
        ("a", "loss", True),
        ("b", "auc", False),
        ("b", "loss", True),
    ]
    assert [(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in history] == [
        (num, key, step, stamp, value, nan)
        for num in (1, 2)
        for key, step, stamp, value, nan in (
            ("auc", 3, 7, 0.5 + num / 10, False),
            ("auc", 1, 9, 0.25, False),
            ("auc", 3, 7, -1.5, False),
            ("loss", 0, 7, None, True),
        )
    ]
