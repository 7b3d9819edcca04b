"""Fixtures for the registry tests: fresh stores cloned quickly from a migrated template."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlops.store import open_registry_store, open_tracking_store
from mlops.store.sql.database import get_database

SQL_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=SQL_BACKENDS)
def sql_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQL metadata store of each backend (the registry client's tests need a URI that both
    the registry and the tracking store open; the object-store backends join once they take no options).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mlops.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def fresh_uri_factory(
    sql_uri: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str]]:
    """A function returning the URI of a new, empty, migrated store of the test's backend each call.

    Migrating a database takes ~0.25 s; a copy of a migrated SQLite file or ``CREATE DATABASE ...
    TEMPLATE`` on PostgreSQL takes a few milliseconds, so a hypothesis example can have its own store.
    """
    open_registry_store(sql_uri)
    open_tracking_store(sql_uri)
    get_database(sql_uri).dispose()  # no connection may stay open on a template
    created: list[str] = []
    if sql_uri.startswith("sqlite"):
        template = Path(sql_uri.removeprefix("sqlite:///"))

        def make() -> str:
            path = tmp_path / f"example-{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"

        yield make
        return

    import sqlalchemy as sa

    base, template_name = sql_uri.rsplit("/", 1)
    admin = sa.create_engine(request.getfixturevalue("pg_server_url"), isolation_level="AUTOCOMMIT")

    def make_pg() -> str:
        name = f"x_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:  # both identifiers are generated here, never user input
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
        created.append(name)
        return f"{base}/{name}"

    try:
        yield make_pg
    finally:
        for name in created:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
