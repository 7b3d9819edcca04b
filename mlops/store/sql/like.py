"""``LIKE`` / ``ILIKE`` with the same meaning on every backend.

``%`` (any run of characters) and ``_`` (one character) are the only wildcards; every other
character, the backslash included, matches itself. ``LIKE`` is case-sensitive everywhere (SQLite's
own ``LIKE`` is not, so it is compiled to ``GLOB`` there); ``ILIKE`` folds ASCII letters only, on every
backend, so SQLite, PostgreSQL and the in-memory evaluator (:mod:`mlops.query.evaluate`) agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mlops.query.evaluate import ascii_lower

__all__ = ["like_clause", "like_to_glob"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def like_to_glob(pattern: str) -> str:
    """A GLOB pattern equal to the LIKE pattern: ``%`` → ``*``, ``_`` → ``?``, GLOB's own specials bracketed.

    Example:
        >>> like_to_glob("a*%_[")
        'a[*]*?[[]'
    """
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(c, c) for c in pattern)


def like_clause(
    dialect: str, column: Any, pattern: str, *, case_sensitive: bool = True
) -> ColumnElement[bool]:
    """A SQL condition: ``column`` matches ``pattern`` (bound as a parameter, never inlined).

    Example:
        >>> from mlops.store.sql.models import SqlRun
        >>> str(like_clause("sqlite", SqlRun.run_name, "a%"))
        'runs.run_name GLOB :run_name_1'
    """
    fold = not case_sensitive
    if fold:
        pattern = ascii_lower(pattern)
    if dialect == "sqlite":
        # SQLite's LIKE ignores ASCII case (or not, per PRAGMA case_sensitive_like); GLOB never does.
        # Its built-in lower() folds ASCII letters only, exactly like ascii_lower().
        target = sa.func.lower(column) if fold else column
        return target.op("GLOB", is_comparison=True)(like_to_glob(pattern))
    escaped = pattern.replace("\\", "\\\\")  # the default LIKE escape character is a backslash
    if dialect == "postgresql":
        target = sa.func.translate(column, _UPPER, _LOWER) if fold else column
        return target.like(escaped)
    target = sa.func.lower(column) if fold else column  # best effort elsewhere
    return target.like(escaped, escape="\\")
