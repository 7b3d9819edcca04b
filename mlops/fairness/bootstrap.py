"""Stratified bootstrap of per-group confusion counts, vectorized.

Method (also in ``docs/fairness.md``): each resample draws, independently for every group, as many
rows as the group has, with replacement, from that group's rows (a bootstrap stratified by group, so
group sizes are fixed). Every statistic here depends on the rows only through the per-group
confusion cells, so we resample the cells instead of the rows:

* **Unweighted**: a group's resampled cells are ``Multinomial(n_g, cells_g / n_g)`` — exactly the
  distribution of cell counts of ``n_g`` rows drawn with replacement. One ``Generator.multinomial``
  call draws all resamples for all groups.
* **Weighted, few distinct weights**: the same, over "atoms" (group, cell, weight value) with their
  row frequencies; the weighted cells are the atom counts times the weights. Exact.
* **Weighted, many distinct weights**: row indices are resampled within groups, in blocks of
  resamples, and the weighted cells come from one ``np.bincount`` per block. Exact; cost
  ``O(n_boot × n)``.

The interval is the percentile interval: the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles of the
resampled statistic, over the resamples where it is defined (``n_defined`` says how many).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError

__all__ = ["BootstrapResult", "percentile_interval", "resample_cells"]

_BLOCK_ELEMENTS = 8_000_000  # elements per block of resampled rows (bounded memory)


def _check(n_boot: int, ci: float) -> None:
    if not isinstance(n_boot, int | np.integer) or isinstance(n_boot, bool) or n_boot < 1:
        raise InvalidInputError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < float(ci) < 1:
        raise InvalidInputError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")


def _multinomial(
    rng: np.random.Generator, n: NDArray[np.int64], p: NDArray[np.float64], n_boot: int
) -> NDArray[np.int64]:
    # p rows sum to 1 up to rounding; renormalize so numpy's sum(p[:-1]) <= 1 check never trips
    p = p / p.sum(axis=-1, keepdims=True)
    chunk = max(1, _BLOCK_ELEMENTS // max(1, p.size))
    parts = [rng.multinomial(n, p, size=(min(chunk, n_boot - s), len(n))) for s in range(0, n_boot, chunk)]
    return np.concatenate(parts, axis=0)


def resample_cells(
    cell_idx: NDArray[np.int64],
    n_groups: int,
    weight: NDArray[np.float64] | None,
    rows: NDArray[np.int64],
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Draw ``n_boot`` stratified bootstrap resamples of the per-group confusion cells.

    Args:
        cell_idx: The cell index ``4 * group + 2 * y_true + y_pred`` of every row.
        n_groups: Number of groups.
        weight: Sample weights, or None.
        rows: ``(n_groups, 4)`` row counts per cell.
        n_boot: Number of resamples.
        rng: The random generator.

    Returns:
        Array ``(n_boot, n_groups, 4)`` of resampled (weighted) cells.

    Example:
        >>> idx = np.array([0, 3, 3, 5])
        >>> rows = np.bincount(idx, minlength=8).reshape(2, 4)
        >>> resample_cells(idx, 2, None, rows, n_boot=3, rng=np.random.default_rng(0)).sum(axis=2).tolist()
        [[3.0, 1.0], [3.0, 1.0], [3.0, 1.0]]
    """
    n_g = rows.sum(axis=1)
    if weight is None:
        return _multinomial(rng, n_g, rows / n_g[:, None], n_boot).astype(np.float64)
    order = np.lexsort((weight, cell_idx))
    sorted_idx = cell_idx[order]
    sorted_w = weight[order]
    change = np.empty(len(order), dtype=bool)
    change[0] = True
    change[1:] = (sorted_idx[1:] != sorted_idx[:-1]) | (sorted_w[1:] != sorted_w[:-1])
    starts = np.flatnonzero(change)
    atom_idx = sorted_idx[starts]
    atom_w = sorted_w[starts]
    atom_freq = np.diff(np.append(starts, len(order)))
    atom_group = atom_idx // 4
    per_group = np.bincount(atom_group, minlength=n_groups)
    k_max = int(per_group.max())
    if n_groups * k_max * 4 <= len(cell_idx):
        # exact multinomial over atoms, padded to k_max atoms per group
        first = np.concatenate(([0], np.cumsum(per_group)[:-1]))
        slot = np.arange(len(atom_idx)) - first[atom_group]
        p = np.zeros((n_groups, k_max))
        p[atom_group, slot] = atom_freq / n_g[atom_group]
        value = np.zeros((n_groups, k_max, 4))
        value[atom_group, slot, atom_idx % 4] = atom_w
        counts = _multinomial(rng, n_g, p, n_boot).astype(np.float64)
        return np.einsum("bgk,gkc->bgc", counts, value)
    return _resample_rows(cell_idx, n_groups, weight, n_g, n_boot=n_boot, rng=rng)


def _resample_rows(
    cell_idx: NDArray[np.int64],
    n_groups: int,
    weight: NDArray[np.float64],
    n_g: NDArray[np.int64],
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    order = np.argsort(cell_idx // 4, kind="stable")
    sorted_idx = cell_idx[order]
    sorted_w = weight[order]
    n = len(cell_idx)
    start = np.repeat(np.concatenate(([0], np.cumsum(n_g)[:-1])), n_g)
    size = np.repeat(n_g, n_g).astype(np.float64)
    width = 4 * n_groups
    out = np.empty((n_boot, n_groups, 4))
    block = max(1, _BLOCK_ELEMENTS // n)
    for b0 in range(0, n_boot, block):
        nb = min(block, n_boot - b0)
        pos = start + (rng.random((nb, n)) * size).astype(np.int64)
        bins = sorted_idx[pos] + (np.arange(nb) * width)[:, None]
        sums = np.bincount(bins.ravel(), weights=sorted_w[pos].ravel(), minlength=nb * width)
        out[b0 : b0 + nb] = sums.reshape(nb, n_groups, 4)
    return out


def percentile_interval(
    samples: NDArray[np.float64], ci: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Percentile interval over axis 0, ignoring undefined (NaN) resamples.

    Returns:
        Lower bounds, upper bounds and the number of resamples where the statistic was defined.

    Example:
        >>> lo, hi, n = percentile_interval(np.array([[1.0], [2.0], [3.0], [np.nan]]), 0.5)
        >>> lo.tolist(), hi.tolist(), n.tolist()
        ([1.5], [2.5], [3])
    """
    alpha = (1.0 - ci) / 2.0
    finite = np.isfinite(samples)
    n_defined = finite.sum(axis=0)
    clean = np.where(finite, samples, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are reported via n_defined
        lower = np.nanquantile(clean, alpha, axis=0)
        upper = np.nanquantile(clean, 1.0 - alpha, axis=0)
    return np.asarray(lower), np.asarray(upper), n_defined


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap confidence intervals for per-group rates, overall rates and every aggregate.

    Attributes:
        by_group: Index = groups; columns = MultiIndex (rate, one of ``estimate``, ``lower``, ``upper``,
            ``n_defined``).
        overall: Index = rates; columns ``estimate``, ``lower``, ``upper``, ``n_defined``.
        aggregates: Index = aggregate names (see ``GroupRates.summary``); same columns.
        n_boot: Number of resamples.
        ci: Confidence level.
        method: How the resamples were drawn.
    """

    by_group: pd.DataFrame
    overall: pd.DataFrame
    aggregates: pd.DataFrame
    n_boot: int
    ci: float
    method: str = field(default="stratified percentile bootstrap")

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (JSON-serializable apart from NaN).

        Example:
            >>> import mlops.fairness as mf
            >>> r = mf.group_rates([0, 1, 1, 0], [0, 1, 0, 0], sensitive_features=["a", "a", "b", "b"])
            >>> sorted(r.bootstrap(n_boot=10, random_state=0).to_dict())
            ['aggregates', 'by_group', 'ci', 'method', 'n_boot', 'overall']
        """
        by_group = {
            str(g): {
                str(r): {s: _plain(self.by_group.loc[g, (r, s)]) for s in self.overall.columns}
                for r in self.overall.index
            }
            for g in self.by_group.index
        }
        return {
            "n_boot": self.n_boot,
            "ci": self.ci,
            "method": self.method,
            "overall": {str(k): {c: _plain(v) for c, v in row.items()} for k, row in self.overall.iterrows()},
            "aggregates": {
                str(k): {c: _plain(v) for c, v in row.items()} for k, row in self.aggregates.iterrows()
            },
            "by_group": by_group,
        }

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>Bootstrap</b>: {self.n_boot} resamples, {self.ci:.0%} percentile intervals, "
            f"stratified by group</p>"
        )
        return head + self.aggregates.to_html(float_format=lambda v: f"{v:.4f}")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_bootstrap_args(n_boot: int, ci: float) -> None:
    """Validate ``n_boot`` and ``ci``.

    Raises:
        InvalidInputError: ``n_boot`` < 1 or ``ci`` outside (0, 1).

    Example:
        >>> check_bootstrap_args(100, 0.95)
    """
    _check(n_boot, ci)
