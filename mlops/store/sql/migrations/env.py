"""Alembic environment: always runs on the connection that ``mlops.store.sql.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from mlops.store.sql.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("mlops migrations run through mlops.store.sql.migrate.upgrade(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
