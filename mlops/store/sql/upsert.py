"""Dialect upserts for the latest-metric table (one statement on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from mlops.store.sql.models import SqlLatestMetric
from mlops.store.sql.prepared import Prepared

__all__ = ["upsert_latest_metrics"]

_T = cast(sa.Table, SqlLatestMetric.__table__)


_COLUMNS = ("run_id", "key", "step", "timestamp", "value", "is_nan")


def upsert_latest_metrics(conn: Connection, dialect: str, rows: Sequence[Sequence[Any]]) -> None:
    """Make each row the latest point of its (run, key) where it is at least as late as the stored one.

    Rows are tuples ``(run_id, key, step, timestamp, value, is_nan)``, one per (run, key). A stored
    point is replaced when the new one has a higher step, or the same step and a timestamp at least
    as late.
    """
    if not rows:
        return
    statement = _upsert_statement(conn.dialect) if dialect in ("sqlite", "postgresql") else None
    if statement is None:
        _portable_upsert(conn, [dict(zip(_COLUMNS, r, strict=True)) for r in rows])
    else:
        statement.execute_rows(conn, rows, _COLUMNS)


_statements: dict[str, Prepared] = {}
_statements_lock = threading.Lock()


def _upsert_statement(dialect: Dialect) -> Prepared:
    """``INSERT ... ON CONFLICT DO UPDATE ... WHERE newer`` for a dialect, compiled once (a constant).

    Building it per call cost more than executing it for small batches.
    """
    cache_key = f"{dialect.name}+{dialect.driver}:{dialect.paramstyle}"
    with _statements_lock:
        found = _statements.get(cache_key)
        if found is not None:
            return found
    if dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    stmt = insert(_T).values(**{c: sa.bindparam(c, type_=_T.c[c].type) for c in _COLUMNS})
    newer = sa.or_(
        stmt.excluded.step > _T.c.step,
        sa.and_(stmt.excluded.step == _T.c.step, stmt.excluded.timestamp >= _T.c.timestamp),
    )
    prepared = Prepared(
        stmt.on_conflict_do_update(
            index_elements=[_T.c.run_id, _T.c.key],
            set_={c: stmt.excluded[c] for c in ("step", "timestamp", "value", "is_nan")},
            where=newer,
        ),
        dialect,
    )
    with _statements_lock:
        return _statements.setdefault(cache_key, prepared)


def _portable_upsert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Read-compare-write for dialects without ON CONFLICT (the caller holds a write transaction)."""
    for row in rows:
        stored = conn.execute(
            sa.select(_T.c.step, _T.c.timestamp).where(_T.c.run_id == row["run_id"], _T.c.key == row["key"])
        ).first()
        if stored is None:
            conn.execute(sa.insert(_T).values(**row))
        elif (row["step"], row["timestamp"]) >= (stored.step, stored.timestamp):
            conn.execute(
                sa.update(_T)
                .where(_T.c.run_id == row["run_id"], _T.c.key == row["key"])
                .values(
                    step=row["step"], timestamp=row["timestamp"], value=row["value"], is_nan=row["is_nan"]
                )
            )
