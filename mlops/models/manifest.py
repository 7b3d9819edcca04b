"""The model manifest (``mlops-model.json``) and the integrity checks built on it.

A model directory holds the manifest plus every file it lists. The manifest records the format
version, the flavor, the serialization, library versions, the creation time, the signature, the input
example's file name and the SHA-256 of **every other file** in the directory. Before anything is
deserialized, :func:`verify_directory` re-hashes each file and refuses a missing, extra or changed file
with an :class:`~mlops.errors.IntegrityError` naming it. The manifest itself is protected by its own
SHA-256 (``ModelInfo.manifest_sha256``), which the artifact store and the run record keep.

Example:
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "model.bin").write_bytes(b"weights")
    >>> m = Manifest(flavor="sklearn", serialization="skops", model_file="model.bin",
    ...              files=hash_directory(d))
    >>> write_manifest(d, m) == sha256_bytes((d / MANIFEST_FILE).read_bytes())
    True
    >>> sorted(verify_directory(d, m, read=["model.bin"]))
    ['model.bin']
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.entities import now_ms
from mlops.errors import IntegrityError, InvalidInputError

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "Manifest",
    "hash_directory",
    "read_manifest",
    "sha256_bytes",
    "verify_directory",
    "write_manifest",
]

MANIFEST_FILE = "mlops-model.json"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Example:
        >>> sha256_bytes(b"")[:8]
        'e3b0c442'
    """
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What ``mlops-model.json`` holds.

    Attributes:
        flavor: ``sklearn``, ``pyfunc``, ``xgboost`` or ``lightgbm``.
        serialization: ``skops``, ``pickle``, ``joblib``, ``cloudpickle`` or ``native``.
        model_file: the serialized model's file name inside the directory.
        files: file name (POSIX, relative) → SHA-256, for every file except the manifest.
        created_ms: creation time, epoch milliseconds.
        libraries: versions of Python and the libraries that matter for loading.
        signature: :meth:`Signature.to_dict` output, or None.
        input_example: file name of the stored input example, or None.
        flavor_options: what the flavor needs to load (e.g. the estimator class of a booster).
        metadata: the caller's own JSON-ready metadata.
        format_version: the manifest format (readers refuse a newer one).

    Example:
        >>> Manifest("sklearn", "skops", "model.skops", {"model.skops": "00"}).to_dict()["format_version"]
        1
    """

    flavor: str
    serialization: str
    model_file: str
    files: Mapping[str, str]
    created_ms: int = field(default_factory=now_ms)
    libraries: Mapping[str, str] = field(default_factory=dict)
    signature: Mapping[str, Any] | None = None
    input_example: str | None = None
    flavor_options: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "serialization": self.serialization,
            "model_file": self.model_file,
            "created_ms": self.created_ms,
            "libraries": dict(self.libraries),
            "signature": self.signature,
            "input_example": self.input_example,
            "flavor_options": dict(self.flavor_options),
            "metadata": dict(self.metadata),
            "files": dict(sorted(self.files.items())),
        }

    def to_bytes(self) -> bytes:
        """The canonical file content (sorted keys, UTF-8, trailing newline).

        Raises:
            InvalidInputError: ``metadata`` or ``flavor_options`` hold something JSON cannot store.
        """
        try:
            text = json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"model metadata must be JSON-serializable (no NaN): {e}") from e
        return (text + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = MANIFEST_FILE) -> Manifest:
        """Parse manifest bytes.

        Raises:
            IntegrityError: not a valid manifest, or written by a newer ``mlops``.

        Example:
            >>> m = Manifest("pyfunc", "cloudpickle", "model.pkl", {"model.pkl": "ab"})
            >>> Manifest.from_bytes(m.to_bytes()) == m
            True
        """
        try:
            raw = json.loads(data.decode("utf-8"))
            version = int(raw["format_version"])
            if version > FORMAT_VERSION:
                raise IntegrityError(
                    f"{source} has format version {version}; this mlops reads up to {FORMAT_VERSION} "
                    "(upgrade mlops)"
                )
            files = {str(k): str(v) for k, v in raw["files"].items()}
            manifest = cls(
                flavor=str(raw["flavor"]),
                serialization=str(raw["serialization"]),
                model_file=str(raw["model_file"]),
                files=files,
                created_ms=int(raw["created_ms"]),
                libraries={str(k): str(v) for k, v in raw.get("libraries", {}).items()},
                signature=raw.get("signature"),
                input_example=raw.get("input_example"),
                flavor_options=dict(raw.get("flavor_options") or {}),
                metadata=dict(raw.get("metadata") or {}),
                format_version=version,
            )
        except IntegrityError:
            raise
        except (UnicodeDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
            raise IntegrityError(f"{source} is not a valid model manifest: {e!r}") from e
        for name in files:
            _check_name(name, source)
        if manifest.model_file not in files:
            raise IntegrityError(f"{source} names model file {manifest.model_file!r} without a hash")
        if manifest.input_example is not None and manifest.input_example not in files:
            raise IntegrityError(f"{source} names input example {manifest.input_example!r} without a hash")
        return manifest


def _check_name(name: str, source: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\0" in name
        or any(p in ("", ".", "..") for p in parts)
        or name == MANIFEST_FILE
    ):
        raise IntegrityError(f"{source} lists an invalid file name {name!r}")


def _files_on_disk(directory: Path) -> list[str]:
    """Relative POSIX names of every file under ``directory`` except the manifest; refuses symlinks."""
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in (*dirnames, *filenames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                rel = os.path.relpath(full, directory).replace(os.sep, "/")
                raise IntegrityError(f"model directory {str(directory)!r} contains a symlink {rel!r}")
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), directory).replace(os.sep, "/")
            if rel != MANIFEST_FILE:
                found.append(rel)
    return sorted(found)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_directory(directory: str | Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` except the manifest, by relative POSIX name.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_bytes(b"")
        >>> hash_directory(d)["a.txt"][:8]
        'e3b0c442'
    """
    root = Path(directory)
    return {name: _hash_file(root / name) for name in _files_on_disk(root)}


def write_manifest(directory: str | Path, manifest: Manifest) -> str:
    """Write ``mlops-model.json`` into ``directory``; return the manifest's SHA-256.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> len(write_manifest(d, Manifest("sklearn", "skops", "m", {"m": "00"})))
        64
    """
    data = manifest.to_bytes()
    Path(directory, MANIFEST_FILE).write_bytes(data)
    return sha256_bytes(data)


def read_manifest(directory: str | Path, *, expected_sha256: str | None = None) -> tuple[Manifest, str]:
    """Read and parse a directory's manifest; return it with its SHA-256.

    Raises:
        NotFoundError: the directory has no manifest (it is not a model directory).
        IntegrityError: the manifest is malformed or its hash differs from ``expected_sha256``.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> sha = write_manifest(d, Manifest("sklearn", "skops", "m", {"m": "00"}))
        >>> read_manifest(d, expected_sha256=sha)[0].flavor
        'sklearn'
    """
    from mlops.errors import NotFoundError

    path = Path(directory, MANIFEST_FILE)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError) as e:
        raise NotFoundError(f"{str(directory)!r} is not a model directory: it has no {MANIFEST_FILE}") from e
    sha = sha256_bytes(data)
    if expected_sha256 is not None and sha != expected_sha256:
        raise IntegrityError(
            f"{MANIFEST_FILE} in {str(directory)!r} was changed: its SHA-256 is {sha}, "
            f"the recorded one is {expected_sha256}"
        )
    return Manifest.from_bytes(data, source=str(path)), sha


def verify_directory(
    directory: str | Path, manifest: Manifest, *, read: Iterable[str] = ()
) -> dict[str, bytes]:
    """Check that ``directory`` holds exactly the manifest's files with the recorded hashes.

    Files named in ``read`` are returned as the very bytes that were hashed, so the caller can
    deserialize them without a window in which the file could change after the check.

    Raises:
        IntegrityError: a missing, extra or changed file (named), or a symlink in the directory.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "m").write_bytes(b"x")
        >>> m = Manifest("sklearn", "skops", "m", hash_directory(d))
        >>> _ = (d / "m").write_bytes(b"y")
        >>> verify_directory(d, m)
        Traceback (most recent call last):
        mlops.errors.IntegrityError: ...'m'... does not match its recorded SHA-256...
    """
    root = Path(directory)
    keep = set(read)
    on_disk = _files_on_disk(root)
    expected = dict(manifest.files)
    missing = sorted(set(expected) - set(on_disk))
    extra = sorted(set(on_disk) - set(expected))
    if missing:
        raise IntegrityError(f"model file {missing[0]!r} in the manifest is missing from {str(root)!r}")
    if extra:
        raise IntegrityError(
            f"model directory {str(root)!r} holds file {extra[0]!r} that its manifest does not list "
            "(a model directory must contain exactly the files it was saved with)"
        )
    kept: dict[str, bytes] = {}
    for name in on_disk:
        if name in keep:
            data = (root / name).read_bytes()
            actual = sha256_bytes(data)
            kept[name] = data
        else:
            actual = _hash_file(root / name)
        if actual != expected[name]:
            raise IntegrityError(
                f"model file {name!r} in {str(root)!r} does not match its recorded SHA-256 "
                f"(recorded {expected[name]}, actual {actual}); it was changed or corrupted"
            )
    return kept
