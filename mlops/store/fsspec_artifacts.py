"""The artifact store on any fsspec filesystem: local paths, ``memory://``, ``s3://`` and ``gs://``.

Each artifact lives at its key under the root. The store's own records live under the reserved
``.mlops/`` (never listed, never addressable by a key): ``.mlops/sha256/<key>`` holds the hex SHA-256
of ``<key>``, written after the content; ``.mlops/tmp/`` holds in-flight local writes.

Atomic writes: local files are written to ``.mlops/tmp/`` and ``os.replace``-d onto the key. On S3/GCS,
outputs up to 8 MiB are buffered and sent in one request; larger ones stream through a multipart /
resumable upload opened with ``autocommit=False``, committed on success and discarded on error (a
plain ``with fs.open(p, "wb")`` would publish a partial object). ``memory://`` stores in one step; other
fsspec backends go through a local temp file and ``put_file`` (as atomic as that backend's upload).
Writers in one process are serialized per key while content and hash are published; a crash between
the two, or two processes racing on one key, leaves a hash that :meth:`verify` reports as a mismatch.

Example:
    >>> store = FsspecArtifactStore("memory://doc-fsspec")
    >>> store.put_bytes("a/b.txt", b"hi").sha256[:12]
    '8f434346648f'
"""

from __future__ import annotations

import os

# gcsfs >= 2026 otherwise probes each bucket over gRPC (a 60 s hang per call against emulators and
# plain-HTTP endpoints); must be set before gcsfs is imported (docs: TESTING.md §2.6).
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import contextlib
import errno
import hashlib
import io
import re
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from mlops.entities import ArtifactInfo
from mlops.errors import (
    InvalidInputError,
    MissingDependencyError,
    MlopsError,
    NotFoundError,
    StoreUnavailableError,
)
from mlops.store.artifacts import ArtifactStore
from mlops.store.keys import RESERVED_PREFIX, validate_key, validate_prefix

__all__ = ["FsspecArtifactStore"]

_SHA_DIR = f"{RESERVED_PREFIX}/sha256"
_TMP_DIR = f"{RESERVED_PREFIX}/tmp"
_CHUNK = 1 << 20
_BLOCK = 8 << 20  # buffer this much before streaming; a valid S3 part and GCS chunk size
_STREAMING = {"s3", "s3a", "gs", "gcs"}  # their files honour autocommit=False + commit()/discard()
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
_CLIENT_MODULES = ("botocore", "aiobotocore", "aiohttp", "gcsfs", "google")
_GLOB = re.compile(r"[*?\[]")  # fsspec's bulk methods expand these as wildcards


class _LocalSink:
    """A temp file that ``os.replace`` publishes."""

    def __init__(self, tmp_dir: str, final: Callable[[], str]) -> None:
        os.makedirs(tmp_dir, exist_ok=True)
        self._tmp = os.path.join(tmp_dir, uuid.uuid4().hex)
        self._final = final  # re-resolved (and re-checked) at commit time
        self._f = open(self._tmp, "xb")  # noqa: SIM115 - closed by commit()/abort()

    def write(self, data: Any) -> None:
        self._f.write(data)

    def commit(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        final = self._final()
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(self._tmp, final)  # EXDEV only if a mount point sits inside the root

    def abort(self) -> None:
        self._f.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)


class _RemoteSink:
    """Buffers up to ``_BLOCK`` bytes for a one-shot upload; streams or spools larger outputs."""

    def __init__(self, fs: Any, path: str) -> None:
        self._fs, self._path = fs, path
        self._buf = io.BytesIO()
        self._big: Any = None
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol
        self._stream = bool(_STREAMING.intersection(protocols))

    def write(self, data: Any) -> None:
        if self._big is not None:
            self._big.write(data)
            return
        self._buf.write(data)
        if self._buf.tell() >= _BLOCK and not isinstance(self._fs, MemoryFileSystem):
            if self._stream:
                self._big = self._fs.open(self._path, "wb", autocommit=False, block_size=_BLOCK)
            else:
                self._big = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115
            self._big.write(self._buf.getvalue())
            self._buf = io.BytesIO()

    def commit(self) -> None:
        if self._big is None:
            self._fs.pipe_file(self._path, self._buf.getvalue())
        elif self._stream:
            self._big.close()  # uploads the last part; nothing is visible before commit()
            self._big.commit()
        else:
            self._big.close()
            self._fs.put_file(self._big.name, self._path)
            os.unlink(self._big.name)

    def abort(self) -> None:
        if self._big is None:
            return
        if self._stream:
            try:
                self._big.discard()  # AbortMultipartUpload / DELETE of the resumable session
            finally:
                self._big.closed = True  # s3fs leaves it "open"; its __del__ would then publish
        else:
            self._big.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._big.name)


class _HashingWriter(io.RawIOBase):
    """The writer ``open_write`` yields: hashes and counts bytes on their way to a sink."""

    def __init__(self, sink: _LocalSink | _RemoteSink, errors: Callable[[], Any]) -> None:
        super().__init__()
        self.sink, self._errors = sink, errors
        self.result: ArtifactInfo  # set once the content and its hash are published
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed artifact writer")
        view = memoryview(b).cast("B")
        with self._errors():
            self.sink.write(view)
        self.sha.update(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size


class FsspecArtifactStore(ArtifactStore):
    """An :class:`~mlops.store.artifacts.ArtifactStore` rooted at a directory of any fsspec filesystem.

    Args:
        uri: the root: a local path, ``file:///dir`` (created if missing), ``memory://name``,
            ``s3://bucket/prefix`` or ``gs://bucket/prefix``.
        **storage_options: passed to fsspec (``key``, ``secret``, ``client_kwargs``, ``endpoint_url``,
            ``token``, ...). Listing caches are off unless you pass ``use_listings_cache``: other
            processes write the same store.

    Raises:
        MissingDependencyError: ``s3://`` without ``mlops[s3]`` or ``gs://`` without ``mlops[gcs]``.
        StoreUnavailableError: a local root cannot be created.

    Example:
        >>> FsspecArtifactStore("memory://doc-class").put_bytes("k", b"v").size
        1
    """

    def __init__(self, uri: str, **storage_options: Any) -> None:
        options = {"use_listings_cache": False, **storage_options}
        try:
            fs, root = url_to_fs(uri, **options)
        except ImportError as e:
            scheme = uri.split("://", 1)[0].lower() if "://" in uri else "file"
            extra = _EXTRAS.get(scheme)
            hint = f"pip install 'mlops[{extra}]'" if extra else f"install fsspec's {scheme!r} implementation"
            raise MissingDependencyError(f"artifact store {uri!r} needs a package: {e}; {hint}") from e
        self._fs: Any = fs
        self._local = isinstance(fs, LocalFileSystem)
        self._root = root.rstrip("/") or root  # keep "/" itself
        if self._local:
            self._uri = f"file://{self._root}"
            try:
                os.makedirs(self._root, exist_ok=True)
            except OSError as e:
                raise StoreUnavailableError(f"cannot create artifact root {self._root!r}: {e}") from e
            self._root_real = os.path.realpath(self._root)
        else:
            self._uri = uri if uri.endswith("://") else uri.rstrip("/")
        # how the fs spells our root in listings ("/x/" for memory://x, "bkt/pre/" for s3)
        self._name_prefix = fs._strip_protocol(self._join("k"))[:-1]
        self._locks = [threading.Lock() for _ in range(64)]

    @property
    def root_uri(self) -> str:
        """The URI of the store's root (``file:///abs/dir`` for local paths)."""
        return self._uri

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self._uri!r})"

    # ------------------------------------------------------------------ helpers
    def _join(self, rel: str) -> str:
        if not self._root:
            return rel
        return self._root + rel if self._root.endswith("/") else f"{self._root}/{rel}"

    def _lock(self, key: str) -> threading.Lock:
        return self._locks[hash(key) % len(self._locks)]

    def _local_real(self, rel: str) -> str:
        """The real path of ``rel`` under a local root; refuses paths that symlinks lead outside."""
        real = os.path.realpath(os.path.join(self._root, *rel.split("/")))
        if real != self._root_real and not real.startswith(self._root_real.rstrip(os.sep) + os.sep):
            raise InvalidInputError(
                f"artifact key {rel!r} resolves to {real!r}, outside the store root {self._root_real!r} "
                "(a symlink inside the root points out of it); remove the symlink"
            )
        return real

    @contextlib.contextmanager
    def _errors(self, key: str, *, reading: bool) -> Iterator[None]:
        """Translate filesystem errors into :mod:`mlops.errors` at the store boundary."""
        try:
            yield
        except MlopsError:
            raise
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
            if reading:
                raise NotFoundError(f"no artifact file at {key!r} in {self._uri}") from e
            if isinstance(e, FileNotFoundError):
                raise StoreUnavailableError(f"cannot write {key!r}: {self._uri} does not exist ({e})") from e
            raise InvalidInputError(f"cannot write {key!r} in {self._uri}: something is in its way") from e
        except FileExistsError as e:
            raise InvalidInputError(f"cannot write {key!r} in {self._uri}: a file is in the way ({e})") from e
        except OSError as e:  # PermissionError, ConnectionError, TimeoutError, s3fs/gcsfs transport errors
            if e.errno == errno.ENAMETOOLONG:
                raise InvalidInputError(f"artifact key {key!r} is too long for {self._uri}") from e
            raise StoreUnavailableError(f"artifact store {self._uri} failed on {key!r}: {e}") from e
        except Exception as e:  # botocore's connection/credential errors and gcsfs's HttpError are no OSError
            if not type(e).__module__.startswith(_CLIENT_MODULES):
                raise
            raise StoreUnavailableError(f"artifact store {self._uri} failed on {key!r}: {e!r}") from e

    def _read_sha(self, keys: list[str]) -> dict[str, str]:
        """Recorded hashes of ``keys`` (missing sidecars are left out)."""
        if not keys:
            return {}
        rels = [f"{_SHA_DIR}/{k}" for k in keys]
        if self._local:
            out: list[Any] = []
            for rel in rels:
                try:
                    with open(self._local_real(rel), "rb") as f:
                        out.append(f.read())
                except OSError as e:
                    out.append(e)
        else:
            out = self._fs.cat_ranges([self._join(r) for r in rels], None, None, on_error="return")
        return {k: v.decode("ascii").strip() for k, v in zip(keys, out, strict=True) if isinstance(v, bytes)}

    @contextlib.contextmanager
    def _writing(self, key: str) -> Iterator[_HashingWriter]:
        """Yield a hashing writer; publish content, then its sidecar, when the block succeeds."""
        key = validate_key(key)
        with self._errors(key, reading=False):
            if self._local:
                self._local_real(key)  # fail fast; re-checked at commit
                tmp = self._local_real(_TMP_DIR)
                sink: _LocalSink | _RemoteSink = _LocalSink(tmp, lambda: self._local_real(key))
            else:
                sink = _RemoteSink(self._fs, self._join(key))
        writer = _HashingWriter(sink, lambda: self._errors(key, reading=False))
        try:
            yield writer
            writer.close()
            digest, rel = writer.sha.hexdigest(), f"{_SHA_DIR}/{key}"
            with self._errors(key, reading=False), self._lock(key):
                sink.commit()
                if self._local:
                    side = _LocalSink(self._local_real(_TMP_DIR), lambda: self._local_real(rel))
                    side.write(digest.encode())
                    side.commit()
                else:
                    self._fs.pipe_file(self._join(rel), digest.encode())
            writer.result = ArtifactInfo(path=key, size=writer.size, sha256=digest)
        except BaseException:
            writer.close()
            with contextlib.suppress(Exception):
                sink.abort()
            raise

    # ------------------------------------------------------------------ writes
    def put_bytes(self, key: str, data: bytes) -> ArtifactInfo:
        """Store ``data`` at ``key`` atomically, replacing any previous content.

        Raises:
            InvalidInputError: bad key, ``data`` is not bytes-like, or a file is in the key's way.
            StoreUnavailableError: the backend failed.

        Example:
            >>> FsspecArtifactStore("memory://doc-put").put_bytes("x.txt", b"abc").size
            3
        """
        key = validate_key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInputError(f"put_bytes({key!r}) needs bytes, not {type(data).__name__}")
        with self._writing(key) as writer:
            writer.write(data)
        return writer.result

    def put_file(self, key: str, local_path: str | Path) -> ArtifactInfo:
        """Upload a local file to ``key`` atomically, hashing it as it is read (one pass).

        Raises:
            InvalidInputError: bad key, or ``local_path`` is not a regular file.
            StoreUnavailableError: the backend failed.

        Example:
            >>> import pathlib, tempfile
            >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.bin"; _ = p.write_bytes(b"m")
            >>> FsspecArtifactStore("memory://doc-putfile").put_file("m.bin", p).size
            1
        """
        key = validate_key(key)
        if not os.path.isfile(local_path):
            raise InvalidInputError(f"put_file({key!r}): {str(local_path)!r} is not a regular file")
        with open(local_path, "rb") as src, self._writing(key) as writer:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                writer.write(chunk)
        return writer.result

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        """A binary writer whose bytes appear at ``key`` only if the ``with`` block succeeds.

        Example:
            >>> store = FsspecArtifactStore("memory://doc-open-write")
            >>> with store.open_write("log.txt") as f:
            ...     _ = f.write(b"line 1")
            >>> store.get_bytes("log.txt")
            b'line 1'
        """
        with self._writing(key) as writer:
            yield cast(BinaryIO, writer)

    # ------------------------------------------------------------------ reads
    def get_bytes(self, key: str) -> bytes:
        """Return the bytes stored at ``key``.

        Example:
            >>> store = FsspecArtifactStore("memory://doc-get"); _ = store.put_bytes("k", b"v")
            >>> store.get_bytes("k")
            b'v'
        """
        with self.open_read(key) as f:
            return f.read()

    def open_read(self, key: str) -> BinaryIO:
        """Open the file at ``key`` for streaming reads; the caller closes it.

        Example:
            >>> store = FsspecArtifactStore("memory://doc-read"); _ = store.put_bytes("k", b"v")
            >>> with store.open_read("k") as f:
            ...     f.read()
            b'v'
        """
        key = validate_key(key)
        with self._errors(key, reading=True):
            if self._local:
                return open(self._local_real(key), "rb")
            path = self._join(key)
            if self._fs.info(path)["type"] != "file":  # S3 opens a "directory" as an empty file
                raise FileNotFoundError(path)
            return cast(BinaryIO, self._fs.open(path, "rb"))

    def info(self, key: str) -> ArtifactInfo:
        """Size and recorded SHA-256 (``None`` if never recorded) of the file at ``key``.

        Example:
            >>> store = FsspecArtifactStore("memory://doc-info"); _ = store.put_bytes("k", b"v")
            >>> store.info("k").size
            1
        """
        key = validate_key(key)
        with self._errors(key, reading=True):
            if self._local:
                st = os.stat(self._local_real(key))
                if not stat.S_ISREG(st.st_mode):
                    raise IsADirectoryError(key)
                size = st.st_size
            else:
                found = self._fs.info(self._join(key))
                if found["type"] != "file":
                    raise IsADirectoryError(key)
                size = int(found["size"])
            return ArtifactInfo(path=key, size=size, sha256=self._read_sha([key]).get(key))

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """All files under ``prefix`` (``""`` = the whole store), recursively, sorted by key.

        ``prefix`` names a directory (or one file); ``"a"`` does not match ``"ab/x"``. Names that are
        not valid keys (written around the store) are left out, as is the reserved ``.mlops/``.

        Raises:
            InvalidInputError: bad prefix, or a symlink under a local root leads outside it.

        Example:
            >>> store = FsspecArtifactStore("memory://doc-list"); _ = store.put_bytes("d/k", b"v")
            >>> [(i.path, i.size) for i in store.list("d")]
            [('d/k', 1)]
        """
        prefix = validate_prefix(prefix)
        with self._errors(prefix, reading=False):
            sizes = self._list_local(prefix) if self._local else self._list_remote(prefix)
            keys = sorted(sizes)
            shas = self._read_sha(keys)
        return [ArtifactInfo(path=k, size=sizes[k], sha256=shas.get(k)) for k in keys]

    def _list_local(self, prefix: str) -> dict[str, int]:
        base = self._local_real(prefix) if prefix else self._root_real
        if os.path.isfile(base):
            return {prefix: os.stat(base).st_size}
        found: dict[str, int] = {}
        for dirpath, dirnames, filenames in os.walk(base):  # does not follow symlinked directories
            if dirpath == self._root_real and RESERVED_PREFIX in dirnames:
                dirnames.remove(RESERVED_PREFIX)
            rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
            for is_file, names in ((False, dirnames), (True, filenames)):
                for name in names:
                    rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                    key = f"{prefix}/{rel}" if prefix else rel
                    full = os.path.join(dirpath, name)
                    if os.path.islink(full):
                        self._local_real(key)  # raises if it points outside the root
                    if is_file and os.path.isfile(full) and _is_key(key):
                        found[key] = os.stat(full).st_size
        return found

    def _list_remote(self, prefix: str) -> dict[str, int]:
        base = self._join(prefix) if prefix else self._root
        found: dict[str, int] = {}
        for name, meta in self._fs.find(base, withdirs=False, detail=True).items():
            if meta.get("type") != "file" or not name.startswith(self._name_prefix):
                continue
            key = name[len(self._name_prefix) :]
            if (prefix and key != prefix and not key.startswith(prefix + "/")) or not _is_key(key):
                continue
            found[key] = int(meta["size"])
        return found

    def download(self, key: str, local_path: str | Path) -> Path:
        """Copy the file or directory at ``key`` to ``local_path`` (the new file's or folder's path).

        Example:
            >>> import tempfile, pathlib
            >>> store = FsspecArtifactStore("memory://doc-dl"); _ = store.put_bytes("d/k", b"v")
            >>> out = store.download("d", pathlib.Path(tempfile.mkdtemp()) / "d")
            >>> (out / "k").read_bytes()
            b'v'
        """
        key = validate_key(key)
        dest = Path(local_path)
        try:
            files = [(key, dest, self.info(key))]
        except NotFoundError:
            files = [(i.path, dest / i.path[len(key) + 1 :], i) for i in self.list(key)]
            if not files:
                raise
        with self._errors(key, reading=True):
            for k, target, _ in files:
                target.parent.mkdir(parents=True, exist_ok=True)
                if self._local:
                    shutil.copyfile(self._local_real(k), target)
                else:
                    self._fs.get_file(self._join(k), str(target))
        return dest

    # ------------------------------------------------------------------ delete
    def delete(self, key: str) -> None:
        """Delete the file at ``key`` (and its recorded hash), or every file under it.

        Example:
            >>> store = FsspecArtifactStore("memory://doc-del"); _ = store.put_bytes("d/k", b"v")
            >>> store.delete("d"); store.exists("d/k")
            False
        """
        key = validate_key(key)
        try:
            self.info(key)
            keys = [key]
        except NotFoundError:
            keys = [i.path for i in self.list(key)]
            if not keys:
                raise
        with self._errors(key, reading=True), self._lock(key):
            if self._local:
                for rel in (key, f"{_SHA_DIR}/{key}"):
                    self._local_real(rel)
                    path = os.path.join(self._root, *rel.split("/"))
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    elif os.path.lexists(path):
                        os.unlink(path)  # a symlink itself, never its target
                return
            if keys == [key]:
                self._fs.rm_file(self._join(key))
                with contextlib.suppress(FileNotFoundError):
                    self._fs.rm_file(self._join(f"{_SHA_DIR}/{key}"))
                return
            _rm_many(self._fs, [self._join(k) for k in keys])
            _rm_many(self._fs, [*self._fs.find(self._join(f"{_SHA_DIR}/{key}"), withdirs=False)])


def _rm_many(fs: Any, paths: list[str]) -> None:
    if paths and not any(_GLOB.search(p) for p in paths):
        fs.rm(paths)  # one bulk request on S3/GCS
        return
    for p in paths:  # rm() would expand *, ? and [ as wildcards
        with contextlib.suppress(FileNotFoundError):
            fs.rm_file(p)


def _is_key(name: str) -> bool:
    try:
        return validate_key(name) == name
    except InvalidInputError:
        return False
