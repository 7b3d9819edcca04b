"""Dialect upserts for the latest-metric table (one statement on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlops.store.sql.models import SqlLatestMetric
from mlops.store.sql.prepared import Prepared

__all__ = ["COLUMNS", "upsert_latest_metrics", "upsert_statement"]

_T = cast(sa.Table, SqlLatestMetric.__table__)


COLUMNS = ("run_num", "key", "step", "timestamp", "value", "is_nan", "value_bits")
"""The columns of a latest-metric row, in the order :func:`upsert_latest_metrics` takes them."""


def upsert_latest_metrics(
    conn: Connection, statement: Prepared | None, rows: Sequence[Sequence[Any]]
) -> None:
    """Make each row the latest point of its (run, key) where it is at least as late as the stored one.

    Rows are tuples of :data:`COLUMNS`, one per (run, key). A stored point is replaced when the new
    one has a higher step, or the same step and a timestamp at least as late. ``statement`` is the
    dialect's prepared :func:`upsert_statement`, or None where the dialect has none (then a portable
    read-compare-write runs).
    """
    if not rows:
        return
    if statement is None:
        _portable_upsert(conn, [dict(zip(COLUMNS, r, strict=True)) for r in rows])
    else:
        statement.execute_rows(conn, rows, COLUMNS)


def upsert_statement(dialect_name: str) -> Any | None:
    """``INSERT ... ON CONFLICT DO UPDATE ... WHERE newer`` for SQLite or PostgreSQL (else None),
    with named bind parameters for :data:`COLUMNS`; compile it once (it is a constant)."""
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:
        return None
    stmt = insert(_T).values(**{c: sa.bindparam(c, type_=_T.c[c].type) for c in COLUMNS})
    newer = sa.or_(
        stmt.excluded.step > _T.c.step,
        sa.and_(stmt.excluded.step == _T.c.step, stmt.excluded.timestamp >= _T.c.timestamp),
    )
    return stmt.on_conflict_do_update(
        index_elements=[_T.c.run_num, _T.c.key],
        set_={c: stmt.excluded[c] for c in COLUMNS[2:]},
        where=newer,
    )


def _portable_upsert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Read-compare-write for dialects without ON CONFLICT (the caller holds a write transaction)."""
    for row in rows:
        stored = conn.execute(
            sa.select(_T.c.step, _T.c.timestamp).where(_T.c.run_num == row["run_num"], _T.c.key == row["key"])
        ).first()
        if stored is None:
            conn.execute(sa.insert(_T).values(**row))
        elif (row["step"], row["timestamp"]) >= (stored.step, stored.timestamp):
            conn.execute(
                sa.update(_T)
                .where(_T.c.run_num == row["run_num"], _T.c.key == row["key"])
                .values(**{c: row[c] for c in COLUMNS[2:]})
            )
