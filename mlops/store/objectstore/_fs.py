"""A filesystem from a URI, with the two conditional writes the object-store metadata needs.

* **create-only** (:meth:`ObjectFS.create`): write an object only if no object has that name; of
  several concurrent writers exactly one wins. S3: ``PutObject`` with ``If-None-Match: *`` (s3fs
  ``pipe_file(mode="create")``); GCS: a multipart upload with ``ifGenerationMatch=0`` sent through
  ``fs.call`` (the only upload kind that the GCS emulator checks preconditions on); local folder: the
  content goes to a temp file that is then hard-linked to its name (``os.link`` fails if the name
  exists, and a reader never sees a half-written object); ``memory://``: a check and write under a
  process-wide lock (the memory filesystem lives in one process anyway).
* **compare-and-swap** (:meth:`ObjectFS.swap`): replace an object only if it is still the version
  read before (S3 ``If-Match: <ETag>`` through ``fs.call_s3``; GCS ``ifGenerationMatch=<generation>``;
  local: an ``fcntl`` lock file and a content hash; memory: the lock and the content).

Other fsspec protocols have no conditional writes: opening a metadata store on them raises
:class:`~mlops.errors.InvalidInputError` rather than risk lost updates.

Example:
    >>> fs = ObjectFS("memory://doc-objfs")
    >>> fs.create("a/x.json", b"1"), fs.create("a/x.json", b"2"), fs.read("a/x.json")
    (True, False, b'1')
"""

from __future__ import annotations

import os

# gcsfs >= 2026 probes each bucket over gRPC unless this is false before gcsfs is imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import contextlib
import errno
import hashlib
import json
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from mlops.errors import InvalidInputError, MissingDependencyError, MlopsError, StoreUnavailableError

__all__ = ["ObjectFS"]

_MEMORY_LOCK = threading.Lock()  # MemoryFileSystem's store is one dict per process
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
_CLIENT_MODULES = ("botocore", "aiobotocore", "aiohttp", "gcsfs", "google", "s3fs")
_BOUNDARY = "mlops-boundary"
_SUPPORTED = {"file", "local", "memory", "s3", "s3a", "gs", "gcs"}

try:  # POSIX: locks for compare-and-swap on local folders
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class ObjectFS:
    """Objects under one root (a local folder, ``memory://``, ``s3://`` or ``gs://``), named by relative keys.

    Args:
        uri: the root (``file:///dir`` or a path, ``memory://name``, ``s3://bucket/prefix``,
            ``gs://bucket/prefix``).
        **storage_options: passed to fsspec (``key``/``secret``/``client_kwargs``, ``endpoint_url``,
            ``token``, ...). Listing caches are off: other processes write the same objects.

    Raises:
        InvalidInputError: the protocol has no conditional writes.
        MissingDependencyError: ``s3://`` without s3fs, ``gs://`` without gcsfs.
        StoreUnavailableError: a local root cannot be created.

    Example:
        >>> fs = ObjectFS("memory://doc-objfs-class")
        >>> fs.put("k", b"v"); fs.list("")
        ['k']
    """

    def __init__(self, uri: str, **storage_options: Any) -> None:
        scheme = uri.split("://", 1)[0].lower() if "://" in uri else "file"
        if scheme not in _SUPPORTED and len(scheme) > 1:  # "C://..." is a Windows drive
            raise InvalidInputError(
                f"{uri!r}: fsspec protocol {scheme!r} has no conditional writes, so concurrent writers "
                "could lose updates; use a local folder, memory://, s3:// or gs://"
            )
        try:
            fs, root = url_to_fs(uri, **{"use_listings_cache": False, **storage_options})
        except ImportError as e:
            extra = _EXTRAS.get(scheme)
            hint = f"pip install 'mlops[{extra}]'" if extra else f"install fsspec's {scheme!r} implementation"
            raise MissingDependencyError(f"metadata store {uri!r} needs a package: {e}; {hint}") from e
        protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
        if isinstance(fs, LocalFileSystem):
            self.kind = "local"
        elif isinstance(fs, MemoryFileSystem):
            self.kind = "memory"
        elif protocols & {"s3", "s3a"}:
            self.kind = "s3"
        elif protocols & {"gs", "gcs"}:
            self.kind = "gcs"
        else:
            raise InvalidInputError(
                f"{uri!r}: fsspec protocol {scheme!r} has no conditional writes, so concurrent writers "
                "could lose updates; use a local folder, memory://, s3:// or gs://"
            )
        self.fs: Any = fs
        self.uri = uri
        self.root = root.rstrip("/") if root not in ("", "/") else root
        if self.kind == "local":
            try:
                os.makedirs(self.root, exist_ok=True)
            except OSError as e:
                raise StoreUnavailableError(f"cannot create metadata store folder {self.root!r}: {e}") from e
            self._tmp = os.path.join(self.root, ".tmp")
            os.makedirs(self._tmp, exist_ok=True)

    def __repr__(self) -> str:
        return f"ObjectFS({self.uri!r})"

    # ------------------------------------------------------------------ helpers
    def path(self, rel: str) -> str:
        """The backend path of the relative key ``rel``."""
        if not self.root:
            return rel
        return f"{self.root.rstrip('/')}/{rel}" if rel else self.root

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Translate transport errors into :class:`~mlops.errors.StoreUnavailableError`."""
        try:
            yield
        except MlopsError:
            raise
        except OSError as e:
            if e.errno == errno.ENAMETOOLONG:
                raise InvalidInputError(f"a name is too long for {self.uri} ({what})") from e
            raise StoreUnavailableError(f"metadata store {self.uri} failed to {what}: {e}") from e
        except Exception as e:  # botocore / gcsfs errors are not all OSError
            if not type(e).__module__.startswith(_CLIENT_MODULES):
                raise
            raise StoreUnavailableError(f"metadata store {self.uri} failed to {what}: {e!r}") from e

    def _write_tmp(self, data: bytes) -> str:
        tmp = os.path.join(self._tmp, uuid.uuid4().hex)
        with open(tmp, "xb") as f:
            f.write(data)
        return tmp

    def _local(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    # ------------------------------------------------------------------ reads
    def read(self, rel: str) -> bytes | None:
        """The object's bytes, or None when there is no object ``rel``."""
        return self.read_many([rel])[0]

    def read_many(self, rels: Sequence[str]) -> list[bytes | None]:
        """The bytes of each object (None where missing), fetched concurrently on S3 and GCS."""
        if not rels:
            return []
        with self.errors(f"read {rels[0]!r}"):
            if self.kind == "local":
                out: list[bytes | None] = []
                for rel in rels:
                    try:
                        with open(self._local(rel), "rb") as f:
                            out.append(f.read())
                    except (FileNotFoundError, NotADirectoryError):
                        out.append(None)
                return out
            if self.kind == "memory":
                found = []
                for rel in rels:
                    try:
                        found.append(self.fs.cat_file(self.path(rel)))
                    except FileNotFoundError:
                        found.append(None)
                return found
            paths = [self.path(r) for r in rels]
            got = self.fs.cat(paths, on_error="omit")
            stripped = {self.fs._strip_protocol(k): v for k, v in got.items()}
            return [stripped.get(self.fs._strip_protocol(p)) for p in paths]

    def list(self, rel_dir: str) -> list[str]:
        """Names (one level, sorted) directly under ``rel_dir``; ``[]`` when it does not exist."""
        with self.errors(f"list {rel_dir!r}"):
            if self.kind == "local":
                try:
                    return sorted(n for n in os.listdir(self._local(rel_dir) if rel_dir else self.root))
                except (FileNotFoundError, NotADirectoryError):
                    return []
            try:
                names = self.fs.ls(self.path(rel_dir), detail=False)
            except FileNotFoundError:
                return []
            return sorted({n.rstrip("/").rsplit("/", 1)[-1] for n in names})

    # ------------------------------------------------------------------ writes
    def put(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel`` atomically (a reader sees the old or the new object, never a part)."""
        with self.errors(f"write {rel!r}"):
            if self.kind == "local":
                final = self._local(rel)
                os.makedirs(os.path.dirname(final), exist_ok=True)
                os.replace(self._write_tmp(data), final)
            else:
                self.fs.pipe_file(self.path(rel), data)

    def create(self, rel: str, data: bytes) -> bool:
        """Write ``data`` to ``rel`` only if no object has that name; True when this call created it."""
        with self.errors(f"create {rel!r}"):
            if self.kind == "local":
                final = self._local(rel)
                tmp = self._write_tmp(data)
                try:
                    os.makedirs(os.path.dirname(final), exist_ok=True)
                    os.link(tmp, final)  # atomic and exclusive: fails with EEXIST
                    return True
                except FileExistsError:
                    return False
                finally:
                    os.unlink(tmp)
            if self.kind == "memory":
                with _MEMORY_LOCK:
                    if self.fs.exists(self.path(rel)):
                        return False
                    self.fs.pipe_file(self.path(rel), data)
                    return True
            try:
                if self.kind == "s3":
                    self.fs.pipe_file(self.path(rel), data, mode="create")
                else:
                    self._gcs_upload(rel, data, 0)
                return True
            except FileExistsError:
                return False

    def read_token(self, rel: str) -> tuple[bytes, str] | None:
        """The object's bytes and a token for :meth:`swap` (None when there is no object)."""
        with self.errors(f"read {rel!r}"):
            if self.kind in ("local", "memory"):
                data = self.read(rel)
                return None if data is None else (data, hashlib.sha256(data).hexdigest())
            path = self.path(rel)
            try:
                info = self.fs.info(path)
                data = self.fs.cat_file(path)
            except FileNotFoundError:
                return None
            token = info.get("ETag") if self.kind == "s3" else info.get("generation")
            # A write between info() and cat_file() makes the token stale: swap() then fails safely.
            return data, str(token)

    def swap(self, rel: str, data: bytes, token: str | None) -> bool:
        """Replace ``rel`` with ``data`` only if it still has ``token`` (None: only if it does not exist).

        Returns False when another writer got there first.
        """
        if token is None:
            return self.create(rel, data)
        with self.errors(f"swap {rel!r}"):
            if self.kind == "memory":
                with _MEMORY_LOCK:
                    return self._swap_same_process(rel, data, token)
            if self.kind == "local":
                if fcntl is None:  # pragma: no cover - Windows
                    raise InvalidInputError("compare-and-swap on a local folder needs POSIX file locks")
                lock_dir = os.path.join(self.root, ".locks")
                os.makedirs(lock_dir, exist_ok=True)
                lock = os.path.join(lock_dir, hashlib.sha256(rel.encode()).hexdigest())
                with open(lock, "a+b") as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                    try:
                        return self._swap_same_process(rel, data, token)
                    finally:
                        fcntl.flock(handle, fcntl.LOCK_UN)
            try:
                if self.kind == "s3":
                    self._s3_put_if_match(rel, data, token)
                else:
                    self._gcs_upload(rel, data, int(token))
                return True
            except (FileExistsError, FileNotFoundError):
                return False

    def _swap_same_process(self, rel: str, data: bytes, token: str) -> bool:
        current = self.read(rel)
        if current is None or hashlib.sha256(current).hexdigest() != token:
            return False
        self.put(rel, data)
        return True

    def _s3_put_if_match(self, rel: str, data: bytes, etag: str) -> None:
        bucket, key, _ = self.fs.split_path(self.path(rel))
        try:
            self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data, IfMatch=etag)
        except OSError as e:  # s3fs maps an If-Match 412 to OSError(EINVAL)
            cause = e.__cause__
            code = getattr(cause, "response", {}).get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                raise FileExistsError(rel) from e
            raise

    def _gcs_upload(self, rel: str, data: bytes, generation: int) -> None:
        """A multipart upload with ``ifGenerationMatch`` (0: create-only); a 412 is FileExistsError."""
        bucket, key, _ = self.fs.split_path(self.path(rel))
        meta = json.dumps({"name": key})
        body = (
            (
                f"--{_BOUNDARY}\nContent-Type: application/json; charset=UTF-8\n\n{meta}\n"
                f"--{_BOUNDARY}\nContent-Type: application/octet-stream\n\n"
            ).encode()
            + data
            + f"\n--{_BOUNDARY}--".encode()
        )
        self.fs.call(
            "POST",
            f"{self.fs._location}/upload/storage/v1/b/{bucket}/o",
            uploadType="multipart",
            ifGenerationMatch=str(generation),
            headers={"Content-Type": f'multipart/related; boundary="{_BOUNDARY}"'},
            data=body,
            json_out=True,
        )

    # ------------------------------------------------------------------ deletes
    def delete(self, rels: Sequence[str]) -> None:
        """Delete these objects; missing ones are ignored."""
        if not rels:
            return
        with self.errors(f"delete {rels[0]!r}"):
            if self.kind == "local":
                for rel in rels:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self._local(rel))
                return
            for rel in rels:
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(self.path(rel))

    def delete_tree(self, rel_dir: str) -> None:
        """Delete everything under ``rel_dir``; a missing folder is ignored."""
        with self.errors(f"delete {rel_dir!r}"):
            if self.kind == "local":
                shutil.rmtree(self._local(rel_dir), ignore_errors=True)
                return
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(self.path(rel_dir), recursive=True)
