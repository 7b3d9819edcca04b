"""The search filter language: parse, print and evaluate filters and order clauses (no SQL here).

``mlops.store.sql.search`` compiles the same trees to SQL; ``docs/search.md`` describes the grammar
and its semantics.

Example:
    >>> from mlops.query import parse_filter, format_filter
    >>> format_filter(parse_filter("metrics.auc>0.8 and tags.team='risk'"))
    "metrics.auc > 0.8 AND tags.team = 'risk'"
"""

from __future__ import annotations

from mlops.query._tokens import FilterSyntaxError
from mlops.query.ast import And, Comparison, Node, Not, Or, OrderKey
from mlops.query.evaluate import matches, sort_runs
from mlops.query.format import format_filter, format_order_key
from mlops.query.parser import parse_filter, parse_order_by

__all__ = [
    "And",
    "Comparison",
    "FilterSyntaxError",
    "Node",
    "Not",
    "Or",
    "OrderKey",
    "format_filter",
    "format_order_key",
    "matches",
    "parse_filter",
    "parse_order_by",
    "sort_runs",
]
