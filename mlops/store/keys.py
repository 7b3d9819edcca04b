"""Validation of artifact keys: relative POSIX paths that can never name a file outside a store's root.

A key is what callers pass to an :class:`~mlops.store.artifacts.ArtifactStore`
(``"model/model.skops"``). Every store checks it with :func:`validate_key` before it reaches a
filesystem, so no key, whatever its bytes, escapes the root on any backend (local disk, memory, S3,
GCS). The rules are deliberately strict: a rejected key is an error with the rule it broke, never
silently "fixed", because silently rewriting ``a//b`` or ``./a`` would let two spellings alias one
file.

Rules (a key is rejected if any applies):

* not a ``str``, or empty;
* contains ``\\`` (a separator on Windows), NUL or another control character (``U+0000``-``U+001F``,
  ``U+007F``-``U+009F``), or a lone surrogate (not encodable as UTF-8);
* looks like a URL (``scheme://``), is absolute (leading ``/``) or starts with a Windows drive (``C:``);
* has an empty segment (``a//b``, trailing ``/``) or a ``.`` / ``..`` segment;
* has a segment over 255 bytes or is over 1024 bytes in UTF-8 (the usual file-name and S3 key limits);
* its first segment is ``.mlops`` (in any case): that prefix is reserved for the store's own records.

Normalization: keys are put in Unicode NFC form, so the same name typed on macOS (NFD) and on Linux
(NFC) addresses the same file everywhere.

Example:
    >>> validate_key("model/model.skops")
    'model/model.skops'
    >>> validate_key("../secrets")
    Traceback (most recent call last):
    ...
    mlops.errors.InvalidInputError: invalid artifact key '../secrets': '..' segments are not allowed
"""

from __future__ import annotations

import re
import unicodedata

from mlops.errors import InvalidInputError

__all__ = ["MAX_KEY_BYTES", "MAX_SEGMENT_BYTES", "RESERVED_PREFIX", "validate_key", "validate_prefix"]

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
RESERVED_PREFIX = ".mlops"

_DRIVE = re.compile(r"^[A-Za-z]:")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _reject(key: object, rule: str, what: str = "artifact key") -> InvalidInputError:
    return InvalidInputError(f"invalid {what} {key!r}: {rule}")


def _check(key: object, what: str) -> str:
    if not isinstance(key, str):
        raise InvalidInputError(f"invalid {what} {key!r}: must be a str, not {type(key).__name__}")
    if key == "":
        raise _reject(key, "must not be empty", what)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise _reject(key, "is not valid Unicode text (lone surrogate)", what) from None
    if "\\" in key:
        raise _reject(key, "backslashes are not allowed; use '/' to separate segments", what)
    for ch in key:
        if unicodedata.category(ch) == "Cc":
            raise _reject(key, f"control character U+{ord(ch):04X} is not allowed", what)
    key = unicodedata.normalize("NFC", key)
    if _URL.match(key):
        raise _reject(key, "looks like a URL; pass a path relative to the store root", what)
    if key.startswith("/"):
        raise _reject(key, "absolute paths are not allowed; pass a path relative to the store root", what)
    if _DRIVE.match(key):
        raise _reject(key, "Windows drive prefixes are not allowed", what)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise _reject(key, f"longer than {MAX_KEY_BYTES} bytes in UTF-8", what)
    segments = key.split("/")
    for seg in segments:
        if seg == "":
            raise _reject(key, "empty segments ('a//b', trailing '/') are not allowed", what)
        if seg in (".", ".."):
            raise _reject(key, f"{seg!r} segments are not allowed", what)
        if len(seg.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _reject(key, f"segment {seg[:20]!r}... is longer than {MAX_SEGMENT_BYTES} bytes", what)
    # casefold + rstrip: on case-insensitive disks ".MLOPS" and on Windows ".mlops." name the same folder
    if segments[0].casefold().rstrip(". ") == RESERVED_PREFIX:
        raise _reject(key, f"the prefix {RESERVED_PREFIX!r} is reserved for the store's own records", what)
    return key


def validate_key(key: str) -> str:
    """Check that ``key`` is a safe relative artifact key and return it in normalized (NFC) form.

    Args:
        key: a relative POSIX path such as ``"plots/roc.png"``.

    Returns:
        The key, Unicode-normalized (NFC).

    Raises:
        InvalidInputError: the key breaks a rule (see the module docstring); the message names the key
            and the rule.

    Example:
        >>> validate_key("plots/roc.png")
        'plots/roc.png'
        >>> validate_key("C:/x")
        Traceback (most recent call last):
        ...
        mlops.errors.InvalidInputError: invalid artifact key 'C:/x': Windows drive prefixes are not allowed
    """
    return _check(key, "artifact key")


def validate_prefix(prefix: str) -> str:
    """Like :func:`validate_key`, but ``""`` (the store root) is allowed.

    Args:
        prefix: ``""`` or a relative POSIX path naming a directory (or file) in the store.

    Returns:
        The normalized prefix (``""`` for the root).

    Raises:
        InvalidInputError: the prefix is neither ``""`` nor a valid key.

    Example:
        >>> validate_prefix(""), validate_prefix("plots")
        ('', 'plots')
    """
    if prefix == "":
        return ""
    return _check(prefix, "artifact prefix")
