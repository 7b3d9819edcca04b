"""params, tags and latest_metrics keyed by the run's integer run_num

Revision ID: 0002_integer_run_keys
Revises: 0001_initial
Create Date: 2026-11-26

Each of the three tables is rebuilt: its rows are copied aside with the run's ``run_num`` in place of
its ``run_id``, the table is dropped and created again (on SQLite ``WITHOUT ROWID``, so one run's rows
sit together in the primary key's b-tree), and the rows are copied back. Copying aside first keeps the
constraint and index names free on databases where they are schema-wide (PostgreSQL). On SQLite the
(key, value, run) indexes of the three tables go (filters probe the primary key instead; they cost
every write a page per key). The index ``ix_runs_experiment_id`` goes: ``ix_runs_experiment_start``
starts with the same column.

Every step is ordinary DDL and ``INSERT ... SELECT`` inside the migration's transaction, so a failed
upgrade leaves the database at 0001 (SQLite and PostgreSQL have transactional DDL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_integer_run_keys"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_VALUE_COLUMNS = {
    "params": ("value",),
    "tags": ("value",),
    "latest_metrics": ("step", "timestamp", "value", "is_nan"),
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _columns(table: str, run_column: sa.Column[Any]) -> list[sa.Column[Any]]:
    columns: list[sa.Column[Any]] = [run_column, sa.Column("key", sa.String(length=250), nullable=False)]
    if table == "latest_metrics":
        columns += [
            sa.Column("step", sa.BigInteger(), nullable=False),
            sa.Column("timestamp", sa.BigInteger(), nullable=False),
            sa.Column("value", sa.Float(precision=53), nullable=True),
            sa.Column("is_nan", sa.Boolean(), nullable=False),
        ]
    else:
        columns.append(sa.Column("value", sa.Text(), nullable=False))
    return columns


def _create(table: str, run_key: str) -> None:
    """Create ``table`` keyed by ``run_key`` (``run_num`` at 0002, ``run_id`` at 0001), with its indexes."""
    if run_key == "run_num":
        run_column: sa.Column[Any] = sa.Column("run_num", sa.Integer(), nullable=False)
        options = {"sqlite_with_rowid": False}
    else:
        run_column = sa.Column("run_id", sa.String(length=32), nullable=False)
        options = {}
    op.create_table(
        table,
        *_columns(table, run_column),
        sa.ForeignKeyConstraint(
            [run_key], [f"runs.{run_key}"], name=op.f(f"fk_{table}_{run_key}_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(run_key, "key", name=op.f(f"pk_{table}")),
        **options,
    )
    for name, columns in _indexes(table, run_key):
        op.create_index(name, table, list(columns), unique=False)


def _indexes(table: str, run_key: str) -> list[tuple[str, Sequence[str]]]:
    """The secondary indexes of ``table`` at the revision where runs are keyed by ``run_key``.

    At 0001: (key, value, run_id) on latest metrics everywhere, and on params and tags on SQLite
    (PostgreSQL caps btree entries below the longest allowed value). At 0002: the latest-metric one
    on databases other than SQLite only; SQLite filters probe the primary key (see ``models.py``).
    """
    if run_key == "run_num":
        return (
            []
            if _sqlite() or table != "latest_metrics"
            else [(f"ix_{table}_key_value_run", ("key", "value", "run_num"))]
        )
    if table == "latest_metrics" or _sqlite():
        return [(f"ix_{table}_key_value_run", ("key", "value", "run_id"))]
    return []


def _rebuild(table: str, old_key: str, new_key: str) -> None:
    """Move ``table`` from runs keyed by ``old_key`` to ``new_key``, keeping every row."""
    bind = op.get_bind()
    aside = f"{table}_{revision[:4]}_copy"
    values = ", ".join(f't."{c}"' for c in _VALUE_COLUMNS[table])
    # Identifiers only (fixed names from this script); no value is ever put into SQL text.
    bind.exec_driver_sql(
        f'CREATE TABLE {aside} AS SELECT r.{new_key} AS {new_key}, t."key" AS "key", {values} '
        f"FROM {table} t JOIN runs r ON r.{old_key} = t.{old_key}"
    )
    for name, _ in _indexes(table, old_key):
        op.drop_index(name, table_name=table)
    op.drop_table(table)
    _create(table, new_key)
    columns = ", ".join(f'"{c}"' for c in (new_key, "key", *_VALUE_COLUMNS[table]))
    bind.exec_driver_sql(
        f'INSERT INTO {table} ({columns}) SELECT {columns} FROM {aside} ORDER BY {new_key}, "key"'
    )
    op.drop_table(aside)


def upgrade() -> None:
    for table in _VALUE_COLUMNS:
        _rebuild(table, "run_id", "run_num")
    op.drop_index("ix_runs_experiment_id", table_name="runs")


def downgrade() -> None:
    op.create_index("ix_runs_experiment_id", "runs", ["experiment_id"], unique=False)
    for table in _VALUE_COLUMNS:
        _rebuild(table, "run_num", "run_id")
