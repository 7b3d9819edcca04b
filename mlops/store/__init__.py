"""Store interfaces and the functions that open a store from a URI.

Example:
    >>> from mlops.store import open_artifact_store
    >>> store = open_artifact_store("memory://doc-store-init")
    >>> store.put_bytes("hello.txt", b"hi").size
    2
"""

from __future__ import annotations

from typing import Any

from mlops.store.artifacts import ArtifactStore
from mlops.store.registry import RegistryStore
from mlops.store.schemes import (
    register_artifact_store,
    register_registry_store,
    register_tracking_store,
    resolve,
)
from mlops.store.tracking import TrackingStore

__all__ = [
    "ArtifactStore",
    "RegistryStore",
    "TrackingStore",
    "open_artifact_store",
    "open_registry_store",
    "open_tracking_store",
    "register_artifact_store",
    "register_registry_store",
    "register_tracking_store",
]


def open_tracking_store(uri: str, **options: Any) -> TrackingStore:
    """Open the tracking store that serves ``uri`` (``sqlite:///runs.db``, ``postgresql+psycopg://…``).

    Raises:
        InvalidInputError: no store serves the URI's scheme.
        MissingDependencyError: the store needs an extra that is not installed.

    Example:
        >>> store = open_tracking_store("sqlite://")   # in-memory SQLite
        >>> store.search_experiments()
        []
    """
    store: TrackingStore = resolve("tracking", uri)(uri, **options)
    return store


def open_registry_store(uri: str, **options: Any) -> RegistryStore:
    """Open the registry store that serves ``uri`` (the same URIs as tracking stores).

    Example:
        >>> open_registry_store("sqlite://").search_registered_models()
        []
    """
    store: RegistryStore = resolve("registry", uri)(uri, **options)
    return store


def open_artifact_store(uri: str, **storage_options: Any) -> ArtifactStore:
    """Open the artifact store rooted at ``uri`` (a path, ``file://``, ``memory://``, ``s3://``, ``gs://``).

    ``storage_options`` go to fsspec (``endpoint_url``, ``key``, ``secret``, ``token``, ...).

    Example:
        >>> open_artifact_store("memory://doc-open").root_uri
        'memory://doc-open'
    """
    store: ArtifactStore = resolve("artifact", uri)(uri, **storage_options)
    return store
