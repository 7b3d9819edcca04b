"""SQLite connection settings and transaction helpers of the SQL store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from mlops.errors import InvalidInputError, StoreUnavailableError
from mlops.store.sql.database import Database, _is_transient


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.read() as conn:
        pragmas = {
            p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
            for p in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys", "wal_autocheckpoint")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 60_000,
        "synchronous": 1,
        "foreign_keys": 1,
        "wal_autocheckpoint": 10_000,
    }


def test_missing_parent_directory_is_created(tmp_path: Path) -> None:
    Database(f"sqlite:///{tmp_path / 'a' / 'b' / 'x.db'}")
    assert (tmp_path / "a" / "b" / "x.db").exists()


def test_write_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_retry_gives_up_with_store_unavailable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    calls = []

    def locked(_conn: sa.Connection) -> None:
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with pytest.raises(StoreUnavailableError, match="database is locked"):
        db.run(locked)
    assert len(calls) == 8


def test_non_transient_errors_are_not_retried(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    calls = []

    def broken(conn: sa.Connection) -> None:
        calls.append(1)
        conn.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(StoreUnavailableError):
        db.run(broken)
    assert len(calls) == 1
    assert not _is_transient(ValueError("database is locked"))


def test_bad_url() -> None:
    with pytest.raises(InvalidInputError, match="not a database URL"):
        Database("::::")
