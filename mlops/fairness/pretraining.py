"""Pre-training bias of a data set: is a group under-represented, and are its labels skewed?

Both follow SageMaker Clarify's definitions, with facet *a* the privileged (advantaged) side and *d*
the unprivileged side:

* class imbalance ``CI = (n_a - n_d) / (n_a + n_d)`` (weighted counts), in [-1, 1];
* difference in proportions of labels ``DPL = q_a - q_d``, ``q`` the (weighted) share of positive labels.

AIF360's ``statistical_parity_difference`` on labels is ``q_d - q_a = -DPL``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from mlops.errors import InvalidInputError
from mlops.fairness._counts import confusion_counts
from mlops.fairness._groups import encode_groups
from mlops.fairness._rates import RATES, rate_values
from mlops.fairness.aggregates import Unprivileged, privileged_mask, reference_cells
from mlops.fairness.metrics import farthest_from_parity
from mlops.fairness.validation import Missing, as_sensitive_features, as_weights, prepare

__all__ = ["class_imbalance", "difference_in_proportions_of_labels"]


def class_imbalance(
    sensitive_features: Any,
    *,
    privileged: Any,
    unprivileged: Unprivileged = "pooled",
    sample_weight: Any = None,
    missing: Missing = "error",
) -> float:
    """Class imbalance ``(n_a - n_d) / (n_a + n_d)``: positive when the privileged side has more rows.

    Args:
        sensitive_features: The sensitive feature(s).
        privileged: The privileged group (label, dict or list, as in ``GroupRates.compare``).
        unprivileged: ``"pooled"`` (all others) or ``"each"`` (the value farthest from 0 over the others).
        sample_weight: Optional weights (weighted counts).
        missing: ``"error"`` or ``"group"`` for NaN in a sensitive feature.

    Raises:
        InvalidInputError: Empty input, bad weights or an unknown privileged group.

    Example:
        >>> class_imbalance(["m", "m", "m", "f"], privileged="m")
        0.5
    """
    features = as_sensitive_features(sensitive_features)
    n = len(features[0][1])
    if n == 0:
        raise InvalidInputError("empty input: sensitive_features has no rows")
    groups = encode_groups(features, missing=missing)
    w = as_weights(sample_weight, len(groups.codes))
    sizes = np.bincount(groups.codes, weights=w, minlength=groups.n_groups).astype(np.float64)
    mask = privileged_mask(groups.index, privileged)
    n_a = sizes[mask].sum()
    if unprivileged == "pooled":
        n_d = np.array([sizes[~mask].sum()])
    elif unprivileged == "each":
        n_d = sizes[~mask]
    else:
        raise InvalidInputError(f"unprivileged must be 'pooled' or 'each', got {unprivileged!r}")
    total = n_a + n_d
    values = np.where(total > 0, (n_a - n_d) / np.where(total > 0, total, 1.0), np.nan)
    return farthest_from_parity(values, "difference")


def difference_in_proportions_of_labels(
    y_true: Any,
    *,
    sensitive_features: Any,
    privileged: Any,
    unprivileged: Unprivileged = "pooled",
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    missing: Missing = "error",
) -> float:
    """DPL ``q_a - q_d``: privileged minus unprivileged share of positive labels.

    Args:
        y_true: The labels (binary).
        sensitive_features: The sensitive feature(s).
        privileged: The privileged group.
        unprivileged: ``"pooled"`` or ``"each"`` (value farthest from 0).
        pos_label: The positive (favorable) label.
        sample_weight: Optional weights.
        missing: ``"error"`` or ``"group"`` for NaN in a sensitive feature.

    Raises:
        InvalidInputError: Invalid labels, weights or privileged group.

    Example:
        >>> difference_in_proportions_of_labels([1, 1, 1, 0], sensitive_features=["m", "m", "f", "f"],
        ...                                     privileged="m")
        0.5
    """
    prep = prepare(
        y_true,
        None,
        sensitive_features=sensitive_features,
        pos_label=pos_label,
        sample_weight=sample_weight,
        require_pred=False,
    )
    groups = encode_groups(prep.features, missing=missing)
    counts = confusion_counts(groups.codes, groups.n_groups, prep.y_true, None, prep.weight)
    mask = privileged_mask(groups.index, privileged)
    priv, unpriv = reference_cells(counts.cells, mask, unprivileged)
    q_a = rate_values(priv, RATES["base_rate"])
    q_d = rate_values(unpriv, RATES["base_rate"])
    return farthest_from_parity(np.asarray(q_a - q_d, dtype=np.float64), "difference")
