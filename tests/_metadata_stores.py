"""Fixtures giving a fresh tracking or registry store of every implementation.

The conformance suite (``tests/conformance``) takes ``tracking_store`` / ``registry_store``; each
test then runs once per backend: a SQLite file and a PostgreSQL database (a real server, see
``_pg_server.py``). A later store implementation joins by adding its id to ``METADATA_BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops.store import RegistryStore, TrackingStore, open_registry_store, open_tracking_store

__all__ = ["metadata_uri", "registry_store", "tracking_store"]

METADATA_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=METADATA_BACKENDS)
def metadata_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URI naming a fresh, empty metadata store of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mlops.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def tracking_store(metadata_uri: str) -> TrackingStore:
    return open_tracking_store(metadata_uri)


@pytest.fixture
def registry_store(metadata_uri: str) -> RegistryStore:
    return open_registry_store(metadata_uri)
