"""Weighted confusion counts per group, in one pass.

The cell of a row is ``4 * group + 2 * y_true + y_pred`` (cells TN, FP, FN, TP in that order), so one
``np.bincount`` over the cell index gives every group's confusion matrix. Everything else — rates,
differences, ratios, bootstrap resamples — is derived from these ``(n_groups, 4)`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CELLS",
    "FN",
    "FP",
    "TN",
    "TP",
    "ConfusionCounts",
    "cell_index",
    "confusion_counts",
    "counts_from_index",
]

TN, FP, FN, TP = 0, 1, 2, 3
CELLS = ("tn", "fp", "fn", "tp")


@dataclass(frozen=True)
class ConfusionCounts:
    """Per-group confusion tables.

    Attributes:
        cells: ``(n_groups, 4)`` float64 sums of sample weights (row counts when unweighted) in the cells
            TN, FP, FN, TP.
        rows: ``(n_groups, 4)`` int64 numbers of rows in each cell (unweighted).
        weighted: Whether sample weights were given.
    """

    cells: NDArray[np.float64]
    rows: NDArray[np.int64]
    weighted: bool

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.cells.shape[0])


def cell_index(
    codes: NDArray[np.intp], y_true: NDArray[np.bool_], y_pred: NDArray[np.bool_] | None
) -> NDArray[np.int64]:
    """The cell index ``4 * group + 2 * y_true + y_pred`` of every row (``y_pred`` None counts as False).

    Example:
        >>> cell_index(np.array([0, 1]), np.array([True, False]), np.array([True, True])).tolist()
        [3, 5]
    """
    idx = codes.astype(np.int64, copy=True)
    idx *= 4
    # in-place adds of booleans avoid three full-size temporaries
    idx += y_true
    idx += y_true
    if y_pred is not None:
        idx += y_pred
    return idx


def confusion_counts(
    codes: NDArray[np.intp],
    n_groups: int,
    y_true: NDArray[np.bool_],
    y_pred: NDArray[np.bool_] | None,
    weight: NDArray[np.float64] | None = None,
) -> ConfusionCounts:
    """Count (weighted) TN, FP, FN, TP per group with ``np.bincount``.

    Args:
        codes: Group code of each row, in ``[0, n_groups)``.
        n_groups: Number of groups.
        y_true: True where the label is positive.
        y_pred: True where the prediction is positive; None for label-only statistics (every row then
            lands in TN or FN).
        weight: Optional sample weights.

    Returns:
        The :class:`ConfusionCounts`.

    Example:
        >>> c = confusion_counts(np.array([0, 0, 1]), 2, np.array([True, False, True]),
        ...                      np.array([True, True, False]))
        >>> c.rows.tolist()
        [[0, 1, 0, 1], [0, 0, 1, 0]]
    """
    return counts_from_index(cell_index(codes, y_true, y_pred), n_groups, weight)


def counts_from_index(
    idx: NDArray[np.int64], n_groups: int, weight: NDArray[np.float64] | None = None
) -> ConfusionCounts:
    """Per-group confusion tables from precomputed cell indices (see :func:`cell_index`).

    Example:
        >>> counts_from_index(np.array([3, 3, 4]), 2).rows.tolist()
        [[0, 0, 0, 2], [1, 0, 0, 0]]
    """
    size = 4 * n_groups
    rows = np.bincount(idx, minlength=size).astype(np.int64, copy=False).reshape(n_groups, 4)
    if weight is None:
        return ConfusionCounts(cells=rows.astype(np.float64), rows=rows, weighted=False)
    cells = np.bincount(idx, weights=weight, minlength=size).astype(np.float64).reshape(n_groups, 4)
    return ConfusionCounts(cells=cells, rows=rows, weighted=True)
