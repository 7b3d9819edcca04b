"""Fairness metrics: exact, vectorized, with confidence intervals.

Bias reports with SHAP explanations: :func:`bias_report` (``docs/bias-report.md``).

Group rates come from one ``np.bincount`` over group × label × prediction; every rate, difference,
ratio and bootstrap interval is derived from those counts. Definitions, the conventions of Fairlearn
and AIF360, and a worked example are in ``docs/fairness.md``.

Example:
    >>> import mlops.fairness as mf
    >>> r = mf.group_rates([1, 0, 1, 0], [1, 1, 0, 0], sensitive_features=["F", "F", "M", "M"])
    >>> float(r.difference()["selection_rate"])
    1.0
"""

from __future__ import annotations

from mlops.fairness.bootstrap import BootstrapResult
from mlops.fairness.explain import LocalExplanation, ShapValues, explain_prediction
from mlops.fairness.frame import GroupRates, MetricFrame, group_rates
from mlops.fairness.metrics import (
    accuracy,
    average_odds_difference,
    demographic_parity_difference,
    demographic_parity_ratio,
    disparate_impact,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    four_fifths_rule,
    precision,
    selection_rate,
    statistical_parity_difference,
    true_negative_rate,
    true_positive_rate,
)
from mlops.fairness.mitigation import ThresholdMitigation, group_thresholds
from mlops.fairness.pretraining import class_imbalance, difference_in_proportions_of_labels
from mlops.fairness.report import DEFAULT_THRESHOLDS, BiasReport, bias_report

__all__ = [
    "DEFAULT_THRESHOLDS",
    "BiasReport",
    "BootstrapResult",
    "GroupRates",
    "LocalExplanation",
    "MetricFrame",
    "ShapValues",
    "ThresholdMitigation",
    "accuracy",
    "average_odds_difference",
    "bias_report",
    "class_imbalance",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "difference_in_proportions_of_labels",
    "disparate_impact",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "explain_prediction",
    "false_negative_rate",
    "false_positive_rate",
    "four_fifths_rule",
    "group_rates",
    "group_thresholds",
    "precision",
    "selection_rate",
    "statistical_parity_difference",
    "true_negative_rate",
    "true_positive_rate",
]
