"""Schema migrations: the Alembic scripts shipped in the package, run programmatically.

The head revision is a constant so that opening an up-to-date store reads one row and imports
nothing from Alembic; ``tests/test_sql_migrations.py`` checks the constant against the scripts.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["HEAD_REVISION", "KNOWN_REVISIONS", "current_revision", "head_revision", "is_known", "upgrade"]

#: Every revision this version of the library can read, oldest first.
KNOWN_REVISIONS: tuple[str, ...] = (
    "0001_initial",
    "0002_integer_run_keys",
    "0003_latest_value_bits",
    "0004_metric_chunks",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]
SCRIPT_LOCATION = Path(__file__).parent / "migrations"


def head_revision() -> str:
    """The newest schema revision.

    Example:
        >>> head_revision()
        '0004_metric_chunks'
    """
    return HEAD_REVISION


def is_known(revision: str) -> bool:
    """True when this library can read (and if needed upgrade) a database at ``revision``."""
    return revision in KNOWN_REVISIONS


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database, or None for an empty database."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None


def alembic_config(conn: Connection | None = None) -> object:
    """An Alembic ``Config`` pointing at the packaged scripts (bound to ``conn`` when given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: Connection, revision: str = "head") -> None:
    """Upgrade the database behind ``conn`` to ``revision`` inside the caller's transaction."""
    from alembic import command

    if current_revision(conn) == HEAD_REVISION and revision == "head":
        return
    command.upgrade(alembic_config(conn), revision)  # type: ignore[arg-type]
