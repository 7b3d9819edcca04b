"""Checks on names, keys and values before anything reaches a store.

Every check raises :class:`~mlops.errors.InvalidInputError` with the offending value and the rule,
so nothing half-written reaches a store. The hot path (:func:`metric_point`) costs well under a
microsecond for an already-seen key.

Example:
    >>> validate_key("train/loss", "metric")
    'train/loss'
    >>> validate_key("../etc", "metric")
    Traceback (most recent call last):
    ...
    mlops.errors.InvalidInputError: invalid metric key '../etc': ...
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from mlops.errors import InvalidInputError

__all__ = [
    "INT64_MAX",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "known_keys",
    "metric_point",
    "validate_key",
    "validate_name",
    "validate_param_value",
    "validate_step",
    "validate_tag_value",
    "validate_timestamp",
]

MAX_KEY_LENGTH = 250
MAX_NAME_LENGTH = 256
MAX_PARAM_VALUE_LENGTH = 8_000
MAX_TAG_VALUE_LENGTH = 65_535
INT64_MAX = 2**63 - 1  # the largest step or timestamp: the stores keep them as 64-bit integers

# Letters and digits of any script, "_", "-", ".", " ", "/" and ":"; the same set MLflow accepts.
_KEY_RE = re.compile(r"^[\w\-. /:]+$")
_valid_keys: set[str] = set()  # keys already checked: the check is then one set lookup


def validate_key(key: Any, kind: str) -> str:
    """Check a metric, param or tag key: non-empty, at most 250 characters, letters, digits and
    ``_ - . / : space``, no ``.``/``..`` path segment and no leading ``/``.

    Example:
        >>> validate_key("metrics/auc", "metric")
        'metrics/auc'
    """
    if type(key) is str and key in _valid_keys:
        return key
    if not isinstance(key, str):
        raise InvalidInputError(f"{kind} key must be a string, not {type(key).__name__} ({key!r})")
    rule = None
    if not key or len(key) > MAX_KEY_LENGTH:
        rule = f"must be 1 to {MAX_KEY_LENGTH} characters long (got {len(key)})"
    elif not _KEY_RE.match(key):
        rule = "may only contain letters, digits and _ - . / : or spaces"
    elif key.startswith("/") or any(part in (".", "..") for part in key.split("/")):
        rule = "must not start with '/' or contain '.' or '..' path segments"
    elif key != key.strip():
        rule = "must not start or end with a space"
    if rule is not None:
        raise InvalidInputError(f"invalid {kind} key {key!r}: {rule}")
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def validate_name(name: Any, kind: str) -> str:
    """Check an experiment, run or model name: a non-blank string of at most 256 characters
    without control characters.

    Example:
        >>> validate_name("credit default", "experiment")
        'credit default'
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"{kind} name must be a string, not {type(name).__name__} ({name!r})")
    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"invalid {kind} name {name!r}: must be 1 to {MAX_NAME_LENGTH} characters and not blank"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInputError(f"invalid {kind} name {name!r}: control characters are not allowed")
    return name


def _stringify(value: Any, kind: str, key: str, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        raise InvalidInputError(f"{kind} {key!r}: value contains a NUL character")
    if len(text) > limit:
        raise InvalidInputError(
            f"{kind} {key!r}: value is {len(text)} characters long; the limit is {limit}"
            + (" (log large values as an artifact)" if kind == "param" else "")
        )
    return text


def validate_param_value(key: str, value: Any) -> str:
    """A param value as stored: ``str(value)``, at most 8,000 characters.

    Example:
        >>> validate_param_value("C", 0.1)
        '0.1'
    """
    return _stringify(value, "param", key, MAX_PARAM_VALUE_LENGTH)


def validate_tag_value(key: str, value: Any) -> str:
    """A tag value as stored: ``str(value)``, at most 65,535 characters.

    Example:
        >>> validate_tag_value("team", "risk")
        'risk'
    """
    return _stringify(value, "tag", key, MAX_TAG_VALUE_LENGTH)


def validate_step(step: Any) -> int:
    """A metric step: an integer from 0 to 2**63 - 1 (numpy integers accepted, booleans refused).

    Example:
        >>> validate_step(3)
        3
    """
    return _int64_at_least_zero(step, "metric step must be an integer from 0 to 2**63 - 1")


def validate_timestamp(timestamp: Any) -> int:
    """A timestamp in epoch milliseconds: an integer from 0 to 2**63 - 1.

    Example:
        >>> validate_timestamp(1_700_000_000_000)
        1700000000000
    """
    return _int64_at_least_zero(
        timestamp, "timestamp must be an integer from 0 to 2**63 - 1 (epoch milliseconds)"
    )


def _int64_at_least_zero(value: Any, requirement: str) -> int:
    """``value`` as an int when it is an integer (not a bool) in [0, 2**63 - 1]; else the error."""
    if type(value) is int and 0 <= value <= INT64_MAX:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) <= INT64_MAX:
        raise InvalidInputError(f"{requirement}, not {value!r}")
    return int(value)


def validate_metric_value(key: str, value: Any) -> float:
    """A metric value: any real number (NaN and ±inf kept); booleans, strings and None refused.

    Example:
        >>> validate_metric_value("loss", 1)
        1.0
    """
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(
            f"metric {key!r}: value must be a real number, not {type(value).__name__} ({value!r})"
        )
    as_float = float(value)
    if math.isnan(as_float) and not isinstance(value, float):  # e.g. numpy NaN of another width
        return math.nan
    return as_float


def known_keys() -> set[str]:
    """The set of keys already validated (read-only for callers: a key in it is valid).

    Example:
        >>> validate_key("loss", "metric") in known_keys()
        True
    """
    return _valid_keys


def metric_point(key: Any, value: Any, step: Any) -> tuple[str, float, int]:
    """Validate one metric point's key, value and step together (the logging hot path).

    Example:
        >>> metric_point("loss", 0.5, 2)
        ('loss', 0.5, 2)
    """
    if type(key) is not str or key not in _valid_keys:
        validate_key(key, "metric")
    if type(value) is not float:
        value = validate_metric_value(key, value)
    if type(step) is not int or not 0 <= step <= INT64_MAX:
        step = validate_step(step)
    return key, value, step
