"""The syntax tree of a search filter and of an order clause: small frozen dataclasses.

A filter is a tree of :class:`Comparison` leaves joined by :class:`And`, :class:`Or` and
:class:`Not`. ``And``/``Or`` hold two or more children (``a AND b AND c`` is one ``And`` of three);
a parenthesized group stays a separate child, so printing and re-parsing gives the same tree.

Example:
    >>> Comparison("metric", "auc", ">", 0.8)
    Comparison(kind='metric', key='auc', op='>', value=0.8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ATTRIBUTES",
    "NUMERIC_ATTRIBUTES",
    "And",
    "Comparison",
    "Kind",
    "Node",
    "Not",
    "Op",
    "Or",
    "OrderKey",
    "Value",
]

Kind = Literal["metric", "param", "tag", "attribute"]
Op = Literal["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"]
#: A comparison's right side: a string or a number, a tuple of them for ``IN``/``NOT IN``,
#: ``None`` for ``IS [NOT] NULL``. Metric values are always ``float``; time attributes ``int``
#: (or ``float`` when the literal has a fraction, an exponent or is out of the 64-bit range).
Value = str | int | float | tuple[str, ...] | tuple[int | float, ...] | None

#: Attribute names of a run that a filter or order clause may use, after alias resolution.
ATTRIBUTES: tuple[str, ...] = (
    "run_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
    "user_id",
    "experiment_id",
    "parent_run_id",
)
#: Attributes that compare as numbers (epoch milliseconds); the others compare as strings.
NUMERIC_ATTRIBUTES: frozenset[str] = frozenset({"start_time", "end_time"})
#: Attributes that may be missing (``None``): ``end_time`` of a running run, ``parent_run_id`` of a
#: top-level run.
NULLABLE_ATTRIBUTES: frozenset[str] = frozenset({"end_time", "parent_run_id"})


@dataclass(frozen=True)
class Comparison:
    """``<kind>.<key> <op> <value>``: one test on one key of a run."""

    kind: Kind
    key: str
    op: Op
    value: Value = None


@dataclass(frozen=True)
class And:
    """True when every child is true."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """True when at least one child is true."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Plain boolean negation of its child.

    Every comparison is either true or false for a run (a missing key makes it false, never
    "unknown"), so ``NOT metrics.a > 1`` matches the runs without ``a`` as well as those with
    ``a <= 1`` or ``a`` NaN.
    """

    child: Node


Node = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    """One key of an order clause: ``metrics.auc DESC`` is ``OrderKey("metric", "auc", True)``."""

    kind: Kind
    key: str
    descending: bool = False
