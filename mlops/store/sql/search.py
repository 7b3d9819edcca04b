"""Compile search filters and order clauses (``mlops.query``) into SQLAlchemy Core.

Every value reaches the database as a bound parameter. Each comparison on a metric, param or tag
becomes its own correlated ``EXISTS`` subquery on ``(run_num, key)``, so a run that lacks a key fails
that comparison only, and
``OR``/``NOT`` keep plain boolean meaning. Each order key on a metric, param or tag is one
``LEFT OUTER JOIN`` on ``(run_num, key)``.

The answers equal :func:`mlops.query.matches` and :func:`mlops.query.sort_runs` on SQLite and
PostgreSQL (tested against them in ``tests/test_search_sql.py``):

* string ``<``/``>`` and ordering use code-point order: SQLite's default ``BINARY`` collation, and
  ``COLLATE "C"`` on PostgreSQL (a UTF-8 database is assumed);
* ``LIKE`` is case-sensitive with ``%`` and ``_`` as the only wildcards: ``GLOB`` on SQLite (whose
  ``LIKE`` ignores case), ``LIKE`` with backslashes escaped on PostgreSQL (whose ``LIKE`` treats
  ``\\`` as an escape);
* ``ILIKE`` folds ASCII letters only, on both backends (SQLite's ``lower()`` does exactly that;
  PostgreSQL uses ``translate()``), so ``'É' ILIKE 'é'`` is false everywhere.

Example:
    >>> stmt = select_run_ids("sqlite", ["0"], "metrics.auc > 0.8", order_by=["params.C DESC"])
    >>> "latest_metrics.value >" in str(stmt)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mlops.errors import InvalidInputError
from mlops.query.ast import NULLABLE_ATTRIBUTES, And, Comparison, Node, Not, Or, OrderKey
from mlops.query.parser import parse_filter, parse_order_by
from mlops.store.sql.like import like_clause
from mlops.store.sql.models import Base
from mlops.store.tracking import check_view

__all__ = ["filter_clause", "order_clauses", "select_run_ids"]

_RUNS = Base.metadata.tables["runs"]
_KEYED = {
    "metric": Base.metadata.tables["latest_metrics"],
    "param": Base.metadata.tables["params"],
    "tag": Base.metadata.tables["tags"],
}
_FLOAT = sa.Float(precision=53)


def select_run_ids(
    dialect_name: str,
    experiment_ids: Sequence[str],
    filter_string: str,
    *,
    view: str = "active",
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    columns: Sequence[str] = ("run_id",),
) -> sa.Select[Any]:
    """A ``SELECT runs.run_id`` (or other ``columns`` of ``runs``) of the matching runs of these
    experiments, in search order.

    Args:
        dialect_name: the engine's ``dialect.name`` (``"sqlite"``, ``"postgresql"``, ...).
        experiment_ids: experiments to search (an empty list selects nothing).
        filter_string: a filter (``docs/search.md``); empty or blank means every run.
        view: ``"active"``, ``"deleted"`` or ``"all"`` runs, by lifecycle stage.
        order_by: order clauses such as ``"metrics.auc DESC"``; the order always ends with
            ``start_time DESC, run_id ASC``.
        max_results: at most this many rows (``None``: all).
        columns: the ``runs`` columns to select (``run_id`` alone by default); a search that wants
            the runs' attributes selects them here rather than looking the runs up again.

    Raises:
        InvalidInputError: malformed filter or order clause (the message shows the position), an
            unknown ``view``, a negative ``max_results``, or ``experiment_ids`` given as one string.

    Example:
        >>> import sqlalchemy as sa
        >>> engine = sa.create_engine("sqlite://")
        >>> Base.metadata.create_all(engine)
        >>> with engine.connect() as conn:
        ...     conn.execute(select_run_ids("sqlite", ["0"], "status = 'FINISHED'")).all()
        []
    """
    if isinstance(experiment_ids, str):
        raise InvalidInputError(f"experiment_ids must be a list of ids, not the string {experiment_ids!r}")
    node = parse_filter(filter_string)
    keys = parse_order_by(order_by)
    check_view(view)
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0
    ):
        raise InvalidInputError(f"max_results must be a non-negative integer or None, not {max_results!r}")
    conditions: list[ColumnElement[bool]] = [_RUNS.c.experiment_id.in_([str(e) for e in experiment_ids])]
    if view != "all":
        conditions.append(_RUNS.c.lifecycle_stage == view)
    if node is not None:
        conditions.append(filter_clause(node, dialect_name))
    source, ordering = order_clauses(keys, dialect_name)
    selected = [_RUNS.c[name] for name in columns]
    stmt = sa.select(*selected).select_from(source).where(*conditions).order_by(*ordering)
    if max_results is not None:
        stmt = stmt.limit(max_results)
    return stmt


def filter_clause(node: Node, dialect_name: str) -> ColumnElement[bool]:
    """A boolean SQL expression over ``runs`` that is true exactly when :func:`mlops.query.matches` is.

    The expression is never NULL (missing keys and NULL columns are tested explicitly), which is
    what lets ``NOT`` be a plain SQL ``NOT``.

    Example:
        >>> from mlops.query import parse_filter
        >>> clause = filter_clause(parse_filter("tags.team = 'risk'"), "sqlite")
        >>> "tags.key" in str(clause)
        True
    """
    if isinstance(node, Comparison):
        return _comparison(node, dialect_name)
    if isinstance(node, And):
        return sa.and_(*(filter_clause(child, dialect_name) for child in node.children))
    if isinstance(node, Or):
        return sa.or_(*(filter_clause(child, dialect_name) for child in node.children))
    if isinstance(node, Not):
        return sa.not_(filter_clause(node.child, dialect_name))
    raise TypeError(f"not a filter node: {node!r}")


def order_clauses(
    keys: Sequence[OrderKey], dialect_name: str
) -> tuple[sa.FromClause, list[ColumnElement[Any]]]:
    """The FROM clause (``runs`` outer-joined once per keyed order key) and the ORDER BY terms.

    For each key: runs with a value first (sorted), then NaN metrics, then runs lacking the key,
    in both directions; then ``start_time DESC`` and ``run_id ASC``.

    Example:
        >>> source, terms = order_clauses([OrderKey("metric", "auc", True)], "sqlite")
        >>> len(terms)
        4
    """
    source: sa.FromClause = _RUNS
    terms: list[ColumnElement[Any]] = []
    for i, order in enumerate(keys):
        if order.kind == "attribute":
            column: ColumnElement[Any] = _RUNS.c[order.key]
            if order.key in NULLABLE_ATTRIBUTES:
                terms.append(sa.case((column.is_(None), 1), else_=0))
            if not _is_numeric(order):
                column = _ordered_str(column, dialect_name)
        else:
            table = _KEYED[order.kind].alias(f"order_{i}")
            source = source.outerjoin(
                table, sa.and_(table.c.run_num == _RUNS.c.run_num, table.c.key == order.key)
            )
            column = table.c.value
            if order.kind == "metric":
                terms.append(sa.case((column.is_not(None), 0), (table.c.is_nan == sa.true(), 1), else_=2))
            else:
                terms.append(sa.case((column.is_(None), 1), else_=0))
                column = _ordered_str(column, dialect_name)
        terms.append(column.desc() if order.descending else column.asc())
    terms.append(_RUNS.c.start_time.desc())
    terms.append(_ordered_str(_RUNS.c.run_id, dialect_name).asc())
    return source, terms


# ---------------------------------------------------------------------------------- comparisons
def _is_numeric(order: OrderKey | Comparison) -> bool:
    return order.kind == "metric" or (order.kind == "attribute" and order.key in ("start_time", "end_time"))


def _ordered_str(column: ColumnElement[Any], dialect_name: str) -> ColumnElement[Any]:
    """``column`` compared by code point (byte order of UTF-8)."""
    return column.collate("C") if dialect_name == "postgresql" else column


def _comparison(node: Comparison, dialect_name: str) -> ColumnElement[bool]:
    if node.kind == "attribute":
        column = _RUNS.c[node.key]
        if node.op == "IS NULL":
            return column.is_(None) if node.key in NULLABLE_ATTRIBUTES else sa.false()
        if node.op == "IS NOT NULL":
            return column.is_not(None) if node.key in NULLABLE_ATTRIBUTES else sa.true()
        attribute_test = _test(column, node, dialect_name)
        # A NULL column would make the test NULL (unknown); make it false instead.
        if node.key in NULLABLE_ATTRIBUTES:
            return sa.and_(column.is_not(None), attribute_test)
        return attribute_test
    table = _KEYED[node.kind]
    if node.op in ("IS NULL", "IS NOT NULL"):
        test: ColumnElement[bool] | None = None
    elif node.kind == "metric":
        test = _metric_test(table, node)
    else:
        test = _test(table.c.value, node, dialect_name)
    has_key = _has_row(table, node.key, test)
    return sa.not_(has_key) if node.op == "IS NULL" else has_key


def _has_row(table: sa.Table, key: str, test: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """True when the run has a row for ``key`` in ``table`` (that passes ``test``, if given).

    A correlated ``EXISTS``: on SQLite one probe of the table's primary key ``(run_num, key)`` per
    run (there is no (key, value) index there, see ``models.py``); PostgreSQL turns it into a
    semi-join (``NOT EXISTS`` into an anti-join), where ``NOT IN (subquery)`` would become a
    per-row search once the subquery outgrew ``work_mem``. Never NULL.
    """
    conditions = [table.c.key == key] if test is None else [table.c.key == key, test]
    return sa.select(sa.literal(1)).where(table.c.run_num == _RUNS.c.run_num, *conditions).exists()


def _metric_test(table: sa.Table, node: Comparison) -> ColumnElement[bool]:
    value, is_nan = table.c.value, table.c.is_nan
    # A NaN is stored as value NULL + is_nan: NULL fails every test, so add it back where IEEE says
    # a NaN matches (!=, and NOT IN, which is a chain of !=).
    if node.op == "!=":
        return sa.or_(is_nan == sa.true(), value != _number(node.value))
    if node.op == "NOT IN":
        assert isinstance(node.value, tuple)
        return sa.or_(is_nan == sa.true(), value.not_in([_number(v) for v in node.value]))
    return _test(value, node, "")


def _number(value: Any) -> ColumnElement[Any]:
    """A bound number typed by its Python type (a float must not be cast to BIGINT by the driver)."""
    return sa.literal(value, _FLOAT if isinstance(value, float) else sa.BigInteger())


def _test(column: ColumnElement[Any], node: Comparison, dialect_name: str) -> ColumnElement[bool]:
    op, value = node.op, node.value
    if op in ("IN", "NOT IN"):
        assert isinstance(value, tuple)
        items: list[Any] = list(value)
        if not isinstance(items[0], str):
            as_float = any(isinstance(v, float) for v in items)
            items = [sa.literal(v, _FLOAT if as_float else sa.BigInteger()) for v in items]
        return column.in_(items) if op == "IN" else column.not_in(items)
    if op in ("LIKE", "ILIKE"):
        assert isinstance(value, str)
        return like_clause(dialect_name, column, value, case_sensitive=op == "LIKE")
    if isinstance(value, str):
        operand: Any = value
        if op not in ("=", "!="):
            column = _ordered_str(column, dialect_name)
    else:
        operand = _number(value)
    if op == "=":
        return column == operand
    if op == "!=":
        return column != operand
    if op == "<":
        return column < operand
    if op == "<=":
        return column <= operand
    if op == ">":
        return column > operand
    if op == ">=":
        return column >= operand
    raise AssertionError(f"unknown operator {op!r}")
