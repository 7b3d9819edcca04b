"""The exceptions raised by ``mlops``.

Every error the library raises on purpose derives from :class:`MlopsError`, so
``except mlops.errors.MlopsError`` catches them all. Each one also derives from
the closest built-in exception (``KeyError``, ``ValueError``, ...) so code that
already handles those keeps working.

Example:
    >>> from mlops.errors import NotFoundError, MlopsError
    >>> try:
    ...     raise NotFoundError("experiment 'churn' not found")
    ... except MlopsError as e:
    ...     print(type(e).__name__)
    NotFoundError
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "IntegrityError",
    "InvalidInputError",
    "MissingDependencyError",
    "MlopsError",
    "NotFoundError",
    "SchemaVersionError",
    "StoreUnavailableError",
]


class MlopsError(Exception):
    """Root of every error that ``mlops`` raises on purpose."""

    def __str__(self) -> str:  # KeyError's str() adds quotes; keep messages readable
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class NotFoundError(MlopsError, KeyError):
    """A named thing (experiment, run, model, version, artifact) does not exist."""


class AlreadyExistsError(MlopsError, ValueError):
    """Creating something whose name or key is already taken."""


class InvalidInputError(MlopsError, ValueError):
    """An argument is malformed, out of range, or inconsistent with stored state."""


class ConflictError(MlopsError):
    """The request is valid but the current state forbids it (a policy, a stage, a concurrent writer)."""


class IntegrityError(MlopsError):
    """Stored bytes do not match their recorded hash, or a record is corrupt."""


class SchemaVersionError(MlopsError):
    """A metadata store was written by a newer ``mlops`` than the one reading it."""


class StoreUnavailableError(MlopsError, OSError):
    """A store could not be reached (server down, permission denied) after retries."""


class MissingDependencyError(MlopsError, ImportError):
    """An optional dependency is needed for this feature; the message names the extra to install."""
