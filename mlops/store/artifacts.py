"""The artifact store interface: files under one root, addressed by validated relative keys.

Contract shared by every implementation:

* **Keys** are relative POSIX paths (``"model/model.skops"``) checked by
  :func:`mlops.store.keys.validate_key`: nothing a caller passes can name a file outside the root.
* **Atomic writes.** A reader never sees a partial file: it sees the old content (or nothing) until
  the new content is complete. A failed write leaves nothing behind.
* **Hashes.** Every write returns the SHA-256 of the stored bytes, and the store records it so that
  :meth:`ArtifactStore.info` and :meth:`ArtifactStore.list` return it later.
* **Thread safety.** One store object may be used from many threads.
* **Errors.** ``NotFoundError`` for a missing key, ``InvalidInputError`` for a bad key,
  ``IntegrityError`` when stored bytes no longer match their recorded hash (on :meth:`verify`),
  ``StoreUnavailableError`` when the backend cannot be reached.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from mlops.entities import ArtifactInfo

__all__ = ["ArtifactStore"]


class ArtifactStore(abc.ABC):
    """Abstract artifact store rooted at :attr:`root_uri`."""

    @property
    @abc.abstractmethod
    def root_uri(self) -> str:
        """The URI of the store's root (``file:///...``, ``s3://bucket/prefix``, ...)."""

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> ArtifactInfo:
        """Store ``data`` at ``key`` atomically, replacing any previous content.

        Raises:
            InvalidInputError: bad key.
        """

    @abc.abstractmethod
    def put_file(self, key: str, local_path: str | Path) -> ArtifactInfo:
        """Upload a local file to ``key`` atomically.

        Raises:
            InvalidInputError: bad key, or ``local_path`` is not a regular file.
        """

    @abc.abstractmethod
    def open_write(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A context manager yielding a binary writer; the file appears at ``key`` only when the block
        exits without an exception. Use it to stream large outputs.

        Raises:
            InvalidInputError: bad key.
        """

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Return the bytes stored at ``key``.

        Raises:
            NotFoundError: no file at ``key``.
        """

    @abc.abstractmethod
    def open_read(self, key: str) -> BinaryIO:
        """Open the file at ``key`` for streaming reads (the caller closes it).

        Raises:
            NotFoundError: no file at ``key``.
        """

    @abc.abstractmethod
    def download(self, key: str, local_path: str | Path) -> Path:
        """Copy the file or directory at ``key`` to ``local_path``; return the local path.

        Raises:
            NotFoundError: nothing at ``key``.
        """

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """All files under ``prefix`` (recursively), sorted by key, with size and recorded SHA-256."""

    @abc.abstractmethod
    def info(self, key: str) -> ArtifactInfo:
        """Size and recorded SHA-256 of one file.

        Raises:
            NotFoundError: no file at ``key``.
        """

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete the file at ``key``, or every file under it when it names a directory.

        Raises:
            NotFoundError: nothing at ``key``.
        """

    def exists(self, key: str) -> bool:
        """True when a file or directory exists at ``key``.

        Example:
            >>> from mlops.store import open_artifact_store
            >>> open_artifact_store("memory://doc-exists").exists("nothing/here")
            False
        """
        try:
            self.info(key)
            return True
        except KeyError:
            return bool(self.list(key))

    def verify(self, key: str) -> ArtifactInfo:
        """Re-hash the stored bytes and compare with the recorded SHA-256.

        Raises:
            NotFoundError: no file at ``key``.
            IntegrityError: the bytes changed since they were written, or no hash was recorded.
        """
        import hashlib

        from mlops.errors import IntegrityError

        recorded = self.info(key)
        digest = hashlib.sha256()
        with self.open_read(key) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        if recorded.sha256 is None or digest.hexdigest() != recorded.sha256:
            raise IntegrityError(
                f"artifact {key!r} in {self.root_uri} does not match its recorded SHA-256 "
                f"(recorded {recorded.sha256}, actual {digest.hexdigest()})"
            )
        return recorded

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of every file under ``prefix``."""
        for item in self.list(prefix):
            yield item.path
