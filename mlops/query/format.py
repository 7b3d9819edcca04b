"""Print a syntax tree back as filter text that parses to the same tree.

Example:
    >>> from mlops.query.parser import parse_filter
    >>> format_filter(parse_filter("tags.`team name` = 'it''s' and metrics.a>1"))
    "tags.`team name` = 'it''s' AND metrics.a > 1.0"
"""

from __future__ import annotations

from mlops.query._tokens import is_key_char
from mlops.query.ast import And, Comparison, Node, Not, Or, OrderKey

__all__ = ["format_filter", "format_key", "format_order_key", "quote_string"]

_PREFIX = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}


def quote_string(value: str) -> str:
    """A single-quoted literal for ``value`` (quotes doubled, backslashes doubled).

    Example:
        >>> quote_string("it's")
        "'it''s'"
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def format_key(kind: str, key: str) -> str:
    """``metrics.auc``, ``tags.`team name``` or a bare attribute name.

    Example:
        >>> format_key("param", "learning rate")
        'params.`learning rate`'
    """
    if kind == "attribute":
        return key
    if key and all(is_key_char(c) for c in key):
        return f"{_PREFIX[kind]}.{key}"
    return f"{_PREFIX[kind]}.`" + key.replace("\\", "\\\\").replace("`", "``") + "`"


def _literal(value: object) -> str:
    if isinstance(value, str):
        return quote_string(value)
    return repr(value)  # int, or float: repr gives 'inf', '-inf', '1e+100', which the tokenizer reads


def _format(node: Node, parent: type | None) -> str:
    if isinstance(node, Comparison):
        lhs = format_key(node.kind, node.key)
        if node.op in ("IS NULL", "IS NOT NULL"):
            return f"{lhs} {node.op}"
        if node.op in ("IN", "NOT IN"):
            assert isinstance(node.value, tuple)
            return f"{lhs} {node.op} (" + ", ".join(_literal(v) for v in node.value) + ")"
        return f"{lhs} {node.op} {_literal(node.value)}"
    if isinstance(node, Not):
        return "NOT " + _format(node.child, Not)
    joiner = " AND " if isinstance(node, And) else " OR "
    text = joiner.join(_format(child, type(node)) for child in node.children)
    # AND binds tighter than OR, so only an OR inside an AND, a group of the same kind (kept as a
    # separate child), or any group under NOT needs parentheses.
    needs_parens = parent is Not or parent is type(node) or (parent is And and isinstance(node, Or))
    return f"({text})" if needs_parens else text


def format_filter(node: Node | None) -> str:
    """Filter text for ``node`` (``""`` for ``None``); ``parse_filter`` of it gives ``node`` back.

    Example:
        >>> format_filter(Or((Comparison("tag", "a", "=", "x"), Comparison("tag", "b", "IS NULL"))))
        "tags.a = 'x' OR tags.b IS NULL"
    """
    return "" if node is None else _format(node, None)


def format_order_key(order: OrderKey) -> str:
    """Order clause text for ``order``.

    Example:
        >>> format_order_key(OrderKey("metric", "auc", True))
        'metrics.auc DESC'
    """
    return format_key(order.kind, order.key) + (" DESC" if order.descending else " ASC")
