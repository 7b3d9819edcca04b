"""Metric points turned into table rows: history rows and the latest point per key.

This is the inner loop of buffered logging (a hundred thousand points per batch), so the work is done
column by column with C-level ``map``/``zip`` rather than a Python loop per point.

NaN is stored as NULL plus ``is_nan`` (see ``models.py``). "Latest" is the point with the highest
step, then the latest timestamp, and among equal ones the last logged. A latest row also carries
its value's 8 IEEE 754 bytes, little-endian (``value_bits``; NaN as a NaN).

Example:
    >>> from mlops.entities import Metric
    >>> points = [Metric("loss", 0.5, 10, 0), Metric("loss", float("nan"), 11, 1)]
    >>> rows, latest = metric_rows(7, points)
    >>> rows
    [(7, 'loss', 0, 10, 0.5, False), (7, 'loss', 1, 11, None, True)]
    >>> latest
    [(7, 'loss', 1, 11, None, True, b'\\x00\\x00\\x00\\x00\\x00\\x00\\xf8\\x7f')]
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Sequence
from itertools import islice, repeat
from typing import Any

from mlops.entities import Metric

__all__ = ["latest_rows", "metric_rows", "value_bits"]

_KEY, _VALUE, _TIMESTAMP, _STEP = (operator.itemgetter(i) for i in range(4))  # Metric's fields

# (run_num, key, step, timestamp, value, is_nan): the metrics table's columns, in insert order
Row = tuple[Any, str, int, int, float | None, bool]
# the same plus the value's bytes: the latest_metrics table's columns, in upsert order
LatestRow = tuple[Any, str, int, int, float | None, bool, bytes]
_PACK = struct.Struct("<d").pack
_NAN_BITS = _PACK(math.nan)


def value_bits(value: float | None) -> bytes:
    """The 8 little-endian IEEE 754 bytes of ``value`` (None, a stored NaN: a NaN), with -0.0 as 0.0,
    which is what the ``value`` column gives back on SQLite (it stores a whole REAL as an integer).

    Example:
        >>> value_bits(1.0)
        b'\\x00\\x00\\x00\\x00\\x00\\x00\\xf0?'
    """
    return _NAN_BITS if value is None else _PACK(value + 0.0)


def metric_rows(run_ref: Any, metrics: Sequence[Metric]) -> tuple[list[Row], list[LatestRow]]:
    """History rows for ``metrics`` of one run, and the subset that is the latest per key.

    ``run_ref`` fills the first column (the run's number or id).
    """
    keys = list(map(_KEY, metrics))
    values: list[float | None] = list(map(_VALUE, metrics))
    steps = list(map(_STEP, metrics))
    stamps = list(map(_TIMESTAMP, metrics))
    nans = list(map(math.isnan, values))  # type: ignore[arg-type]
    if True in nans:
        values = [None if nan else value for value, nan in zip(values, nans, strict=True)]
    rows = list(zip(repeat(run_ref), keys, steps, stamps, values, nans, strict=False))
    return rows, [(*row, value_bits(row[4])) for row in latest_rows(rows)]


def latest_rows(rows: Sequence[Row]) -> list[Row]:
    """The row of each key that wins "latest" (highest step, then timestamp, then the last given)."""
    if not rows:
        return []
    order = list(zip(map(operator.itemgetter(2), rows), map(operator.itemgetter(3), rows), strict=True))
    if all(map(operator.le, order, islice(order, 1, None))):
        # Steps and timestamps never go back (the usual training loop): each key's last row wins.
        last = dict(zip(map(operator.itemgetter(1), rows), range(len(rows)), strict=False))
        return [rows[i] for i in last.values()]
    best: dict[str, Row] = {}
    for row in rows:
        current = best.get(row[1])
        if current is None or (row[2], row[3]) >= (current[2], current[3]):
            best[row[1]] = row
    return list(best.values())
