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


def _run_ranges() -> Iterator[tuple[int, int]]:
    top: int = op.get_bind().execute(sa.text("SELECT max(run_num) FROM runs")).scalar() or 0
    for low in range(0, top + 1, _RUNS_PER_STEP):
        yield low, low + _RUNS_PER_STEP


def _pack(run_num: int, key: str, points: list[tuple[int, int, float]]) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(points), _POINTS_PER_CHUNK):
        part = points[start : start + _POINTS_PER_CHUNK]
        steps, stamps, values = zip(*part, strict=True)
        rows.append(
            {
                "run_num": run_num,
                "key": key,
                "points": len(part),
                "step_bytes": np.array(steps, dtype=_INT64).tobytes(),
                "timestamp_bytes": np.array(stamps, dtype=_INT64).tobytes(),
                "value_bytes": np.array(values, dtype=_FLOAT64).tobytes(),
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
    bind = op.get_bind()
    m = _metrics.c
    for low, high in _run_ranges():
        found = bind.execute(
            sa.select(m.run_num, m.key, m.step, m.timestamp, m.value, m.is_nan)
            .where(m.run_num >= low, m.run_num < high)
            .order_by(m.run_num, m.key, m.id)
        ).all()
        by_key: dict[tuple[int, str], list[tuple[int, int, float]]] = {}
        for run_num, key, step, stamp, value, is_nan in found:
            point = (step, stamp, math.nan if is_nan or value is None else value)
            by_key.setdefault((run_num, key), []).append(point)
        rows = [row for (run_num, key), points in by_key.items() for row in _pack(run_num, key, points)]
        if rows:
            bind.execute(sa.insert(_chunks), rows)
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
    bind = op.get_bind()
    c = _chunks.c
    for low, high in _run_ranges():
        found = bind.execute(
            sa.select(c.run_num, c.key, c.points, c.step_bytes, c.timestamp_bytes, c.value_bytes)
            .where(c.run_num >= low, c.run_num < high)
            .order_by(c.id)
        ).all()
        rows = []
        for run_num, key, _points, step_bytes, stamp_bytes, value_bytes in found:
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
            bind.execute(sa.insert(_metrics), rows)
    op.drop_index("ix_metric_chunks_run_key", table_name="metric_chunks")
    op.drop_table("metric_chunks")
