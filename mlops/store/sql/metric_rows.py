"""Metric points turned into table rows: history chunks and the latest point per key.

This is the inner loop of buffered logging (a hundred thousand points per batch), so the work is done
column by column with numpy and C-level ``map`` rather than a Python loop per point.

**History** is stored in chunks: one ``metric_chunks`` row per key per write (at most
:data:`CHUNK_POINTS` points), holding the points' steps, timestamps and values as three packed
little-endian arrays (int64, int64, IEEE 754 float64 with NaN as it is). A batch of 100,000 points
of one key is one row instead of 100,000; :func:`history_from_chunks` reads a key's chunks back in
the order "step, then timestamp, then the order logged".

**Latest** is the point with the highest step, then the latest timestamp, and among equal ones the
last logged; a latest row stores NaN as NULL plus ``is_nan`` (SQL filters compare ``value``) and
also carries its value's 8 IEEE 754 bytes (``value_bits``, see :func:`value_bits`).

Example:
    >>> from mlops.entities import Metric
    >>> points = [Metric("loss", 0.5, 10, 0), Metric("loss", float("nan"), 11, 1)]
    >>> chunks, latest = metric_chunks(7, points)
    >>> [(run, key, count) for run, key, count, *_ in chunks]
    [(7, 'loss', 2)]
    >>> history_from_chunks("loss", [chunk[2:] for chunk in chunks])
    [Metric(key='loss', value=0.5, timestamp=10, step=0), Metric(key='loss', value=nan, timestamp=11, step=1)]
    >>> latest[0][:6]
    (7, 'loss', 1, 11, None, True)
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Iterable, Sequence
from itertools import islice, repeat
from typing import Any

import numpy as np

from mlops.entities import Metric
from mlops.errors import IntegrityError

__all__ = ["CHUNK_COLUMNS", "CHUNK_POINTS", "history_from_chunks", "metric_chunks", "value_bits"]

_KEY, _VALUE, _TIMESTAMP, _STEP = (operator.itemgetter(i) for i in range(4))  # Metric's fields

CHUNK_POINTS = 100_000
"""Most points in one history chunk row: each of its three arrays stays under 800 kB."""

CHUNK_COLUMNS = ("run_num", "key", "points", "step_bytes", "timestamp_bytes", "value_bytes")
"""The ``metric_chunks`` columns a chunk row gives, in order (``id`` is the database's)."""

# (run_num, key, points, step_bytes, timestamp_bytes, value_bytes)
ChunkRow = tuple[Any, str, int, bytes, bytes, bytes]
# the latest_metrics table's columns, in upsert order
LatestRow = tuple[Any, str, int, int, float | None, bool, bytes]
_PACK = struct.Struct("<d").pack
_NAN_BITS = _PACK(math.nan)
_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")


def value_bits(value: float | None) -> bytes:
    """The 8 little-endian IEEE 754 bytes of ``value`` (None, a stored NaN: a NaN), with -0.0 as 0.0,
    which is what the ``value`` column gives back on SQLite (it stores a whole REAL as an integer).

    Example:
        >>> value_bits(1.0)
        b'\\x00\\x00\\x00\\x00\\x00\\x00\\xf0?'
    """
    return _NAN_BITS if value is None else _PACK(value + 0.0)


def metric_chunks(run_ref: Any, metrics: Sequence[Metric]) -> tuple[list[ChunkRow], list[LatestRow]]:
    """History chunk rows for ``metrics`` of one run, and the latest row of each key.

    ``run_ref`` fills the first column (the run's number). Keys keep the order of their first point.
    """
    chunks: list[ChunkRow] = []
    latest: list[LatestRow] = []
    for key, points in _by_key(metrics).items():
        steps = list(map(_STEP, points))
        stamps = list(map(_TIMESTAMP, points))
        values = list(map(_VALUE, points))
        for start in range(0, len(points), CHUNK_POINTS):
            end = min(start + CHUNK_POINTS, len(points))
            chunks.append(
                (
                    run_ref,
                    key,
                    end - start,
                    np.array(steps[start:end], dtype=_INT64).tobytes(),
                    np.array(stamps[start:end], dtype=_INT64).tobytes(),
                    np.array(values[start:end], dtype=_FLOAT64).tobytes(),
                )
            )
        i = _latest_index(steps, stamps)
        value = float(values[i])
        stored = None if math.isnan(value) else value
        latest.append((run_ref, key, steps[i], stamps[i], stored, stored is None, value_bits(stored)))
    return chunks, latest


def history_from_chunks(key: str, chunks: Iterable[Sequence[Any]]) -> list[Metric]:
    """The points of ``(points, step_bytes, timestamp_bytes, value_bytes)`` chunks, given in the order
    they were written, sorted by step, then timestamp, then that order.

    Raises:
        IntegrityError: a chunk's arrays do not hold ``points`` values each (a damaged row).
    """
    steps, stamps, values = [], [], []
    for points, step_bytes, stamp_bytes, value_bytes in chunks:
        arrays = (
            np.frombuffer(step_bytes, dtype=_INT64),
            np.frombuffer(stamp_bytes, dtype=_INT64),
            np.frombuffer(value_bytes, dtype=_FLOAT64),
        )
        if any(len(a) != points for a in arrays):
            raise IntegrityError(
                f"a history chunk of metric {key!r} is damaged: its arrays do not hold {points} points"
            )
        steps.append(arrays[0])
        stamps.append(arrays[1])
        values.append(arrays[2])
    if not steps:
        return []
    all_steps, all_stamps, all_values = (np.concatenate(a) for a in (steps, stamps, values))
    order = np.lexsort((all_stamps, all_steps))  # stable: ties keep the order written
    return list(
        map(
            Metric,
            repeat(key),
            all_values[order].tolist(),
            all_stamps[order].tolist(),
            all_steps[order].tolist(),
        )
    )


def _by_key(metrics: Sequence[Metric]) -> dict[str, Sequence[Metric]]:
    """The points of each key, in the order logged (keys in the order of their first point)."""
    if not metrics:
        return {}
    first = metrics[0].key
    if all(map(first.__eq__, map(_KEY, metrics))):  # the usual buffered batch: one key
        return {first: metrics}
    grouped: dict[str, list[Metric]] = {}
    for metric in metrics:
        found = grouped.get(metric.key)
        if found is None:
            found = grouped[metric.key] = []
        found.append(metric)
    return dict(grouped)


def _latest_index(steps: list[int], stamps: list[int]) -> int:
    """The index of the latest point: highest step, then timestamp, then the last given."""
    order = list(zip(steps, stamps, strict=True))
    if all(map(operator.le, order, islice(order, 1, None))):  # steps and timestamps never go back
        return len(order) - 1
    return max(range(len(order)), key=lambda i: (order[i], i))
