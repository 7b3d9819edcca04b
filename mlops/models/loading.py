"""``load_model``: find a model from its URI, verify every byte, then deserialize it.

Order of operations, for every source:

1. Resolve the URI: ``models:/`` through the registry, ``runs:/`` through the tracking store to the
   run's artifact store, paths and URLs as they are.
2. Read the manifest and check its SHA-256 against everything that vouches for it: the artifact
   store's recorded hash, the run's ``mlops.model.manifest_sha256/<name>`` tag, and the caller's
   ``manifest_sha256``.
3. Remote stores: download into the local cache (keyed by the manifest's hash), see
   :mod:`mlops.models.cache`.
4. Verify the directory: exactly the manifest's files, each with its SHA-256.
5. Only then deserialize: skops with the trusted-types policy, pickle formats only with
   ``allow_pickle=True``.

Example:
    >>> import pathlib, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlops.models.packaging import save_model
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lr"
    >>> info = save_model(LinearRegression().fit([[0.0], [1.0]], [1.0, 3.0]), path)
    >>> load_model(str(path), manifest_sha256=info.manifest_sha256).predict([[2.0]])
    array([5.])
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import IntegrityError, InvalidInputError, NotFoundError
from mlops.models.cache import fetch_to_cache
from mlops.models.flavors import get_flavor
from mlops.models.loaded import LoadedModel
from mlops.models.manifest import MANIFEST_FILE, Manifest, read_manifest, sha256_bytes, verify_directory
from mlops.models.uris import parse_model_uri

if TYPE_CHECKING:
    from mlops.store.artifacts import ArtifactStore
    from mlops.tracking.client import Client

__all__ = ["load_model"]

# flavor -> (distribution, module): saving records the module's ``__version__`` under the distribution's
# name, and loading compares it with the same attribute of the module the flavor has just imported.
_FLAVOR_LIBRARIES = {
    "sklearn": ("scikit-learn", "sklearn"),
    "xgboost": ("xgboost", "xgboost"),
    "lightgbm": ("lightgbm", "lightgbm"),
}


def load_model(
    uri: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    trusted_types: Iterable[str] = (),
    manifest_sha256: str | None = None,
    client: Client | None = None,
    registry_uri: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
) -> LoadedModel:
    """Load a model from ``runs:/``, ``models:/``, a local path or any fsspec URL.

    Args:
        uri: where the model is (see :mod:`mlops.models.uris`).
        allow_pickle: allow pickle/joblib/cloudpickle model files, which run code when loaded. Only for
            models from a source you trust.
        trusted_types: extra type names (``"mypkg.MyTransformer"``) to trust in a skops file, beyond
            scikit-learn/NumPy/SciPy. Names only; there is no "trust everything".
        manifest_sha256: the manifest's expected SHA-256 (``ModelInfo.manifest_sha256``); a different
            manifest is an ``IntegrityError``.
        client: the tracking client for ``runs:/`` URIs (default: the fluent API's client).
        registry_uri: the registry for ``models:/`` URIs (default: the registry's own default).
        storage_options: fsspec options for a URL (``endpoint_url``, credentials, ...).
        cache_dir: where remote models are cached (default: ``MLOPS_CACHE_DIR`` or ``~/.cache/mlops/models``).

    Returns:
        A :class:`~mlops.models.loaded.LoadedModel`.

    Raises:
        NotFoundError: nothing (or no model) at ``uri``.
        IntegrityError: a changed, missing or extra file, a changed manifest, a pickle-based model
            without ``allow_pickle=True``, or a skops file with untrusted types. Nothing was
            deserialized.
        InvalidInputError: a malformed URI, or ``models:/`` without the registry.

    Example:
        >>> load_model("runs:/not-a-run/model")
        Traceback (most recent call last):
        mlops.errors.NotFoundError: ...
    """
    text = os.fspath(uri) if isinstance(uri, os.PathLike) else uri
    parsed = parse_model_uri(text)
    trusted = tuple(trusted_types)
    if parsed.kind == "models":
        source = _resolve_models_uri(text, registry_uri)
        if parse_model_uri(source).kind == "models":
            raise InvalidInputError(f"the registry resolved {text!r} to another models:/ URI {source!r}")
        return load_model(
            source,
            manifest_sha256=manifest_sha256,
            client=client,
            storage_options=storage_options,
            allow_pickle=allow_pickle,
            trusted_types=trusted,
            cache_dir=cache_dir,
        )
    if parsed.kind == "runs":
        assert parsed.run_id is not None and parsed.path is not None
        return _load_from_run(
            text,
            parsed.run_id,
            parsed.path,
            client,
            manifest_sha256,
            allow_pickle=allow_pickle,
            trusted_types=trusted,
            cache_dir=cache_dir,
        )
    assert parsed.location is not None
    if parsed.kind == "path":
        directory = Path(parsed.location)
        manifest, sha = read_manifest(directory, expected_sha256=manifest_sha256)
        return _load_directory(directory, manifest, sha, text, allow_pickle, trusted)
    from mlops.store import open_artifact_store

    store = open_artifact_store(parsed.location, **dict(storage_options or {}))
    return _load_from_store(
        store,
        "",
        text,
        [manifest_sha256],
        allow_pickle=allow_pickle,
        trusted_types=trusted,
        cache_dir=cache_dir,
    )


def _resolve_models_uri(uri: str, registry_uri: str | None) -> str:
    try:
        from mlops.registry.uris import resolve_models_uri
    except ImportError as e:
        if (e.name or "").startswith("mlops.registry") or "mlops.registry" in str(e):
            raise InvalidInputError(
                f"models:/ URIs need the registry (mlops.registry), which this installation does not have; "
                f"load the model by its run instead (runs:/<run_id>/<path>) to open {uri!r}"
            ) from e
        raise
    source: str = resolve_models_uri(uri, registry_uri=registry_uri)
    return source


def _load_from_run(
    uri: str,
    run_id: str,
    path: str,
    client: Client | None,
    manifest_sha256: str | None,
    *,
    allow_pickle: bool,
    trusted_types: tuple[str, ...],
    cache_dir: str | Path | None,
) -> LoadedModel:
    from mlops.models.log import MANIFEST_TAG_PREFIX

    if client is None:
        from mlops.tracking.fluent import get_client

        client = get_client()
    run = client.get_run(run_id)
    store = client.artifact_store(run_id)
    expected = [manifest_sha256, run.tags.get(MANIFEST_TAG_PREFIX + path)]
    return _load_from_store(
        store,
        path,
        uri,
        expected,
        allow_pickle=allow_pickle,
        trusted_types=trusted_types,
        cache_dir=cache_dir,
    )


def _load_from_store(
    store: ArtifactStore,
    prefix: str,
    uri: str,
    expected: list[str | None],
    *,
    allow_pickle: bool,
    trusted_types: tuple[str, ...],
    cache_dir: str | Path | None,
) -> LoadedModel:
    key = f"{prefix}/{MANIFEST_FILE}" if prefix else MANIFEST_FILE
    try:
        info = store.info(key)
        data = store.get_bytes(key)
    except NotFoundError as e:
        raise NotFoundError(f"no model at {uri}: {MANIFEST_FILE} not found in {store.root_uri}") from e
    sha = sha256_bytes(data)
    checks = [("the store's recorded hash", info.sha256), *(("the recorded hash", w) for w in expected)]
    for label, want in checks:
        if want is not None and want != sha:
            raise IntegrityError(
                f"{MANIFEST_FILE} of {uri} was changed: its SHA-256 is {sha}, {label} is {want}"
            )
    manifest = Manifest.from_bytes(data, source=f"{uri}/{MANIFEST_FILE}")
    root = store.root_uri
    if root.startswith("file://"):  # the files are already on this machine: verify them in place
        directory = Path(root[len("file://") :], *(prefix.split("/") if prefix else ()))
    else:
        directory = fetch_to_cache(store, prefix, manifest, data, sha, cache_dir=cache_dir)
    return _load_directory(directory, manifest, sha, uri, allow_pickle, trusted_types)


def _load_directory(
    directory: Path,
    manifest: Manifest,
    sha: str,
    source: str,
    allow_pickle: bool,
    trusted_types: tuple[str, ...],
) -> LoadedModel:
    flavor = get_flavor(manifest.flavor) if manifest.flavor else None
    if flavor is None:
        raise IntegrityError(f"{source}: the manifest names no flavor")
    files = verify_directory(directory, manifest, read=[manifest.model_file])
    raw = flavor.load(
        files[manifest.model_file],
        manifest.serialization,
        manifest.flavor_options,
        allow_pickle=allow_pickle,
        trusted_types=trusted_types,
        source=source,
    )
    _warn_on_version_change(manifest)
    return LoadedModel(raw, manifest, manifest_sha256=sha, source=source, directory=directory)


def _warn_on_version_change(manifest: Manifest) -> None:
    package, module_name = _FLAVOR_LIBRARIES.get(manifest.flavor, ("", ""))
    saved = manifest.libraries.get(package)
    if not package or saved is None:
        return
    # The flavor has just imported the library: its __version__ is what saving recorded, and reading it
    # costs nothing, where importlib.metadata scans the installed distributions and parses one.
    installed = getattr(sys.modules.get(module_name), "__version__", None)
    if not isinstance(installed, str):
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version(package)
        except PackageNotFoundError:
            return
    if installed != saved:
        warnings.warn(
            f"this model was saved with {package} {saved} and is loaded with {installed}; predictions may "
            "differ. Re-save it with the installed version once checked",
            stacklevel=4,
        )
