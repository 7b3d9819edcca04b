"""latest_metrics.value_bits: each latest value's 8 IEEE 754 bytes

Revision ID: 0003_latest_value_bits
Revises: 0002_integer_run_keys
Create Date: 2026-11-27

A search reads the latest values of many runs at once. On SQLite it asks for them as one
concatenated blob of these bytes, which the driver returns as a single value, instead of one row
per value. The column is added (nullable) and filled for every existing row from ``value`` and
``is_nan`` inside the migration's transaction: on SQLite by one UPDATE through a function
registered on the connection, elsewhere a range of run numbers at a time.
"""

from __future__ import annotations

import struct
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003_latest_value_bits"
down_revision = "0002_integer_run_keys"
branch_labels = None
depends_on = None

_RUNS_PER_STEP = 10_000
_NAN = struct.pack("<d", float("nan"))


def _bits(value: float | None, is_nan: object) -> bytes:
    """The bytes the library writes for a latest value: NaN for a stored NaN, -0.0 as 0.0."""
    return _NAN if is_nan or value is None else struct.pack("<d", value + 0.0)


def upgrade() -> None:
    op.add_column("latest_metrics", sa.Column("value_bits", sa.LargeBinary(length=8), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # one UPDATE through a function of this connection: ~1 µs a row
        driver: Any = bind.connection.dbapi_connection
        driver.create_function("mlops_0003_bits", 2, _bits, deterministic=True)
        bind.exec_driver_sql("UPDATE latest_metrics SET value_bits = mlops_0003_bits(value, is_nan)")
        return
    latest = sa.table(
        "latest_metrics",
        sa.column("run_num", sa.Integer),
        sa.column("key", sa.String),
        sa.column("value", sa.Float),
        sa.column("is_nan", sa.Boolean),
        sa.column("value_bits", sa.LargeBinary),
    )
    fill = (
        sa.update(latest)
        .where(latest.c.run_num == sa.bindparam("num"), latest.c.key == sa.bindparam("k"))
        .values(value_bits=sa.bindparam("bits"))
    )
    highest = bind.execute(sa.select(sa.func.max(latest.c.run_num))).scalar() or 0
    for low in range(0, highest + 1, _RUNS_PER_STEP):
        rows = bind.execute(
            sa.select(latest.c.run_num, latest.c.key, latest.c.value, latest.c.is_nan).where(
                latest.c.run_num >= low, latest.c.run_num < low + _RUNS_PER_STEP
            )
        ).all()
        if rows:
            bind.execute(
                fill,
                [
                    {
                        "num": num,
                        "k": key,
                        "bits": _bits(value, is_nan),
                    }
                    for num, key, value, is_nan in rows
                ],
            )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL): no table rebuild, which on SQLite
    # would have to restate WITHOUT ROWID.
    op.get_bind().exec_driver_sql("ALTER TABLE latest_metrics DROP COLUMN value_bits")
