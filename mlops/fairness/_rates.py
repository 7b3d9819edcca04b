"""Rates derived from confusion cells, vectorized over any leading axes.

A rate is ``sum(numerator cells) / sum(denominator cells)``. When the denominator is zero the rate is
undefined: it is NaN by default, or the ``zero_division`` value the caller asks for (0 reproduces
Fairlearn, see ``docs/fairness.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness._counts import FN, FP, TN, TP

__all__ = ["ALIASES", "RATES", "RateDef", "ZeroDivision", "rate_values", "resolve_rate", "zero_value"]

ZeroDivision = float | Mapping[str, float]


@dataclass(frozen=True)
class RateDef:
    """Definition of one rate.

    Attributes:
        name: Column name, e.g. ``false_positive_rate``.
        numerator: Cells summed in the numerator.
        denominator: Cells summed in the denominator.
        denominator_label: What the denominator counts (for "undefined" reports).
        formula: The formula as text.
    """

    name: str
    numerator: tuple[int, ...]
    denominator: tuple[int, ...]
    denominator_label: str
    formula: str


_ALL = (TN, FP, FN, TP)

RATES: dict[str, RateDef] = {
    d.name: d
    for d in (
        RateDef("selection_rate", (FP, TP), _ALL, "rows", "(TP + FP) / (TP + FP + TN + FN)"),
        RateDef("true_positive_rate", (TP,), (FN, TP), "positive labels", "TP / (TP + FN)"),
        RateDef("false_positive_rate", (FP,), (TN, FP), "negative labels", "FP / (FP + TN)"),
        RateDef("false_negative_rate", (FN,), (FN, TP), "positive labels", "FN / (TP + FN)"),
        RateDef("true_negative_rate", (TN,), (TN, FP), "negative labels", "TN / (TN + FP)"),
        RateDef("precision", (TP,), (FP, TP), "positive predictions", "TP / (TP + FP)"),
        RateDef("accuracy", (TN, TP), _ALL, "rows", "(TP + TN) / (TP + FP + TN + FN)"),
        RateDef("base_rate", (FN, TP), _ALL, "rows", "(TP + FN) / (TP + FP + TN + FN)"),
    )
}

ALIASES: dict[str, str] = {
    "tpr": "true_positive_rate",
    "fpr": "false_positive_rate",
    "fnr": "false_negative_rate",
    "tnr": "true_negative_rate",
    "recall": "true_positive_rate",
    "ppv": "precision",
}


def resolve_rate(name: str) -> RateDef:
    """Look a rate up by name or alias (``fpr``, ``tpr``, ...).

    Raises:
        InvalidInputError: Unknown name.

    Example:
        >>> resolve_rate("fpr").formula
        'FP / (FP + TN)'
    """
    key = ALIASES.get(name, name)
    if key not in RATES:
        raise InvalidInputError(f"unknown rate {name!r}; choose from {sorted(RATES)} or {sorted(ALIASES)}")
    return RATES[key]


def zero_value(zero_division: ZeroDivision, name: str) -> float:
    """The value of rate ``name`` when its denominator is zero.

    Example:
        >>> zero_value({"false_positive_rate": 1}, "false_positive_rate"), zero_value(0, "precision")
        (1.0, 0.0)
    """
    value = zero_division.get(name, math.nan) if isinstance(zero_division, Mapping) else zero_division
    return float(value)


def rate_values(
    cells: NDArray[np.float64], rate: RateDef, zero_division: ZeroDivision = math.nan
) -> NDArray[np.float64]:
    """Compute ``rate`` from cells of shape ``(..., 4)``; returns shape ``(...)``.

    Example:
        >>> rate_values(np.array([[3.0, 1.0, 0.0, 2.0], [0.0, 0.0, 1.0, 1.0]]), RATES["false_positive_rate"])
        array([0.25,  nan])
    """
    num = cells[..., list(rate.numerator)].sum(axis=-1)
    den = cells[..., list(rate.denominator)].sum(axis=-1)
    out = np.full(np.shape(den), zero_value(zero_division, rate.name), dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out
