"""A local cache of models fetched from remote stores, keyed by the manifest's SHA-256.

``<cache>/<manifest sha256>/`` holds one model directory. The cache root is ``MLOPS_CACHE_DIR``, else
``$XDG_CACHE_HOME/mlops/models``, else ``~/.cache/mlops/models``. A model is downloaded into a temp
folder inside the cache, verified against its manifest, then moved into place in one rename, so a
half-downloaded model is never used; every later load re-verifies the cached files before use, and a
cached copy that no longer matches is fetched again.

Example:
    >>> import os, tempfile
    >>> os.environ["MLOPS_CACHE_DIR"] = tempfile.mkdtemp()
    >>> cache_root() == __import__("pathlib").Path(os.environ.pop("MLOPS_CACHE_DIR"))
    True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
import warnings
from pathlib import Path

from mlops.errors import IntegrityError
from mlops.models.manifest import MANIFEST_FILE, Manifest, verify_directory
from mlops.store.artifacts import ArtifactStore

__all__ = ["cache_root", "fetch_to_cache"]


def cache_root() -> Path:
    """The cache folder (not created here).

    Example:
        >>> cache_root().name in ("models",) or "MLOPS_CACHE_DIR" in __import__("os").environ
        True
    """
    env = os.environ.get("MLOPS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlops" / "models"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def fetch_to_cache(
    store: ArtifactStore,
    prefix: str,
    manifest: Manifest,
    manifest_bytes: bytes,
    manifest_sha256: str,
    *,
    cache_dir: str | Path | None = None,
) -> Path:
    """The verified local copy of the model at ``prefix`` in ``store``, downloaded if needed.

    Raises:
        IntegrityError: the stored model has a missing, extra or changed file (named).
        NotFoundError: a file vanished while downloading.

    Example:
        >>> import tempfile
        >>> from mlops.store import open_artifact_store
        >>> from mlops.models.manifest import Manifest, sha256_bytes
        >>> store = open_artifact_store("memory://doc-cache")
        >>> _ = store.put_bytes("m/model.bin", b"w")
        >>> m = Manifest("sklearn", "skops", "model.bin", {"model.bin": sha256_bytes(b"w")})
        >>> data = m.to_bytes(); _ = store.put_bytes("m/mlops-model.json", data)
        >>> path = fetch_to_cache(store, "m", m, data, sha256_bytes(data), cache_dir=tempfile.mkdtemp())
        >>> (path / "model.bin").read_bytes()
        b'w'
    """
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    target = root / manifest_sha256
    if target.is_dir():
        try:
            if (target / MANIFEST_FILE).read_bytes() == manifest_bytes:
                verify_directory(target, manifest)
                return target
        except (IntegrityError, OSError):
            pass
        warnings.warn(
            f"cached model {str(target)!r} does not match its manifest; fetching it again", stacklevel=3
        )
        shutil.rmtree(target, ignore_errors=True)
    _check_listing(store, prefix, manifest)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    try:
        tmp.mkdir()
        for name in manifest.files:
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            store.download(_join(prefix, name), dest)
        (tmp / MANIFEST_FILE).write_bytes(manifest_bytes)
        verify_directory(tmp, manifest)
        try:
            os.replace(tmp, target)
        except OSError:  # another process put it there first: use theirs once it checks out
            verify_directory(target, manifest)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    return target


def _check_listing(store: ArtifactStore, prefix: str, manifest: Manifest) -> None:
    """The stored files must be exactly the manifest's (checked before downloading anything)."""
    start = len(prefix) + 1 if prefix else 0
    stored = {info.path[start:]: info for info in store.list(prefix)}
    stored.pop(MANIFEST_FILE, None)
    extra = sorted(set(stored) - set(manifest.files))
    missing = sorted(set(manifest.files) - set(stored))
    where = f"{store.root_uri}/{prefix}" if prefix else store.root_uri
    if missing:
        raise IntegrityError(f"model file {missing[0]!r} listed in the manifest is missing from {where}")
    if extra:
        raise IntegrityError(f"model at {where} holds file {extra[0]!r} that its manifest does not list")
    for name, info in stored.items():
        if info.sha256 is not None and info.sha256 != manifest.files[name]:
            raise IntegrityError(
                f"model file {name!r} at {where} does not match the manifest's SHA-256 "
                f"(manifest {manifest.files[name]}, store {info.sha256})"
            )
