"""Aggregates of per-group values: between groups, to overall, and against a privileged group.

Every function here works on numpy arrays whose last axis (values) or last two axes (cells
``(..., n_groups, 4)``) are the groups, so the same code computes a point estimate and a whole batch of
bootstrap resamples. Groups whose value is undefined (NaN) are left out of max/min; an aggregate
with no defined group is NaN.

Conventions (see ``docs/fairness.md``):

* ``between_groups`` (Fairlearn): difference ``max - min``, ratio ``min / max``.
* ``to_overall`` (Fairlearn): difference ``max |v_g - v_overall|``, ratio ``min min(v_g/v, v/v_g)``.
* against a privileged group (AIF360): difference ``v_unpriv - v_priv``, ratio ``v_unpriv / v_priv``.

A ratio whose denominator is 0 is NaN (undefined).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness._rates import RATES, ZeroDivision, rate_values

__all__ = [
    "Agg",
    "Method",
    "Unprivileged",
    "aggregate_difference",
    "aggregate_ratio",
    "between_groups_difference",
    "between_groups_ratio",
    "equalized_odds",
    "privileged_mask",
    "reference_cells",
    "safe_ratio",
    "to_overall_difference",
    "to_overall_ratio",
]

Method = Literal["between_groups", "to_overall"]
Agg = Literal["worst_case", "mean"]
Unprivileged = Literal["pooled", "each"]


def safe_ratio(num: NDArray[np.float64] | float, den: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """``num / den`` with NaN where ``den`` is 0 (or either side is NaN).

    Example:
        >>> safe_ratio(np.array([1.0, 1.0]), np.array([2.0, 0.0]))
        array([0.5, nan])
    """
    num_a = np.asarray(num, dtype=np.float64)
    den_a = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num_a, den_a).shape, math.nan)
    np.divide(num_a, den_a, out=out, where=den_a != 0)
    return out


def between_groups_difference(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``max - min`` over the last axis, ignoring undefined groups.

    Example:
        >>> float(between_groups_difference(np.array([0.2, np.nan, 0.5])))
        0.3
    """
    return np.asarray(np.fmax.reduce(values, axis=-1) - np.fmin.reduce(values, axis=-1))


def between_groups_ratio(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``min / max`` over the last axis, ignoring undefined groups; NaN when the max is 0.

    Example:
        >>> float(between_groups_ratio(np.array([0.2, 0.5])))
        0.4
    """
    return safe_ratio(np.fmin.reduce(values, axis=-1), np.fmax.reduce(values, axis=-1))


def to_overall_difference(values: NDArray[np.float64], overall: NDArray[np.float64]) -> NDArray[np.float64]:
    """``max_g |v_g - overall|``, ignoring undefined groups.

    Example:
        >>> float(to_overall_difference(np.array([0.2, 0.5]), np.array(0.4)))
        0.2
    """
    return np.asarray(np.fmax.reduce(np.abs(values - np.asarray(overall)[..., None]), axis=-1))


def to_overall_ratio(values: NDArray[np.float64], overall: NDArray[np.float64]) -> NDArray[np.float64]:
    """``min_g min(v_g / overall, overall / v_g)``, ignoring undefined groups.

    Example:
        >>> float(to_overall_ratio(np.array([0.2, 0.5]), np.array(0.4)))
        0.5
    """
    r = safe_ratio(values, np.asarray(overall)[..., None])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(r > 1, 1.0 / r, r)
    return np.asarray(np.fmin.reduce(r, axis=-1))


def aggregate_difference(
    values: NDArray[np.float64], overall: NDArray[np.float64], method: Method
) -> NDArray[np.float64]:
    """Difference by ``method`` (``between_groups`` or ``to_overall``).

    Raises:
        InvalidInputError: Unknown method.

    Example:
        >>> float(aggregate_difference(np.array([0.2, 0.5]), np.array(0.4), "between_groups"))
        0.3
    """
    if method == "between_groups":
        return between_groups_difference(values)
    if method == "to_overall":
        return to_overall_difference(values, overall)
    raise InvalidInputError(f"method must be 'between_groups' or 'to_overall', got {method!r}")


def aggregate_ratio(
    values: NDArray[np.float64], overall: NDArray[np.float64], method: Method
) -> NDArray[np.float64]:
    """Ratio by ``method`` (``between_groups`` or ``to_overall``).

    Raises:
        InvalidInputError: Unknown method.

    Example:
        >>> float(aggregate_ratio(np.array([0.2, 0.5]), np.array(0.4), "between_groups"))
        0.4
    """
    if method == "between_groups":
        return between_groups_ratio(values)
    if method == "to_overall":
        return to_overall_ratio(values, overall)
    raise InvalidInputError(f"method must be 'between_groups' or 'to_overall', got {method!r}")


def equalized_odds(
    cells: NDArray[np.float64],
    *,
    kind: Literal["difference", "ratio"],
    method: Method = "between_groups",
    agg: Agg = "worst_case",
    zero_division: ZeroDivision = math.nan,
) -> NDArray[np.float64]:
    """Equalized odds difference or ratio from cells ``(..., n_groups, 4)``.

    ``worst_case`` takes the larger TPR/FPR difference (the smaller ratio), ``mean`` their mean. NaN when
    either component is undefined.

    Raises:
        InvalidInputError: Unknown ``agg`` or ``method``.

    Example:
        >>> cells = np.array([[8.0, 2.0, 1.0, 9.0], [6.0, 4.0, 5.0, 5.0]])
        >>> round(float(equalized_odds(cells, kind="difference")), 6)
        0.4
    """
    if agg not in ("worst_case", "mean"):
        raise InvalidInputError(f"agg must be 'worst_case' or 'mean', got {agg!r}")
    overall = cells.sum(axis=-2)
    parts = []
    for name in ("true_positive_rate", "false_positive_rate"):
        rate = RATES[name]
        values = rate_values(cells, rate, zero_division)
        total = rate_values(overall, rate, zero_division)
        if kind == "difference":
            parts.append(aggregate_difference(values, total, method))
        else:
            parts.append(aggregate_ratio(values, total, method))
    a, b = parts
    if agg == "mean":
        return np.asarray((a + b) / 2.0)
    return np.asarray(np.maximum(a, b) if kind == "difference" else np.minimum(a, b))


def _match(index: pd.Index, spec: Any) -> NDArray[np.bool_]:
    if isinstance(spec, Mapping):
        mask = np.ones(len(index), dtype=bool)
        for feature, value in spec.items():
            if feature not in index.names:
                raise InvalidInputError(
                    f"privileged refers to feature {feature!r}, but the sensitive features are "
                    f"{list(index.names)}"
                )
            level = index.get_level_values(feature)
            values = list(value) if isinstance(value, list | set | frozenset) else [value]
            mask &= np.asarray(level.isin(values))
        return mask
    if isinstance(index, pd.MultiIndex):
        if not isinstance(spec, tuple) or len(spec) != index.nlevels:
            raise InvalidInputError(
                f"with {index.nlevels} sensitive features, privileged must be a tuple of {index.nlevels} "
                f"values, a dict {{feature: value}} or a list of those; got {spec!r}"
            )
        return np.array([label == spec for label in index], dtype=bool)
    return np.asarray(index.isin([spec]))


def privileged_mask(index: pd.Index, privileged: Any) -> NDArray[np.bool_]:
    """Which groups are privileged.

    ``privileged`` is a group label (a tuple with several features), a dict ``{feature: value(s)}``
    selecting every group that matches (as in AIF360's ``privileged_groups``), or a list of those (their
    union). Several privileged groups are pooled.

    Raises:
        InvalidInputError: No group matches, or every group does.

    Example:
        >>> privileged_mask(pd.Index(["F", "M"], name="sex"), "M").tolist()
        [False, True]
    """
    if isinstance(privileged, list):
        if not privileged:
            raise InvalidInputError("privileged is an empty list; name at least one group")
        mask = np.zeros(len(index), dtype=bool)
        for spec in privileged:
            mask |= _match(index, spec)
    else:
        mask = _match(index, privileged)
    if not mask.any():
        raise InvalidInputError(
            f"privileged group {privileged!r} does not occur in the data; the groups are {list(index)[:20]}"
        )
    if mask.all():
        raise InvalidInputError(
            f"every group matches privileged={privileged!r}; there is no unprivileged group to compare with"
        )
    return mask


def reference_cells(
    cells: NDArray[np.float64], mask: NDArray[np.bool_], unprivileged: Unprivileged
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split cells ``(..., G, 4)`` into pooled privileged cells ``(..., 1, 4)`` and unprivileged cells.

    With ``unprivileged="pooled"`` the unprivileged cells are all other groups summed, shape
    ``(..., 1, 4)``; with ``"each"`` they are the other groups, shape ``(..., U, 4)``.

    Raises:
        InvalidInputError: Unknown ``unprivileged``.

    Example:
        >>> cells = np.arange(12, dtype=float).reshape(3, 4)
        >>> p, u = reference_cells(cells, np.array([True, False, False]), "pooled")
        >>> p.tolist(), u.tolist()
        ([[0.0, 1.0, 2.0, 3.0]], [[12.0, 14.0, 16.0, 18.0]])
    """
    priv = cells[..., mask, :].sum(axis=-2, keepdims=True)
    others = cells[..., ~mask, :]
    if unprivileged == "pooled":
        return priv, others.sum(axis=-2, keepdims=True)
    if unprivileged == "each":
        return priv, others
    raise InvalidInputError(f"unprivileged must be 'pooled' or 'each', got {unprivileged!r}")


def unprivileged_labels(
    index: pd.Index, mask: NDArray[np.bool_], unprivileged: Unprivileged
) -> list[Hashable]:
    """Labels of the unprivileged side: ``["unprivileged (pooled)"]`` or the other groups' labels.

    Example:
        >>> unprivileged_labels(pd.Index(["F", "M", "X"]), np.array([False, True, False]), "each")
        ['F', 'X']
    """
    if unprivileged == "pooled":
        return ["unprivileged (pooled)"]
    return list(index[~mask])
