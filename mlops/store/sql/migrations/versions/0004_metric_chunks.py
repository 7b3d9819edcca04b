"""metric history in chunks: metric_chunks replaces metrics

Revision ID: 0004_metric_chunks
Revises: 0003_latest_value_bits
Create Date: 2026-11-27

The history table held one row per logged point. ``metric_chunks`` holds one row per key per write:
the points' steps, timestamps and values as packed little-endian arrays (int64, int64, float64 with
NaN as it is), at most 100,000 points a row, ordered by ``id``. The upgrade packs every run's
existing points, key by key in the order they were written (a range of run numbers at a time), and
drops ``metrics``; the downgrade unpacks them again. Both run inside the migration's transaction.
The packing is written out here, not imported, so that this revision keeps doing what it did when
the library's own code moves on.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0004_metric_chunks"
down_revision = "0003_latest_value_bits"
branch_labels = None
depends_on = None

_RUNS_PER_STEP = 1_000
_POINTS_PER_CHUNK = 100_000
_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")
_INT64_ONE = struct.Struct("<q").pack
_FLOAT64_ONE = struct.Struct("<d").pack

_metrics = sa.table(
    "metrics",
    sa.column("id", sa.Integer),
    sa.column("run_num", sa.Integer),
    sa.column("key", sa.String),
    sa.column("step", sa.BigInteger),
    sa.column("timestamp", sa.BigInteger),
    sa.column("value", sa.Float),
    sa.column("is_nan", sa.Boolean),
)
_CHUNK_COLUMNS = ("run_num", "key", "points", "step_bytes", "timestamp_bytes", "value_bytes")
_chunks = sa.table(
    "metric_chunks",
    sa.column("id", sa.Integer),
    sa.column("run_num", sa.Integer),
    sa.column("key", sa.String),
    sa.column("points", sa.Integer),
    sa.column("step_bytes", sa.LargeBinary),
    sa.column("timestamp_bytes", sa.LargeBinary),
    sa.column("value_bytes", sa.LargeBinary),
)


def _driver(statement: Any) -> tuple[Any, str, tuple[str, ...] | None]:
    """A cursor of the migration's connection, ``statement`` compiled for its driver, and the order
    of its parameters (None for a driver that takes them by name). The copy runs on the cursor:
    SQLAlchemy's per-row parameter processing cost ~10 µs a row, most of the upgrade's time."""
    bind = op.get_bind()
    compiled = statement.compile(dialect=bind.dialect)
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return bind.connection.dbapi_connection.cursor(), str(compiled), order  # type: ignore[union-attr]


def _bound(order: tuple[str, ...] | None, values: dict[str, Any]) -> Any:
    return values if order is None else tuple(values[name] for name in order)


def _run_ranges() -> Iterator[tuple[int, int]]:
    top: int = op.get_bind().execute(sa.text("SELECT max(run_num) FROM runs")).scalar() or 0
    for low in range(0, top + 1, _RUNS_PER_STEP):
        yield low, low + _RUNS_PER_STEP


def _pack(run_num: int, key: str, points: list[tuple[int, int, float]]) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(points), _POINTS_PER_CHUNK):
        part = points[start : start + _POINTS_PER_CHUNK]
        if len(part) == 1:  # the common case (one point per key per run): struct is 10x numpy here
            step, stamp, value = part[0]
            packed = (_INT64_ONE(step), _INT64_ONE(stamp), _FLOAT64_ONE(value))
        else:
            steps, stamps, values = zip(*part, strict=True)
            packed = (
                np.array(steps, dtype=_INT64).tobytes(),
                np.array(stamps, dtype=_INT64).tobytes(),
                np.array(values, dtype=_FLOAT64).tobytes(),
            )
        rows.append(
            {
                "run_num": run_num,
                "key": key,
                "points": len(part),
                "step_bytes": packed[0],
                "timestamp_bytes": packed[1],
                "value_bytes": packed[2],
            }
        )
    return rows


def upgrade() -> None:
    op.create_table(
        "metric_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_num", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("step_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("value_bytes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_num"], ["runs.run_num"], name=op.f("fk_metric_chunks_run_num_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_chunks")),
    )
    op.create_index("ix_metric_chunks_run_key", "metric_chunks", ["run_num", "key"], unique=False)
    m = _metrics.c
    cursor, read, read_order = _driver(
        sa.select(m.run_num, m.key, m.step, m.timestamp, m.value, m.is_nan)
        .where(m.run_num >= sa.bindparam("low"), m.run_num < sa.bindparam("high"))
        .order_by(m.run_num, m.key, m.id)
    )
    _, write, write_order = _driver(sa.insert(_chunks).values({c: sa.bindparam(c) for c in _CHUNK_COLUMNS}))
    for low, high in _run_ranges():
        cursor.execute(read, _bound(read_order, {"low": low, "high": high}))
        by_key: dict[tuple[int, str], list[tuple[int, int, float]]] = {}
        for run_num, key, step, stamp, value, is_nan in cursor.fetchall():
            point = (step, stamp, math.nan if is_nan or value is None else value)
            by_key.setdefault((run_num, key), []).append(point)
        rows = [row for (run_num, key), points in by_key.items() for row in _pack(run_num, key, points)]
        if rows:
            cursor.executemany(write, [_bound(write_order, row) for row in rows])
    op.drop_index("ix_metrics_run_key_step", table_name="metrics")
    op.drop_table("metrics")


def downgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_num", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_num"], ["runs.run_num"], name=op.f("fk_metrics_run_num_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_num", "key", "step"], unique=False)
    c = _chunks.c
    cursor, read, read_order = _driver(
        sa.select(c.run_num, c.key, c.points, c.step_bytes, c.timestamp_bytes, c.value_bytes)
        .where(c.run_num >= sa.bindparam("low"), c.run_num < sa.bindparam("high"))
        .order_by(c.id)
    )
    columns = ("run_num", "key", "step", "timestamp", "value", "is_nan")
    _, write, write_order = _driver(
        sa.insert(_metrics).values({name: sa.bindparam(name) for name in columns})
    )
    for low, high in _run_ranges():
        cursor.execute(read, _bound(read_order, {"low": low, "high": high}))
        rows = []
        for run_num, key, _points, step_bytes, stamp_bytes, value_bytes in cursor.fetchall():
            steps = np.frombuffer(step_bytes, dtype=_INT64).tolist()
            stamps = np.frombuffer(stamp_bytes, dtype=_INT64).tolist()
            values = np.frombuffer(value_bytes, dtype=_FLOAT64).tolist()
            for step, stamp, value in zip(steps, stamps, values, strict=True):
                nan = math.isnan(value)
                rows.append(
                    {
                        "run_num": run_num,
                        "key": key,
                        "step": step,
                        "timestamp": stamp,
                        "value": None if nan else value,
                        "is_nan": nan,
                    }
                )
        if rows:
            cursor.executemany(write, [_bound(write_order, row) for row in rows])
    op.drop_index("ix_metric_chunks_run_key", table_name="metric_chunks")
    op.drop_table("metric_chunks")
