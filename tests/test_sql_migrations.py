"""The packaged Alembic scripts, the schema check on open, and the models agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mlops.errors import SchemaVersionError
from mlops.store import open_tracking_store
from mlops.store.sql import migrate
from mlops.store.sql.database import Database
from mlops.store.sql.models import Base


def test_head_constant_matches_the_scripts() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())  # type: ignore[arg-type]
    assert scripts.get_current_head() == migrate.HEAD_REVISION
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(migrate.KNOWN_REVISIONS)


def test_migrated_schema_equals_the_models(sql_uri: str) -> None:
    db = Database(sql_uri)

    def expected(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        # covering indexes that the migration creates on SQLite alone
        return not (
            kind == "index"
            and not reflected
            and db.dialect != "sqlite"
            and getattr(obj, "info", {}).get("sqlite_only")
        )

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": expected})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    db.dispose()


def test_empty_database_without_auto_migrate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaVersionError, match="auto_migrate"):
        Database(f"sqlite:///{tmp_path / 'x.db'}", auto_migrate=False)


def test_database_from_a_newer_library_is_refused(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    open_tracking_store(uri)
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="upgrade mlops"):
        Database(uri)


def test_reopening_an_up_to_date_store_does_not_migrate(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    store = open_tracking_store(uri)
    exp = store.create_experiment("kept", "memory://k")
    again = Database(uri, auto_migrate=False)  # would raise if a migration were needed
    with again.read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
    assert open_tracking_store(uri).get_experiment(exp).name == "kept"
