"""One SQL database: the engine, its SQLite settings, transactions with retries, and the schema check.

Both SQL stores (tracking and registry) share a :class:`Database` per URL and process, so a
tracking URI and a registry URI that name the same database use one connection pool.

SQLite settings (TESTING.md §5 measured why): WAL journal, ``busy_timeout``, ``synchronous=NORMAL``
and foreign keys, set on every connection. Plain appends run in pysqlite's default transactions
(fast); every transaction that reads and then writes starts with ``BEGIN IMMEDIATE`` so two
processes can never interleave between the read and the write.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from mlops.errors import InvalidInputError, SchemaVersionError, StoreUnavailableError

__all__ = ["Database", "fetch_tuples", "get_database"]

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 60_000
WAL_AUTOCHECKPOINT_PAGES = 10_000
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
_RETRY_ATTEMPTS = 8
_MIGRATION_LOCK_ID = 0x6D6C6F7073  # "mlops": the PostgreSQL advisory lock held while migrating
_IDLE_CONNECTIONS = 8  # SQLite files: open connections kept between transactions (see _Idle)


def _is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: SQLite lock contention, PostgreSQL serialization failures/deadlocks."""
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if "database is locked" in text or "database is busy" in text:
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in {"40001", "40P01"}


class Database:
    """An engine plus the helpers every SQL store method goes through.

    Example:
        >>> db = Database("sqlite://")
        >>> with db.read() as conn:
        ...     conn.execute(sa.text("select 1")).scalar()
        1
    """

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as e:
            raise InvalidInputError(f"not a database URL: {url!r} ({e})") from e
        self.dialect = parsed.get_backend_name()
        self.engine = self._create_engine(parsed)
        # SQLite files keep idle connections open (an in-memory database has just one connection)
        self._idle = _Idle(self.engine) if self.dialect == "sqlite" and not _in_memory(parsed) else None
        self._schema_checked = False
        self._schema_lock = threading.Lock()
        self.ensure_schema(auto_migrate=auto_migrate)

    # ------------------------------------------------------------------ engine
    def _create_engine(self, url: sa.engine.URL) -> Engine:
        if self.dialect != "sqlite":
            return sa.create_engine(url, pool_pre_ping=True, future=True)
        database = url.database or ""
        in_memory = _in_memory(url)
        if not in_memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        }
        if in_memory:  # one shared connection, or every checkout would see a new empty database
            kwargs["poolclass"] = StaticPool
        engine = sa.create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache (the default is 2 MiB)
            if not in_memory:
                cur.execute("PRAGMA mmap_size=268435456")  # read through a 256 MiB memory map
                # Checkpoint the WAL every ~40 MiB rather than every 4 MiB: each checkpoint syncs the
                # WAL and the database file, and at the default it ran every ~30 runs created.
                cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
                cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")  # then trim it back
            cur.close()

        return engine

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection for one block: a kept one when there is (SQLite files), else the pool's."""
        if self._idle is None:
            with self.engine.connect() as conn:
                yield conn
            return
        conn = self._idle.take()
        try:
            yield conn
        except BaseException:
            conn.close()  # its state after an error is not worth reasoning about: a fresh one next
            raise
        self._idle.give_back(conn)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (no transaction is held open longer than the block)."""
        with self._translate(), self._connection() as conn:
            yield conn

    @contextmanager
    def write(self, *, read_first: bool = True) -> Iterator[Connection]:
        """A transaction that commits at the end of the block and rolls back on error.

        With ``read_first`` (the default) the transaction takes SQLite's write lock up front
        (``BEGIN IMMEDIATE``) so reads inside it see the state the writes apply to. Pure appends
        pass ``read_first=False`` and keep pysqlite's cheaper deferred transaction.
        """
        with self._translate(), self._connection() as conn:
            # Begun explicitly: statements may run on the DBAPI cursor (``prepared.py``), which
            # SQLAlchemy does not see, and a transaction it never saw begin it would not commit.
            conn.begin()
            if read_first and self.dialect == "sqlite":
                self._begin_immediate(conn)
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _begin_immediate(self, conn: Connection) -> None:
        """Take SQLite's write lock now (on the driver's cursor; errors wrapped as SQLAlchemy does)."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        except dbapi_error as e:
            raise sa.exc.DBAPIError.instance(
                "BEGIN IMMEDIATE", (), e, dbapi_error, dialect=self.engine.dialect
            ) from e

    def run(self, fn: Callable[[Connection], T], *, read_first: bool = True) -> T:
        """Run ``fn`` in a write transaction, retried with jittered backoff on lock contention.

        ``fn`` must have no effects outside the database: it may run more than once.
        """
        delay = 0.01
        for attempt in range(_RETRY_ATTEMPTS):
            try:
                with self.write(read_first=read_first) as conn:
                    return fn(conn)
            except StoreUnavailableError as e:
                if attempt == _RETRY_ATTEMPTS - 1 or not _is_transient(e.__cause__ or e):
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as e:
            raise StoreUnavailableError(f"database {self._safe_url()} failed: {e.orig}") from e

    def _safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # ------------------------------------------------------------------ schema
    def ensure_schema(self, *, auto_migrate: bool = True) -> None:
        """Check the schema version; create or upgrade it when needed (and allowed).

        Two processes opening a brand-new database at once both succeed: the migration runs under
        SQLite's write lock or a PostgreSQL advisory lock, and the second finds it done.

        Raises:
            SchemaVersionError: the database is newer than this library, or older and
                ``auto_migrate`` is False.
        """
        with self._schema_lock:
            if self._schema_checked:
                return
            from mlops.store.sql import migrate

            head = migrate.head_revision()
            with self.read() as conn:
                current = migrate.current_revision(conn)
            if current != head:
                if current is not None and not migrate.is_known(current):
                    raise SchemaVersionError(
                        f"database {self._safe_url()} has schema revision {current}, which this version "
                        f"of mlops does not know (newest known: {head}); upgrade mlops"
                    )
                if not auto_migrate:
                    raise SchemaVersionError(
                        f"database {self._safe_url()} has schema revision {current}, expected {head}; "
                        "open it with auto_migrate=True (or run `python -m mlops db upgrade`) to upgrade"
                    )
                if current is not None:  # an existing store: say why the first open may take a while
                    log.warning(
                        "mlops: upgrading the schema of %s from %s to %s (once; about 10 s per million "
                        "metric points on SQLite)",
                        self._safe_url(),
                        current,
                        head,
                    )
                self._migrate()
            self._schema_checked = True

    def _migrate(self) -> None:
        from mlops.store.sql import migrate

        with self._translate(), self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))
            try:
                migrate.upgrade(conn)  # no-op when another process finished it first
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._idle is not None:
            self._idle.close_all()
        self.engine.dispose()


def _in_memory(url: sa.engine.URL) -> bool:
    """Whether a SQLite URL names an in-memory database rather than a file."""
    database = url.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:")


class _Idle:
    """Open connections kept between transactions, so a block does not pay for a checkout.

    Opening a SQLAlchemy ``Connection`` from the pool and closing it again costs ~100 µs of Python
    per transaction; creating a run takes three transactions, each ~100 µs of SQLite work on this
    schema. So SQLite file databases keep up to ``_IDLE_CONNECTIONS`` connections open between
    blocks. A connection is given back only between transactions (nothing begun on it, on the
    SQLAlchemy side or the driver's), so an idle connection holds no lock and no read snapshot;
    one used by a block that raised is closed instead. After ``fork()`` the child never uses the
    parent's connections: they are dropped unclosed (closing an inherited SQLite handle could
    disturb the parent's WAL), and the engine's pool is reset the same way.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._kept: list[Connection] = []
        self._pid = os.getpid()

    def take(self) -> Connection:
        with self._lock:
            self._forget_if_forked()
            if self._kept:
                return self._kept.pop()
        return self._engine.connect()

    def give_back(self, conn: Connection) -> None:
        if conn.in_transaction():
            conn.rollback()
        raw = None if conn.closed or conn.invalidated else conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            with self._lock:
                self._forget_if_forked()
                if len(self._kept) < _IDLE_CONNECTIONS:
                    self._kept.append(conn)
                    return
        conn.close()

    def close_all(self) -> None:
        with self._lock:
            kept, self._kept = self._kept, []
            forked = self._pid != os.getpid()
        if not forked:
            for conn in kept:
                conn.close()

    def _forget_if_forked(self) -> None:
        """(Holding the lock.) In a forked child: drop the parent's connections without closing them."""
        if self._pid != os.getpid():
            self._orphans.extend(self._kept)  # kept referenced: never closed, never used
            self._kept = []
            self._pid = os.getpid()
            self._engine.dispose(close=False)

    _orphans: ClassVar[list[Connection]] = []


def fetch_tuples(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    """All rows of a SELECT as plain tuples, straight from the driver's cursor.

    The statement goes through SQLAlchemy as usual (compiled once and cached, values bound as
    parameters); only the rows skip the Row objects, which halves the cost of loading tens of
    thousands of key/value rows. No result type processing is applied, so select only columns whose
    driver values are already right (strings, numbers, booleans).
    """
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def get_database(url: str, *, auto_migrate: bool = True) -> Database:
    """The process-wide :class:`Database` for ``url`` (created on first use).

    In-memory SQLite URLs get a new database each call: they cannot be shared by name.

    Example:
        >>> get_database("sqlite://").dialect
        'sqlite'
    """
    if url in ("sqlite://", "sqlite:///:memory:"):
        return Database(url, auto_migrate=auto_migrate)
    with _databases_lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = Database(url, auto_migrate=auto_migrate)
        return db
