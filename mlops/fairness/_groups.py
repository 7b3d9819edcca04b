"""Group codes: one or several sensitive features → one integer code per row.

Each feature is factorized once (hash-based for strings and objects, free for categoricals), and
several features are combined into intersectional groups with mixed-radix arithmetic on the codes.
Only the groups that occur in the data are kept, ordered lexicographically by feature level (sorted
values, or category order for categoricals).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness.validation import Missing

__all__ = ["GroupCodes", "encode_groups"]

# Above this many possible combinations per row we compress with a sort instead of a dense table.
_DENSE_FACTOR = 4


@dataclass(frozen=True)
class GroupCodes:
    """Integer group codes for each row and the labels of the groups.

    Attributes:
        codes: ``(n,)`` integer array with values in ``[0, n_groups)``.
        index: The group labels: a named :class:`pandas.Index` for one feature, a
            :class:`pandas.MultiIndex` (one level per feature) for several.
    """

    codes: NDArray[np.intp]
    index: pd.Index

    @property
    def n_groups(self) -> int:
        """Number of groups that occur in the data."""
        return len(self.index)

    @property
    def names(self) -> list[str]:
        """The sensitive feature names."""
        return [str(n) for n in self.index.names]


def _factorize(col: Any, name: str, missing: Missing) -> tuple[NDArray[np.intp], pd.Index]:
    if isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype):
        col = col.array
    if isinstance(col, pd.Categorical):
        codes = np.asarray(col.codes).astype(np.intp)
        levels = pd.Index(col.categories)
        if (codes < 0).any():
            if missing == "error":
                raise _missing_error(name, int((codes < 0).sum()))
            codes[codes < 0] = len(levels)
            levels = pd.Index([*levels.tolist(), np.nan], dtype=object)
        return codes, levels
    if isinstance(col, np.ndarray) and col.dtype.kind in "US":
        col = col.astype(object)  # hash factorization of fixed-width numpy strings is slow; objects are not
    elif isinstance(col, list | tuple):
        column = np.empty(len(col), dtype=object)
        column[:] = list(col)  # 1-D even when the labels are tuples
        col = column
    if isinstance(col, np.ndarray) and col.ndim != 1:
        raise InvalidInputError(f"sensitive feature {name!r} must be 1-D, got shape {col.shape}")
    use_sentinel = missing == "error"
    codes, uniques = pd.factorize(col, sort=False, use_na_sentinel=use_sentinel)
    codes, uniques = _sorted_levels(codes, pd.Index(uniques, tupleize_cols=False))
    if use_sentinel and len(codes) and codes.min() < 0:
        raise _missing_error(name, int((codes < 0).sum()))
    return codes.astype(np.intp, copy=False), uniques


def _sorted_levels(codes: NDArray[np.intp], uniques: pd.Index) -> tuple[NDArray[np.intp], pd.Index]:
    """Order levels by value (missing last); labels that cannot be compared keep order of appearance."""
    values = list(uniques)
    missing = [i for i, v in enumerate(values) if _is_missing(v)]
    present = [i for i in range(len(values)) if i not in set(missing)]
    with contextlib.suppress(TypeError):
        present.sort(key=lambda i: values[i])
    order = np.array(present + missing, dtype=np.intp)
    if np.array_equal(order, np.arange(len(values))):
        return codes, uniques
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    new_codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], codes)
    return new_codes, uniques.take(order)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _missing_error(name: str, k: int) -> InvalidInputError:
    return InvalidInputError(
        f"sensitive feature {name!r} has {k} missing value(s) (NaN/None); fill them, or pass "
        f"missing='group' to treat missing as a group of its own"
    )


def encode_groups(features: Sequence[tuple[str, Any]], *, missing: Missing = "error") -> GroupCodes:
    """Encode sensitive features as intersectional group codes.

    Args:
        features: (name, column) pairs, as returned by
            :func:`mlops.fairness.validation.as_sensitive_features`.
        missing: ``"error"`` (default) rejects NaN/None in a sensitive feature; ``"group"`` makes missing
            values a group of their own (labelled NaN).

    Returns:
        The :class:`GroupCodes`.

    Raises:
        InvalidInputError: A missing value with ``missing="error"``, or an unknown ``missing``.

    Example:
        >>> g = encode_groups([("sex", ["F", "M", "F"]), ("band", [1, 1, 2])])
        >>> g.codes.tolist(), list(g.index)
        ([0, 2, 1], [('F', 1), ('F', 2), ('M', 1)])
    """
    if missing not in ("error", "group"):
        raise InvalidInputError(f"missing must be 'error' or 'group', got {missing!r}")
    parts = [_factorize(col, name, missing) for name, col in features]
    names = [name for name, _ in features]
    if len(parts) == 1:
        codes, levels = parts[0]
        col = features[0][1]
        categorical = isinstance(col, pd.Categorical) or isinstance(
            getattr(col, "dtype", None), pd.CategoricalDtype
        )
        if not categorical or len(levels) == 0:
            return GroupCodes(codes=codes, index=levels.rename(names[0]))
        # categoricals may declare categories that never occur: drop them
        present = np.flatnonzero(np.bincount(codes, minlength=len(levels)))
        if len(present) == len(levels):
            return GroupCodes(codes=codes, index=levels.rename(names[0]))
        remap = np.full(len(levels), -1, dtype=np.intp)
        remap[present] = np.arange(len(present), dtype=np.intp)
        return GroupCodes(codes=remap[codes], index=levels.take(present).rename(names[0]))
    sizes = [max(len(levels), 1) for _, levels in parts]
    n = len(parts[0][0])
    total = int(np.prod(np.array(sizes, dtype=np.float64)))
    if total < 2**62:
        combined = parts[0][0].astype(np.int64, copy=True)
        for (codes, _), size in zip(parts[1:], sizes[1:], strict=True):
            combined *= size
            combined += codes
        if total <= _DENSE_FACTOR * n + 1024:
            present = np.flatnonzero(np.bincount(combined, minlength=total))
            remap = np.full(total, -1, dtype=np.intp)
            remap[present] = np.arange(len(present), dtype=np.intp)
            group_codes = remap[combined]
        else:
            present, inverse = np.unique(combined, return_inverse=True)
            group_codes = inverse.astype(np.intp, copy=False)
        level_codes: list[NDArray[np.int64]] = []
        rem = present.astype(np.int64)
        for size in reversed(sizes):
            level_codes.append(rem % size)
            rem = rem // size
        level_codes.reverse()
    else:
        stacked = np.stack([codes for codes, _ in parts], axis=1)
        uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
        group_codes = inverse.reshape(-1).astype(np.intp, copy=False)
        level_codes = [uniq[:, k] for k in range(uniq.shape[1])]
    arrays = [levels.take(lc) for (_, levels), lc in zip(parts, level_codes, strict=True)]
    index = pd.MultiIndex.from_arrays(arrays, names=names)
    return GroupCodes(codes=group_codes, index=index)
