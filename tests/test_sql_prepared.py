"""Prepared statements on the driver's cursor: values bound, errors wrapped like SQLAlchemy's, and
the transaction committed or rolled back by :class:`Database` like any other statement."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError, OperationalError

from mlops.errors import StoreUnavailableError
from mlops.store.sql.database import Database, get_database
from mlops.store.sql.models import SqlExperiment
from mlops.store.sql.prepared import Prepared

_E = SqlExperiment.__table__
_COLUMNS = (
    "experiment_id",
    "name",
    "artifact_location",
    "lifecycle_stage",
    "creation_time",
    "last_update_time",
)


def _statements(db: Database) -> tuple[Prepared, Prepared, Prepared]:
    dialect = db.engine.dialect
    insert = Prepared(
        sa.insert(_E).values(**{c: sa.bindparam(c, type_=_E.c[c].type) for c in _COLUMNS}), dialect
    )
    select = Prepared(
        sa.select(_E.c.name, _E.c.creation_time).where(_E.c.experiment_id == sa.bindparam("id")), dialect
    )
    rename = Prepared(
        sa.update(_E).where(_E.c.experiment_id == sa.bindparam("id")).values(name=sa.bindparam("new")),
        dialect,
    )
    return insert, select, rename


def _row(name: str) -> dict[str, object]:
    return {
        "experiment_id": uuid.uuid4().hex,
        "name": name,
        "artifact_location": "memory://x",
        "lifecycle_stage": "active",
        "creation_time": 2**40,  # beyond 32 bits: BIGINT binds intact
        "last_update_time": 0,
    }


@pytest.fixture
def db(sql_uri: str) -> Database:
    return get_database(sql_uri)


def test_values_round_trip_and_rowcount(db: Database) -> None:
    insert, select, rename = _statements(db)
    row = _row(f"p-{uuid.uuid4().hex}")
    with db.write() as conn:
        insert.execute_many(conn, [row])
    with db.read() as conn:
        assert select.all(conn, {"id": row["experiment_id"]}) == [(row["name"], 2**40)]
        assert select.first(conn, {"id": "missing"}) is None
    with db.write() as conn:
        assert rename.rowcount(conn, {"id": row["experiment_id"], "new": f"{row['name']}-2"}) == 1
        assert rename.rowcount(conn, {"id": "missing", "new": "x"}) == 0


def test_driver_errors_are_wrapped_and_the_transaction_rolled_back(db: Database) -> None:
    insert, select, _ = _statements(db)
    first = _row(f"d-{uuid.uuid4().hex}")
    duplicate_name = _row(str(first["name"]))
    with db.write() as conn:
        insert.execute_many(conn, [first])
    later = _row(f"later-{uuid.uuid4().hex}")
    with pytest.raises(IntegrityError), db.write() as conn:
        insert.execute_many(conn, [later])  # written, then rolled back with the failing statement
        insert.execute_many(conn, [duplicate_name])
    with db.read() as conn:
        assert select.first(conn, {"id": later["experiment_id"]}) is None


def test_a_block_without_sqlalchemy_statements_still_commits(db: Database) -> None:
    """Only the driver's cursor is used inside the block: the write must still be committed."""
    insert, select, _ = _statements(db)
    row = _row(f"c-{uuid.uuid4().hex}")
    with db.write(read_first=False) as conn:
        insert.execute_many(conn, [row])
    db.engine.dispose()  # a fresh connection sees only what was committed
    with db.read() as conn:
        assert select.first(conn, {"id": row["experiment_id"]}) == (row["name"], 2**40)


def test_lock_timeout_on_the_cursor_is_a_store_unavailable_error(tmp_path: Path) -> None:
    """A driver 'database is locked' becomes SQLAlchemy's OperationalError, which the store retries
    and finally reports as StoreUnavailableError (not a raw sqlite3 exception)."""
    path = tmp_path / "locked.db"
    Database(f"sqlite:///{path}")  # creates the schema
    impatient = Database(f"sqlite:///{path}")
    insert, _, _ = _statements(impatient)
    impatient.engine.dispose()  # later connections run the listener below after the store's own
    sa.event.listen(
        impatient.engine, "connect", lambda dbapi_conn, _rec: dbapi_conn.execute("PRAGMA busy_timeout=0")
    )
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        with pytest.raises(StoreUnavailableError, match="locked"):
            impatient.run(lambda conn: insert.execute_many(conn, [_row("never")]), read_first=False)
        with pytest.raises(OperationalError, match="locked"), impatient.engine.connect() as conn:
            conn.begin()
            insert.execute_many(conn, [_row("never")])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s))
def test_any_text_is_bound_not_spliced(db: Database, name: str) -> None:
    """Quotes, percent signs and placeholders in values are data, never SQL."""
    insert, select, _ = _statements(db)
    row = _row(f"{name}-{uuid.uuid4().hex}")
    with db.write() as conn:
        insert.execute_many(conn, [row])
    with db.read() as conn:
        assert select.first(conn, {"id": row["experiment_id"]}) == (row["name"], 2**40)
