"""Fixtures giving a fresh tracking or registry store of every implementation.

The conformance suite (``tests/conformance``) takes ``tracking_store`` / ``registry_store``; each
test then runs once per backend: a SQLite file, a PostgreSQL database (a real server, see
``_pg_server.py``) and the object store (``mlops.store.objectstore``) on a local folder, ``memory://``
and the S3 and GCS test servers (``_object_servers.py``). A later store implementation joins by adding
its id to ``METADATA_BACKENDS``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops.store import RegistryStore, TrackingStore, open_registry_store, open_tracking_store

__all__ = ["metadata_options", "metadata_uri", "registry_store", "sql_uri", "tracking_store"]

METADATA_BACKENDS = [
    "sqlite",
    "postgresql",
    "objstore-file",
    "objstore-memory",
    "objstore-s3",
    "objstore-gcs",
]


@pytest.fixture
def metadata_options() -> dict[str, Any]:
    """Storage options for the store that ``metadata_uri`` names (the object-store servers need some)."""
    return {}


@pytest.fixture(params=METADATA_BACKENDS)
def metadata_uri(
    request: pytest.FixtureRequest, tmp_path: Path, metadata_options: dict[str, Any]
) -> Iterator[str]:
    """A URI naming a fresh, empty metadata store of each backend."""
    unique = uuid.uuid4().hex
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mlops.db'}"
    elif request.param == "postgresql":
        yield request.getfixturevalue("pg_url")
    elif request.param == "objstore-file":
        yield (tmp_path / "objstore").as_uri()
    elif request.param == "objstore-memory":
        yield f"memory://mlops-meta-{unique}"
    elif request.param == "objstore-s3":
        metadata_options.update(request.getfixturevalue("s3_storage_options"))
        yield f"s3://{request.getfixturevalue('s3_bucket')}/meta-{unique}"
    else:
        metadata_options.update(request.getfixturevalue("gcs_storage_options"))
        yield f"gs://{request.getfixturevalue('gcs_bucket')}/meta-{unique}"


@pytest.fixture
def tracking_store(metadata_uri: str, metadata_options: dict[str, Any]) -> TrackingStore:
    return open_tracking_store(metadata_uri, **metadata_options)


@pytest.fixture
def registry_store(metadata_uri: str, metadata_options: dict[str, Any]) -> RegistryStore:
    return open_registry_store(metadata_uri, **metadata_options)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URI naming a fresh, empty SQL database (for tests of the SQL store itself)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mlops.db'}"
    else:
        yield request.getfixturevalue("pg_url")
