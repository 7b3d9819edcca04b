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


# ------------------------------------------------------------------ connections kept between blocks
def _driver_connection(conn: sa.Connection) -> object:
    return conn.connection.dbapi_connection


def test_a_sqlite_file_reuses_its_connection_between_blocks(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        first = _driver_connection(conn)
    with db.read() as conn:
        assert _driver_connection(conn) is first
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    with db.write() as conn:  # the connection of a block that raised is closed, not reused
        assert _driver_connection(conn) is not first
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    db.dispose()


def test_a_kept_connection_holds_no_snapshot_or_lock(tmp_path: Path) -> None:
    """Between blocks nothing is open: another connection can write and fully checkpoint the WAL,
    and the kept connection then sees the new data."""
    import sqlite3

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with db.read() as conn:  # a read begins a transaction on the connection: it must end with the block
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    other = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    other.execute("INSERT INTO t VALUES (1)")
    busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0  # no reader holds an older snapshot
    other.close()
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    db.dispose()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_a_forked_child_never_uses_the_parents_connection(tmp_path: Path) -> None:
    import os

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        parent = id(_driver_connection(conn))
    pid = os.fork()
    if pid == 0:  # the child: its own connection, and its write lands
        code = 1
        try:
            with db.write() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (2)")
                code = 0 if id(_driver_connection(conn)) != parent else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with db.write() as conn:  # the parent's kept connection still works
        assert id(_driver_connection(conn)) == parent
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert sorted(x for (x,) in conn.exec_driver_sql("SELECT x FROM t")) == [1, 2]
    db.dispose()


def test_a_file_whose_path_mentions_memory_is_a_file(tmp_path: Path) -> None:
    """Only in-memory URLs go without kept connections; a file path may contain any word."""
    db = Database(f"sqlite:///{tmp_path / 'memory-study' / 'x.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        first = _driver_connection(conn)
    with db.read() as conn:
        assert _driver_connection(conn) is first
    db.dispose()
