"""Dialect upserts for the latest-metric table (one statement on SQLite and PostgreSQL)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlops.store.sql.models import SqlLatestMetric

__all__ = ["upsert_latest_metrics"]

_T = cast(sa.Table, SqlLatestMetric.__table__)


def upsert_latest_metrics(conn: Connection, dialect: str, rows: Sequence[dict[str, Any]]) -> None:
    """Make each row the latest point of its (run, key) where it is at least as late as the stored one.

    A stored point is replaced when the new one has a higher step, or the same step and a timestamp
    at least as late; ``rows`` must hold one row per (run, key).
    """
    if not rows:
        return
    statement = _upsert_statement(dialect)
    if statement is None:
        _portable_upsert(conn, rows)
    else:
        conn.execute(statement, list(rows))


@functools.lru_cache(maxsize=4)
def _upsert_statement(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE ... WHERE newer`` for a dialect, built once (it is a constant).

    Building it per call cost more than executing it for small batches.
    """
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:
        return None
    stmt = insert(_T)
    newer = sa.or_(
        stmt.excluded.step > _T.c.step,
        sa.and_(stmt.excluded.step == _T.c.step, stmt.excluded.timestamp >= _T.c.timestamp),
    )
    return stmt.on_conflict_do_update(
        index_elements=[_T.c.run_id, _T.c.key],
        set_={c: stmt.excluded[c] for c in ("step", "timestamp", "value", "is_nan")},
        where=newer,
    )


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
