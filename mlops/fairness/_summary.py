"""The named aggregate statistics, computed from cells for a point estimate or a batch of resamples.

One function, :func:`summary_statistics`, is the single source of the names and formulas that
``GroupRates.summary()`` reports and that :mod:`mlops.fairness.bootstrap` puts intervals on, so the
estimate and its interval can never disagree about a definition.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.fairness._rates import RATES, ZeroDivision, rate_values
from mlops.fairness.aggregates import (
    Unprivileged,
    aggregate_difference,
    aggregate_ratio,
    equalized_odds,
    reference_cells,
    safe_ratio,
    unprivileged_labels,
)

__all__ = ["summary_statistics"]


def _label(label: Hashable) -> str:
    return str(label)


def summary_statistics(
    cells: NDArray[np.float64],
    index: pd.Index,
    *,
    rate_names: tuple[str, ...],
    zero_division: ZeroDivision = math.nan,
    privileged: NDArray[np.bool_] | None = None,
    unprivileged: Unprivileged = "pooled",
) -> dict[str, NDArray[np.float64]]:
    """Every named aggregate, from cells of shape ``(..., n_groups, 4)``; each value has shape ``(...)``.

    Names: ``<rate>_difference`` / ``<rate>_ratio`` (between groups), ``<rate>_difference_to_overall`` /
    ``<rate>_ratio_to_overall``, ``demographic_parity_*``, ``equalized_odds_*`` (worst case),
    ``equal_opportunity_*``; with a privileged mask also ``<rate>_difference_vs_privileged`` /
    ``<rate>_ratio_vs_privileged``, ``disparate_impact``, ``statistical_parity_difference`` and
    ``average_odds_difference`` (suffixed ``[group]`` for each unprivileged group when ``unprivileged``
    is ``"each"``).

    Example:
        >>> cells = np.array([[8.0, 2.0, 1.0, 9.0], [6.0, 4.0, 5.0, 5.0]])
        >>> s = summary_statistics(cells, pd.Index(["a", "b"]), rate_names=("selection_rate",))
        >>> round(float(s["demographic_parity_difference"]), 6)
        0.1
    """
    out: dict[str, NDArray[np.float64]] = {}
    overall_cells = cells.sum(axis=-2)
    values = {}
    for name in rate_names:
        rate = RATES[name]
        v = rate_values(cells, rate, zero_division)
        o = rate_values(overall_cells, rate, zero_division)
        values[name] = v
        out[f"{name}_difference"] = aggregate_difference(v, o, "between_groups")
        out[f"{name}_ratio"] = aggregate_ratio(v, o, "between_groups")
        out[f"{name}_difference_to_overall"] = aggregate_difference(v, o, "to_overall")
        out[f"{name}_ratio_to_overall"] = aggregate_ratio(v, o, "to_overall")
    if "selection_rate" in values:
        out["demographic_parity_difference"] = out["selection_rate_difference"]
        out["demographic_parity_ratio"] = out["selection_rate_ratio"]
    if "true_positive_rate" in values and "false_positive_rate" in values:
        out["equalized_odds_difference"] = equalized_odds(
            cells, kind="difference", zero_division=zero_division
        )
        out["equalized_odds_ratio"] = equalized_odds(cells, kind="ratio", zero_division=zero_division)
    if "true_positive_rate" in values:
        out["equal_opportunity_difference"] = out["true_positive_rate_difference"]
        out["equal_opportunity_ratio"] = out["true_positive_rate_ratio"]
    if privileged is None:
        return out
    priv_cells, unpriv_cells = reference_cells(cells, privileged, unprivileged)
    labels = unprivileged_labels(index, privileged, unprivileged)
    ref: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    for name in rate_names:
        rate = RATES[name]
        p = rate_values(priv_cells, rate, zero_division)
        u = rate_values(unpriv_cells, rate, zero_division)
        ref[name] = (u - p, safe_ratio(u, p))
    for k, label in enumerate(labels):
        suffix = "" if unprivileged == "pooled" else f"[{_label(label)}]"
        for name in rate_names:
            diff, ratio = ref[name]
            out[f"{name}_difference_vs_privileged{suffix}"] = diff[..., k]
            out[f"{name}_ratio_vs_privileged{suffix}"] = ratio[..., k]
        if "selection_rate" in ref:
            out[f"disparate_impact{suffix}"] = ref["selection_rate"][1][..., k]
            out[f"statistical_parity_difference{suffix}"] = ref["selection_rate"][0][..., k]
        if "true_positive_rate" in ref and "false_positive_rate" in ref:
            out[f"average_odds_difference{suffix}"] = 0.5 * (
                ref["false_positive_rate"][0][..., k] + ref["true_positive_rate"][0][..., k]
            )
    return out
