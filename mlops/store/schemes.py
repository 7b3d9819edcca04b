"""Which store implementation serves a URI: a scheme → implementation registry with lazy imports.

A URI's scheme picks the implementation, nothing is imported until a store is opened, and a missing
optional dependency becomes a :class:`~mlops.errors.MissingDependencyError` naming the extra to
install. Third parties add schemes without editing ``mlops``, either at run time::

    from mlops.store.schemes import register_tracking_store
    register_tracking_store("mydb", "my_package.store:MyTrackingStore")

or through entry points in their package's ``pyproject.toml``::

    [project.entry-points."mlops.tracking_stores"]
    mydb = "my_package.store:MyTrackingStore"

(groups ``mlops.tracking_stores``, ``mlops.registry_stores`` and ``mlops.artifact_stores``).
An implementation is a class (or factory) called as ``factory(uri, **options)``.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from mlops.errors import InvalidInputError, MissingDependencyError

__all__ = [
    "SQL_SCHEMES",
    "Kind",
    "is_sql_uri",
    "register_artifact_store",
    "register_registry_store",
    "register_tracking_store",
    "resolve",
    "scheme_of",
]

Kind = Literal["tracking", "registry", "artifact"]


@dataclass(frozen=True)
class _Entry:
    target: str | Callable[..., Any]  # "package.module:Attr" or the factory itself
    extra: str | None = None  # the pip extra that provides its dependencies


_SQL = "mlops.store.sql.tracking:SqlTrackingStore"
_SQL_REGISTRY = "mlops.store.sql.registry:SqlRegistryStore"
_FSSPEC = "mlops.store.fsspec_artifacts:FsspecArtifactStore"
_OBJ = "mlops.store.objectstore.tracking:ObjectTrackingStore"
_OBJ_REGISTRY = "mlops.store.objectstore.registry:ObjectRegistryStore"

# SQLAlchemy dialects: "postgresql+psycopg" is looked up as "postgresql" (see scheme_of).
_BUILTIN: dict[Kind, dict[str, _Entry]] = {
    "tracking": {
        "sqlite": _Entry(_SQL),
        "postgresql": _Entry(_SQL, "postgres"),
        "mysql": _Entry(_SQL),
        "mssql": _Entry(_SQL),
        "file": _Entry(_OBJ),
        "memory": _Entry(_OBJ),
        "s3": _Entry(_OBJ, "s3"),
        "s3a": _Entry(_OBJ, "s3"),
        "gs": _Entry(_OBJ, "gcs"),
        "gcs": _Entry(_OBJ, "gcs"),
    },
    "registry": {
        "sqlite": _Entry(_SQL_REGISTRY),
        "postgresql": _Entry(_SQL_REGISTRY, "postgres"),
        "mysql": _Entry(_SQL_REGISTRY),
        "mssql": _Entry(_SQL_REGISTRY),
        "file": _Entry(_OBJ_REGISTRY),
        "memory": _Entry(_OBJ_REGISTRY),
        "s3": _Entry(_OBJ_REGISTRY, "s3"),
        "s3a": _Entry(_OBJ_REGISTRY, "s3"),
        "gs": _Entry(_OBJ_REGISTRY, "gcs"),
        "gcs": _Entry(_OBJ_REGISTRY, "gcs"),
    },
    "artifact": {
        "file": _Entry(_FSSPEC),
        "memory": _Entry(_FSSPEC),
        "s3": _Entry(_FSSPEC, "s3"),
        "s3a": _Entry(_FSSPEC, "s3"),
        "gs": _Entry(_FSSPEC, "gcs"),
        "gcs": _Entry(_FSSPEC, "gcs"),
    },
}

_lock = threading.Lock()
_registered: dict[Kind, dict[str, _Entry]] = {"tracking": {}, "registry": {}, "artifact": {}}
_entry_points_loaded: set[Kind] = set()
_GROUPS: dict[Kind, str] = {
    "tracking": "mlops.tracking_stores",
    "registry": "mlops.registry_stores",
    "artifact": "mlops.artifact_stores",
}


def scheme_of(uri: str) -> str:
    """The lookup scheme of a URI: lower-cased, without a SQLAlchemy ``+driver`` suffix.

    A plain path (no ``scheme://``) has scheme ``"file"``.

    Example:
        >>> scheme_of("postgresql+psycopg://u@h/db"), scheme_of("./runs"), scheme_of("S3://b/k")
        ('postgresql', 'file', 's3')
    """
    if "://" not in uri:
        return "file"
    scheme = uri.split("://", 1)[0].lower()
    if len(scheme) == 1:  # "C://..." is a Windows drive, not a scheme
        return "file"
    return scheme.split("+", 1)[0]


SQL_SCHEMES = frozenset({"sqlite", "postgresql", "mysql", "mssql"})


def is_sql_uri(uri: str) -> bool:
    """True when ``uri`` names a SQL database (whose stores take no fsspec storage options).

    Example:
        >>> is_sql_uri("sqlite:///x.db"), is_sql_uri("s3://bucket/mlops")
        (True, False)
    """
    return scheme_of(uri) in SQL_SCHEMES


def _register(kind: Kind, scheme: str, target: str | Callable[..., Any], extra: str | None) -> None:
    if not scheme or not scheme.replace("-", "").replace(".", "").isalnum():
        raise InvalidInputError(f"invalid scheme {scheme!r}: use letters, digits, '-' or '.'")
    with _lock:
        _registered[kind][scheme.lower()] = _Entry(target, extra)


def register_tracking_store(scheme: str, target: str | Callable[..., Any], extra: str | None = None) -> None:
    """Serve tracking URIs of ``scheme`` with ``target`` (``"pkg.module:Class"`` or a factory).

    Example:
        >>> register_tracking_store("doc-example", "mlops.store.sql.tracking:SqlTrackingStore")
    """
    _register("tracking", scheme, target, extra)


def register_registry_store(scheme: str, target: str | Callable[..., Any], extra: str | None = None) -> None:
    """Serve registry URIs of ``scheme`` with ``target`` (``"pkg.module:Class"`` or a factory).

    Example:
        >>> register_registry_store("doc-example", "mlops.store.sql.registry:SqlRegistryStore")
    """
    _register("registry", scheme, target, extra)


def register_artifact_store(scheme: str, target: str | Callable[..., Any], extra: str | None = None) -> None:
    """Serve artifact URIs of ``scheme`` with ``target`` (``"pkg.module:Class"`` or a factory).

    Example:
        >>> register_artifact_store("doc-example", "mlops.store.fsspec_artifacts:FsspecArtifactStore")
    """
    _register("artifact", scheme, target, extra)


def _load_entry_points(kind: Kind) -> None:
    if kind in _entry_points_loaded:
        return
    with _lock:
        for ep in entry_points(group=_GROUPS[kind]):
            _registered[kind].setdefault(ep.name.lower(), _Entry(ep.value))
        _entry_points_loaded.add(kind)


def _import_target(target: str, extra: str | None, scheme: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        hint = f"pip install 'mlops[{extra}]'" if extra else f"install the package providing {module_name}"
        raise MissingDependencyError(
            f"the store for '{scheme}://' URIs needs a package that is not installed ({e.name or e}); {hint}"
        ) from e
    factory: Callable[..., Any] = getattr(module, attr)
    return factory


def resolve(kind: Kind, uri: str) -> Callable[..., Any]:
    """The factory serving ``uri`` for a store ``kind``.

    Raises:
        InvalidInputError: no implementation is known for the URI's scheme.
        MissingDependencyError: the implementation needs an extra that is not installed.

    Example:
        >>> resolve("artifact", "memory://x").__name__
        'FsspecArtifactStore'
    """
    scheme = scheme_of(uri)
    _load_entry_points(kind)
    entry = _registered[kind].get(scheme) or _BUILTIN[kind].get(scheme)
    if entry is None:
        if kind == "artifact":
            entry = _fsspec_fallback(scheme)
        if entry is None:
            known = sorted(set(_BUILTIN[kind]) | set(_registered[kind]))
            raise InvalidInputError(
                f"no {kind} store for {uri!r} (scheme {scheme!r}); known schemes: {', '.join(known)}"
            )
    if callable(entry.target):
        return entry.target
    factory = _import_target(entry.target, entry.extra, scheme)
    if entry.extra:
        _check_extra(entry.extra, scheme, uri)
    return factory


# The default driver module of each extra. A URI naming another driver ("postgresql+pg8000://")
# brings its own, so only the default is checked.
_EXTRA_MODULES = {"postgres": "psycopg", "s3": "s3fs", "gcs": "gcsfs"}


def _check_extra(extra: str, scheme: str, uri: str) -> None:
    module = _EXTRA_MODULES.get(extra)
    if module is None:
        return
    driver = uri.split("://", 1)[0].lower().partition("+")[2]
    if driver and driver != module:
        return
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"'{scheme}://' URIs need the {module} package, which is not installed; "
            f"pip install 'mlops[{extra}]'"
        )


def _fsspec_fallback(scheme: str) -> _Entry | None:
    """Any protocol fsspec knows can hold artifacts, even if mlops does not list it."""
    from fsspec.registry import known_implementations, registry

    if scheme in registry or scheme in known_implementations:
        return _Entry(_FSSPEC)
    return None
