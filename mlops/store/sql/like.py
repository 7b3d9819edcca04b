"""``LIKE`` / ``ILIKE`` with the same meaning on every backend.

``%`` (any run of characters) and ``_`` (one character) are the only wildcards; every other
character, the backslash included, matches itself. ``LIKE`` is case-sensitive everywhere (SQLite's
own ``LIKE`` is not, so it is compiled to ``GLOB`` there); ``ILIKE`` ignores case.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["like_clause", "to_glob"]


def to_glob(pattern: str) -> str:
    """Translate a LIKE pattern to an equivalent SQLite GLOB pattern.

    Example:
        >>> to_glob("a%b_[c]*?")
        'a*b?[[]c][*][?]'
    """
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "[*?":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def like_clause(dialect: str, column: Any, pattern: str, *, case_sensitive: bool = True) -> Any:
    """A SQL condition: ``column`` matches ``pattern`` (bound as a parameter, never inlined).

    Example:
        >>> from mlops.store.sql.models import SqlRun
        >>> str(like_clause("sqlite", SqlRun.run_name, "a%"))
        'runs.run_name GLOB :param_1'
    """
    if dialect == "sqlite":
        if case_sensitive:
            return column.op("GLOB")(sa.bindparam(None, to_glob(pattern), type_=sa.String()))
        # SQLite's LIKE ignores ASCII case; "\" is made the (unused) escape so it matches itself
        return column.like(pattern.replace("\\", "\\\\"), escape="\\")
    literal = pattern.replace("\\", "\\\\")  # PostgreSQL and MySQL treat "\" as the default escape
    if case_sensitive:
        return column.like(literal, escape="\\")
    return column.ilike(literal, escape="\\")
