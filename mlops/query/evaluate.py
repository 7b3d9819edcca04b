"""The reference semantics of filters and order clauses, in pure Python over :class:`~mlops.entities.Run`.

Stores that cannot run a filter natively (the object store) use these functions; the SQL compiler in
``mlops.store.sql.search`` is tested to give exactly the same answers.

Example:
    >>> from mlops.entities import Run
    >>> from mlops.query.parser import parse_filter
    >>> run = Run("r1", "0", "fit", "FINISHED", 5, 9, "active", "file:///a", metrics={"auc": 0.9})
    >>> matches(parse_filter("metrics.auc > 0.8 and status = 'FINISHED'"), run)
    True
    >>> matches(parse_filter("metrics.loss != 1"), run)   # no 'loss': never matches, even with !=
    False
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from mlops.entities import Run
from mlops.query.ast import And, Comparison, Node, Not, Or, OrderKey
from mlops.query.parser import parse_order_by

__all__ = ["ascii_lower", "like_to_regex", "matches", "sort_runs"]

_MISSING: Any = object()
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only (what ``ILIKE`` folds on every backend).

    Example:
        >>> ascii_lower("ÉtÉ AbC")
        'ÉtÉ abc'
    """
    return text.translate(_ASCII_LOWER)


@functools.lru_cache(maxsize=512)
def like_to_regex(pattern: str) -> re.Pattern[str]:
    """The regex for a ``LIKE`` pattern: ``%`` is any run of characters, ``_`` one character.

    No other character is special (there is no escape character).

    Example:
        >>> bool(like_to_regex("a_c%").fullmatch("abcdef"))
        True
    """
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _lookup(run: Run, kind: str, key: str) -> Any:
    if kind == "metric":
        return run.metrics.get(key, _MISSING)
    if kind == "param":
        return run.params.get(key, _MISSING)
    if kind == "tag":
        return run.tags.get(key, _MISSING)
    value = getattr(run, key)
    return _MISSING if value is None else value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "IN":  # explicit ==, not `in`: `in` tests identity first, and a NaN must equal nothing
        return any(left == v for v in right)
    if op == "NOT IN":
        return all(left != v for v in right)
    if op == "LIKE":
        return like_to_regex(right).fullmatch(left) is not None
    if op == "ILIKE":
        return like_to_regex(ascii_lower(right)).fullmatch(ascii_lower(left)) is not None
    raise AssertionError(f"unknown operator {op!r}")


def matches(node: Node | None, run: Run) -> bool:
    """True when ``run`` satisfies the filter tree ``node`` (``None`` matches every run).

    A comparison on a key the run lacks is false, whatever the operator (``!=`` and ``NOT IN``
    included); ``IS NULL`` is true exactly then. Metrics compare with IEEE rules (a NaN value matches
    only ``!=`` and ``NOT IN``).

    Example:
        >>> from mlops.query.parser import parse_filter
        >>> run = Run("r1", "0", "fit", "RUNNING", 5, None, "active", "file:///a", tags={"t": "x"})
        >>> matches(parse_filter("end_time IS NULL and tags.t LIKE 'x%'"), run)
        True
    """
    if node is None:
        return True
    if isinstance(node, Comparison):
        value = _lookup(run, node.kind, node.key)
        if node.op == "IS NULL":
            return value is _MISSING
        if node.op == "IS NOT NULL":
            return value is not _MISSING
        return value is not _MISSING and _compare(node.op, value, node.value)
    if isinstance(node, And):
        return all(matches(child, run) for child in node.children)
    if isinstance(node, Or):
        return any(matches(child, run) for child in node.children)
    if isinstance(node, Not):
        return not matches(node.child, run)
    raise TypeError(f"not a filter node: {node!r}")


def sort_runs(runs: Iterable[Run], order_by: Sequence[str | OrderKey] = ()) -> list[Run]:
    """Runs in search order: the order keys, then ``start_time`` DESC, then ``run_id`` ASC.

    For every key, in both directions, runs that have a value come first (sorted), then runs whose
    metric is NaN, then runs that lack the key. Strings sort by code point.

    Raises:
        InvalidInputError: an order clause given as a string is malformed.

    Example:
        >>> a = Run("a", "0", "a", "FINISHED", 1, 2, "active", "", metrics={"auc": 0.7})
        >>> b = Run("b", "0", "b", "FINISHED", 2, 3, "active", "", metrics={"auc": float("nan")})
        >>> c = Run("c", "0", "c", "FINISHED", 3, 4, "active", "")
        >>> [r.run_id for r in sort_runs([a, b, c], ["metrics.auc DESC"])]
        ['a', 'b', 'c']
        >>> [r.run_id for r in sort_runs([a, b, c])]
        ['c', 'b', 'a']
    """
    keys = [k if isinstance(k, OrderKey) else parse_order_by([k])[0] for k in order_by]
    result = sorted(runs, key=lambda r: r.run_id)
    result.sort(key=lambda r: r.start_time, reverse=True)
    for order in reversed(keys):  # stable sorts, least significant key first
        present: list[tuple[Any, Run]] = []
        nan: list[Run] = []
        missing: list[Run] = []
        for run in result:
            value = _lookup(run, order.kind, order.key)
            if value is _MISSING:
                missing.append(run)
            elif order.kind == "metric" and value != value:  # NaN
                nan.append(run)
            else:
                present.append((value, run))
        present.sort(key=lambda pair: pair[0], reverse=order.descending)
        result = [run for _, run in present] + nan + missing
    return result
