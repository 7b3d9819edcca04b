"""Public metric functions: Fairlearn's names and signatures, plus AIF360's reference-group metrics.

Single-sample rates (``selection_rate``, ``true_positive_rate``, ...) take
``(y_true, y_pred, *, pos_label=1, sample_weight=None)`` and return a float. Grouped metrics take
``sensitive_features=`` and return a float: Fairlearn's between-groups form
(``demographic_parity_difference``, ``equalized_odds_ratio``, ...), or AIF360's form against a
``privileged`` group (``disparate_impact``, ``statistical_parity_difference``,
``average_odds_difference``).

The one deliberate difference from Fairlearn: a rate whose denominator is zero (e.g. the FPR of a group
without negative labels) is NaN by default, not 0. Pass ``zero_division=0`` to get Fairlearn's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness._rates import RATES, ZeroDivision, rate_values
from mlops.fairness.aggregates import (
    Agg,
    Method,
    Unprivileged,
    aggregate_difference,
    aggregate_ratio,
    equalized_odds,
    privileged_mask,
    reference_cells,
    safe_ratio,
)
from mlops.fairness.frame import GroupRates, group_rates, register_builtin
from mlops.fairness.validation import Missing, as_label_array, as_weights, binarize, check_zero_division

__all__ = [
    "accuracy",
    "average_odds_difference",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "disparate_impact",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "false_negative_rate",
    "false_positive_rate",
    "four_fifths_rule",
    "precision",
    "selection_rate",
    "statistical_parity_difference",
    "true_negative_rate",
    "true_positive_rate",
]


# ------------------------------------------------------------------------------------- single-sample rates


def _cells(
    y_true: Any, y_pred: Any, pos_label: Hashable, sample_weight: Any, use_true: bool = True
) -> NDArray[np.float64]:
    yp_raw = as_label_array(y_pred, "y_pred")
    yt_raw = as_label_array(y_true, "y_true")
    if len(yt_raw) != len(yp_raw):
        raise InvalidInputError(
            f"inputs have different lengths: y_true has {len(yt_raw)}, y_pred has {len(yp_raw)}; "
            f"every input needs one entry per row"
        )
    if len(yp_raw) == 0:
        raise InvalidInputError("empty input: y_pred has no rows; a rate needs at least one row")
    yp, _ = binarize(yp_raw, "y_pred", pos_label=pos_label, scores_allowed=True)
    yt = binarize(yt_raw, "y_true", pos_label=pos_label)[0] if use_true else np.zeros(len(yp), dtype=bool)
    w = as_weights(sample_weight, len(yp))
    idx = 2 * yt.astype(np.intp) + yp
    return np.bincount(idx, weights=w, minlength=4).astype(np.float64)


def _single(
    name: str, y_true: Any, y_pred: Any, pos_label: Hashable, sample_weight: Any, zero_division: float
) -> float:
    check_zero_division(zero_division)
    cells = _cells(y_true, y_pred, pos_label, sample_weight, use_true=name != "selection_rate")
    return float(rate_values(cells, RATES[name], zero_division))


def selection_rate(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """Fraction of (weighted) predictions equal to ``pos_label``; ``y_true`` is ignored apart from its length.

    Example:
        >>> selection_rate([0, 0, 1, 1], [1, 0, 1, 1])
        0.75
    """
    return _single("selection_rate", y_true, y_pred, pos_label, sample_weight, zero_division)


def true_positive_rate(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """TP / (TP + FN); NaN (or ``zero_division``) without positive labels.

    Example:
        >>> true_positive_rate([1, 1, 0], [1, 0, 0])
        0.5
    """
    return _single("true_positive_rate", y_true, y_pred, pos_label, sample_weight, zero_division)


def false_positive_rate(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """FP / (FP + TN); NaN (or ``zero_division``) without negative labels (Fairlearn returns 0).

    Example:
        >>> false_positive_rate([0, 0, 1], [1, 0, 1])
        0.5
    """
    return _single("false_positive_rate", y_true, y_pred, pos_label, sample_weight, zero_division)


def false_negative_rate(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """FN / (TP + FN); NaN (or ``zero_division``) without positive labels.

    Example:
        >>> false_negative_rate([1, 1, 0], [1, 0, 0])
        0.5
    """
    return _single("false_negative_rate", y_true, y_pred, pos_label, sample_weight, zero_division)


def true_negative_rate(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """TN / (TN + FP); NaN (or ``zero_division``) without negative labels.

    Example:
        >>> true_negative_rate([0, 0, 1], [1, 0, 1])
        0.5
    """
    return _single("true_negative_rate", y_true, y_pred, pos_label, sample_weight, zero_division)


def precision(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """TP / (TP + FP); NaN (or ``zero_division``) without positive predictions.

    Example:
        >>> precision([0, 1, 1], [1, 1, 0])
        0.5
    """
    return _single("precision", y_true, y_pred, pos_label, sample_weight, zero_division)


def accuracy(
    y_true: Any,
    y_pred: Any,
    *,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    zero_division: float = math.nan,
) -> float:
    """(TP + TN) / all rows (weighted).

    Example:
        >>> accuracy([0, 1, 1, 0], [1, 1, 0, 0])
        0.5
    """
    return _single("accuracy", y_true, y_pred, pos_label, sample_weight, zero_division)


for _fn, _rate in (
    (selection_rate, "selection_rate"),
    (true_positive_rate, "true_positive_rate"),
    (false_positive_rate, "false_positive_rate"),
    (false_negative_rate, "false_negative_rate"),
    (true_negative_rate, "true_negative_rate"),
    (precision, "precision"),
    (accuracy, "accuracy"),
):
    register_builtin(_fn, _rate)


# ---------------------------------------------------------------------------- between groups (Fairlearn)


def _rates(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    pos_label: Hashable,
    sample_weight: Any,
    threshold: float | None,
    zero_division: ZeroDivision,
    missing: Missing,
    rates: tuple[str, ...],
) -> GroupRates:
    return group_rates(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        pos_label=pos_label,
        sample_weight=sample_weight,
        threshold=threshold,
        zero_division=zero_division,
        missing=missing,
        rates=rates,
    )


def _between(
    kind: Literal["difference", "ratio"],
    rate: str,
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    method: Method,
    pos_label: Hashable,
    sample_weight: Any,
    threshold: float | None,
    zero_division: ZeroDivision,
    missing: Missing,
) -> float:
    r = _rates(
        y_true,
        y_pred,
        sensitive_features,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
        (rate,),
    )
    values = r.by_group[rate].to_numpy(dtype=np.float64)
    overall = np.float64(r.overall[rate])
    fn = aggregate_difference if kind == "difference" else aggregate_ratio
    return float(fn(values, np.asarray(overall), method))


def demographic_parity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Hashable = 1,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """Largest minus smallest group selection rate (``method="to_overall"``: largest gap to the overall rate).

    Example:
        >>> demographic_parity_difference([0, 0, 0, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
        0.5
    """
    return _between(
        "difference",
        "selection_rate",
        y_true,
        y_pred,
        sensitive_features,
        method,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


def demographic_parity_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Hashable = 1,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """Smallest over largest group selection rate (NaN when every group's rate is 0).

    Example:
        >>> demographic_parity_ratio([0, 0, 0, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
        0.5
    """
    return _between(
        "ratio",
        "selection_rate",
        y_true,
        y_pred,
        sensitive_features,
        method,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


def equal_opportunity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Hashable = 1,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """Largest minus smallest group true positive rate (groups without positive labels left out).

    Example:
        >>> equal_opportunity_difference([1, 1, 1, 1], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
        0.5
    """
    return _between(
        "difference",
        "true_positive_rate",
        y_true,
        y_pred,
        sensitive_features,
        method,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


def equal_opportunity_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Hashable = 1,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """Smallest over largest group true positive rate.

    Example:
        >>> equal_opportunity_ratio([1, 1, 1, 1], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
        0.5
    """
    return _between(
        "ratio",
        "true_positive_rate",
        y_true,
        y_pred,
        sensitive_features,
        method,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


def _eo(
    kind: Literal["difference", "ratio"],
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    method: Method,
    agg: Agg,
    pos_label: Hashable,
    sample_weight: Any,
    threshold: float | None,
    zero_division: ZeroDivision,
    missing: Missing,
) -> float:
    if agg not in ("worst_case", "mean"):
        raise InvalidInputError(f"agg must be 'worst_case' or 'mean', got {agg!r}")
    r = _rates(
        y_true,
        y_pred,
        sensitive_features,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
        ("true_positive_rate", "false_positive_rate"),
    )
    return float(
        equalized_odds(r.counts.cells, kind=kind, method=method, agg=agg, zero_division=zero_division)
    )


def equalized_odds_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    agg: Agg = "worst_case",
    pos_label: Hashable = 1,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """The larger (``agg="mean"``: the mean) of the TPR difference and the FPR difference.

    Example:
        >>> equalized_odds_difference([1, 0, 1, 0], [1, 0, 1, 1], sensitive_features=["a", "a", "b", "b"])
        1.0
    """
    return _eo(
        "difference",
        y_true,
        y_pred,
        sensitive_features,
        method,
        agg,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


def equalized_odds_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    agg: Agg = "worst_case",
    pos_label: Hashable = 1,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """The smaller (``agg="mean"``: the mean) of the TPR ratio and the FPR ratio.

    Example:
        >>> equalized_odds_ratio([1, 0, 1, 0], [1, 0, 1, 1], sensitive_features=["a", "a", "b", "b"])
        0.0
    """
    return _eo(
        "ratio",
        y_true,
        y_pred,
        sensitive_features,
        method,
        agg,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


# ----------------------------------------------------------------- against a privileged group (AIF360)


def farthest_from_parity(values: NDArray[np.float64], kind: Literal["difference", "ratio"]) -> float:
    """The value farthest from parity (0 for differences, 1 for ratios, on a log scale), NaN ignored.

    Example:
        >>> farthest_from_parity(np.array([0.9, 1.3, np.nan]), "ratio")
        1.3
    """
    finite = np.isfinite(values)
    if not finite.any():
        return math.nan
    with np.errstate(divide="ignore"):
        distance = np.abs(values) if kind == "difference" else np.abs(np.log(np.where(finite, values, 1.0)))
    distance = np.where(finite, distance, -1.0)
    return float(values[int(np.argmax(distance))])


def _vs_privileged(
    statistic: Literal["spd", "di", "aod", "eod"],
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    privileged: Any,
    unprivileged: Unprivileged,
    pos_label: Hashable,
    sample_weight: Any,
    threshold: float | None,
    zero_division: ZeroDivision,
    missing: Missing,
) -> float:
    labels_only = y_pred is None
    r = _rates(
        y_true,
        y_true if labels_only else y_pred,
        sensitive_features,
        pos_label,
        sample_weight,
        None if labels_only else threshold,
        zero_division,
        missing,
        ("selection_rate",),
    )
    mask = privileged_mask(r.groups.index, privileged)
    priv, unpriv = reference_cells(r.counts.cells, mask, unprivileged)

    def rate(cells: NDArray[np.float64], name: str) -> NDArray[np.float64]:
        return rate_values(cells, RATES[name], zero_division)

    if statistic in ("spd", "di"):
        u, p = rate(unpriv, "selection_rate"), rate(priv, "selection_rate")
        values = u - p if statistic == "spd" else safe_ratio(u, p)
    elif statistic == "aod":
        values = 0.5 * (
            (rate(unpriv, "false_positive_rate") - rate(priv, "false_positive_rate"))
            + (rate(unpriv, "true_positive_rate") - rate(priv, "true_positive_rate"))
        )
    else:
        values = rate(unpriv, "true_positive_rate") - rate(priv, "true_positive_rate")
    kind: Literal["difference", "ratio"] = "ratio" if statistic == "di" else "difference"
    return farthest_from_parity(np.asarray(values, dtype=np.float64), kind)


def disparate_impact(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    privileged: Any,
    unprivileged: Unprivileged = "pooled",
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    threshold: float | None = None,
    missing: Missing = "error",
) -> float:
    """Unprivileged selection rate over privileged selection rate (AIF360's ``disparate_impact``).

    With ``y_pred=None`` the labels are used (the disparate impact of the data set). ``unprivileged``:
    ``"pooled"`` compares all other rows together (AIF360), ``"each"`` returns the other group's ratio that
    is farthest from 1. Values below 0.8 or above 1.25 fail the four-fifths rule. NaN when the privileged
    selection rate is 0.

    Example:
        >>> disparate_impact([0, 0, 0, 0], [1, 1, 1, 0], sensitive_features=["m", "m", "f", "f"],
        ...                  privileged="m")
        0.5
    """
    return _vs_privileged(
        "di",
        y_true,
        y_pred,
        sensitive_features,
        privileged,
        unprivileged,
        pos_label,
        sample_weight,
        threshold,
        math.nan,
        missing,
    )


def statistical_parity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    privileged: Any,
    unprivileged: Unprivileged = "pooled",
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    threshold: float | None = None,
    missing: Missing = "error",
) -> float:
    """Unprivileged minus privileged selection rate (AIF360's ``statistical_parity_difference``).

    Example:
        >>> statistical_parity_difference([0, 0, 0, 0], [1, 1, 1, 0], sensitive_features=["m", "m", "f", "f"],
        ...                               privileged="m")
        -0.5
    """
    return _vs_privileged(
        "spd",
        y_true,
        y_pred,
        sensitive_features,
        privileged,
        unprivileged,
        pos_label,
        sample_weight,
        threshold,
        math.nan,
        missing,
    )


def average_odds_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    privileged: Any,
    unprivileged: Unprivileged = "pooled",
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
) -> float:
    """Mean of the unprivileged − privileged FPR and TPR differences (AIF360's ``average_odds_difference``).

    Example:
        >>> average_odds_difference([1, 0, 1, 0], [1, 0, 1, 1], sensitive_features=["m", "m", "f", "f"],
        ...                         privileged="m")
        0.5
    """
    return _vs_privileged(
        "aod",
        y_true,
        y_pred,
        sensitive_features,
        privileged,
        unprivileged,
        pos_label,
        sample_weight,
        threshold,
        zero_division,
        missing,
    )


def four_fifths_rule(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    threshold: float | None = None,
    missing: Missing = "error",
    ratio_threshold: float = 0.8,
) -> pd.DataFrame:
    """Each group's selection rate against the highest group's; ``flag`` where the ratio is below 0.8.

    Example:
        >>> four_fifths_rule([0] * 4, [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])["flag"].tolist()
        [False, True]
    """
    r = _rates(
        y_true,
        y_pred,
        sensitive_features,
        pos_label,
        sample_weight,
        threshold,
        math.nan,
        missing,
        ("selection_rate",),
    )
    return r.four_fifths(threshold=ratio_threshold)
