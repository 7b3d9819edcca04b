"""Statements compiled once to the driver's SQL and run on the connection's own DBAPI cursor.

The hot paths of the tracking store (create a run, log params, end a run, read one run) run a handful
of small statements each. Through SQLAlchemy's full execution path each costs ~60 µs even when its
compiled form is cached, and building a Core expression per call costs ~500 µs; on the driver's
cursor the same statement costs ~8 µs on SQLite. So the statements are still *written* as SQLAlchemy
Core (tables from ``models.py``, values as named :func:`sqlalchemy.bindparam`; no text is ever built
from input), compiled once per dialect, and executed with bound parameters on the DBAPI cursor of the
SQLAlchemy connection that holds the transaction. Driver errors are wrapped the way SQLAlchemy wraps
them (``sqlalchemy.exc.OperationalError``, ``IntegrityError``...), so retries and error translation in
:class:`~mlops.store.sql.database.Database` work unchanged.

No result processing is applied: select only columns whose driver values are already right
(strings, numbers, booleans).

Example:
    >>> import sqlalchemy as sa
    >>> from mlops.store.sql.database import Database
    >>> from mlops.store.sql.models import SqlExperiment as E
    >>> db = Database("sqlite://")
    >>> query = Prepared(
    ...     sa.select(E.__table__.c.name).where(E.__table__.c.experiment_id == sa.bindparam("id")),
    ...     db.engine.dialect,
    ... )
    >>> with db.read() as conn:
    ...     query.all(conn, {"id": "nope"})
    []
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

__all__ = ["Prepared"]


class Prepared:
    """One Core statement compiled for one dialect, executed on the raw cursor with bound values.

    Args:
        statement: a Core statement whose values are named ``bindparam`` s.
        dialect: the engine's dialect (``engine.dialect``).
    """

    __slots__ = ("_dbapi_error", "_dialect", "_names", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = str(compiled)
        # qmark/format drivers take a tuple in placeholder order; pyformat/named drivers a mapping
        self._names: tuple[str, ...] | None = (
            tuple(compiled.positiontup or ()) if compiled.positional else None
        )
        self._dialect = dialect
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def _bind(self, values: Mapping[str, Any]) -> Any:
        if self._names is None:
            return values
        return tuple(values[name] for name in self._names)

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """Run the statement once; return the DBAPI cursor (fetch from it, then it is discarded)."""
        params = self._bind(values)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, params)
        except self._dbapi_error as e:
            cursor.close()
            raise self._wrap(e, params) from e
        return cursor

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row (the driver's ``executemany``)."""
        if rows:
            self._execute_many(conn, [self._bind(r) for r in rows])

    def execute_rows(self, conn: Connection, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Like :meth:`execute_many` for rows given as tuples of ``columns`` (no dict per row when
        the driver takes tuples in that order, which is what makes bulk inserts cheap)."""
        if not rows:
            return
        names = tuple(columns)
        if self._names == names:
            self._execute_many(conn, rows)
        elif self._names is None:
            self._execute_many(conn, [dict(zip(names, r, strict=True)) for r in rows])
        else:
            where = [names.index(n) for n in self._names]
            self._execute_many(conn, [tuple(r[i] for i in where) for r in rows])

    def _execute_many(self, conn: Connection, params: Sequence[Any]) -> None:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql, params)
        except self._dbapi_error as e:
            raise self._wrap(e, params[:10]) from e
        finally:
            cursor.close()

    def all(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of a SELECT as plain tuples."""
        cursor = self.execute(conn, values)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a SELECT, or None."""
        cursor = self.execute(conn, values)
        try:
            row = cursor.fetchone()
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def rowcount(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run an UPDATE or DELETE; return how many rows it touched."""
        cursor = self.execute(conn, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _wrap(self, error: Exception, params: Any) -> BaseException:
        """The SQLAlchemy exception SQLAlchemy itself would raise for this driver error."""
        return sa.exc.DBAPIError.instance(self.sql, params, error, self._dbapi_error, dialect=self._dialect)
