"""Post-processing mitigation: one decision threshold per group, chosen to equalize a rate.

For each group the threshold is the score at which the group's rate (false positive rate, true
positive rate or selection rate) comes closest to a common target — by default the overall rate at the
single threshold, so the model flags about as many people as before. Candidate thresholds are the
group's own scores on the rate's denominator rows (negatives for FPR, positives for TPR, everyone for
the selection rate), so ties in scores are respected exactly.

Two caveats the report repeats: the thresholds are fitted on the rows given (check them on held-out
data before use), and a per-group threshold uses the sensitive attribute at decision time, which
some jurisdictions forbid (disparate treatment).

Example:
    >>> m = group_thresholds([0, 0, 1, 1, 0, 0, 1, 1], [0.2, 0.6, 0.7, 0.9, 0.1, 0.3, 0.4, 0.8],
    ...                      sensitive_features=list("aaaabbbb"), rate="fpr")
    >>> m.thresholds   # both groups now have a false positive rate of 0.5 (it was 0.5 and 0.0)
    {'a': 0.6, 'b': 0.3}
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness._rates import resolve_rate
from mlops.fairness.frame import GroupRates, group_rates

__all__ = ["MITIGATION_RATES", "ThresholdMitigation", "group_thresholds"]

MITIGATION_RATES = ("false_positive_rate", "true_positive_rate", "selection_rate")


@dataclass(frozen=True)
class ThresholdMitigation:
    """Per-group thresholds and the rates before and after applying them.

    Attributes:
        rate: The equalized rate (full name).
        target: The rate every group was brought close to.
        threshold: The single threshold used before.
        thresholds: Group label (str) → threshold.
        before: :class:`GroupRates` at the single threshold.
        after: :class:`GroupRates` with the per-group thresholds.
        privileged: The privileged group, if any (for disparate impact).
    """

    rate: str
    target: float
    threshold: float
    thresholds: dict[str, float]
    before: GroupRates
    after: GroupRates
    privileged: Any = None

    def summary(self) -> pd.DataFrame:
        """Accuracy and fairness before and after: columns ``before``, ``after``, ``change``.

        Example:
            >>> m = group_thresholds([0, 1, 0, 1], [0.2, 0.9, 0.6, 0.7], sensitive_features=list("aabb"))
            >>> m.summary().loc["equalized_rate_difference"].tolist()
            [1.0, 0.0, -1.0]
        """
        rows: dict[str, tuple[float, float]] = {}
        for name, fn in _SUMMARY:
            rows[name] = (fn(self.before, self), fn(self.after, self))
        if self.privileged is not None:
            rows["disparate_impact"] = tuple(  # type: ignore[assignment]
                float(r.summary(self.privileged)["disparate_impact"]) for r in (self.before, self.after)
            )
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=["before", "after"])
        frame["change"] = frame["after"] - frame["before"]
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (NaN → None).

        Example:
            >>> m = group_thresholds([0, 1, 0, 1], [0.2, 0.9, 0.6, 0.7], sensitive_features=list("aabb"))
            >>> sorted(m.to_dict())
            ['by_group', 'rate', 'summary', 'target', 'threshold', 'thresholds']
        """
        by_group = []
        b, a = self.before.by_group, self.after.by_group
        for label, thr in zip(b.index, self.thresholds.values(), strict=True):
            by_group.append(
                {
                    "group": _label(label),
                    "threshold": _num(thr),
                    "rate_before": _num(b.loc[label, self.rate]),
                    "rate_after": _num(a.loc[label, self.rate]),
                    "selection_rate_before": _num(b.loc[label, "selection_rate"]),
                    "selection_rate_after": _num(a.loc[label, "selection_rate"]),
                    "accuracy_before": _num(b.loc[label, "accuracy"]),
                    "accuracy_after": _num(a.loc[label, "accuracy"]),
                }
            )
        s = self.summary()
        return {
            "rate": self.rate,
            "target": _num(self.target),
            "threshold": self.threshold,
            "thresholds": {k: _num(v) for k, v in self.thresholds.items()},
            "by_group": by_group,
            "summary": {
                str(k): {"before": _num(r["before"]), "after": _num(r["after"]), "change": _num(r["change"])}
                for k, r in s.iterrows()
            },
        }

    def apply(self, scores: Any, sensitive_features: Any) -> NDArray[np.bool_]:
        """Decisions for new rows with the fitted per-group thresholds.

        Raises:
            InvalidInputError: A group that was not seen when fitting, or lengths differ.

        Example:
            >>> m = group_thresholds([0, 1, 0, 1], [0.2, 0.9, 0.6, 0.7], sensitive_features=list("aabb"))
            >>> m.thresholds
            {'a': 0.2, 'b': 0.6}
            >>> m.apply([0.5, 0.5], ["a", "b"]).tolist()
            [True, False]
        """
        s = np.asarray(scores, dtype=np.float64)
        labels = np.asarray([_label_key(v) for v in _rows(sensitive_features)], dtype=object)
        if len(labels) != len(s):
            raise InvalidInputError(f"scores has {len(s)} rows, sensitive_features {len(labels)}")
        unknown = sorted(set(labels.tolist()) - set(self.thresholds))
        if unknown:
            raise InvalidInputError(
                f"groups {unknown} had no threshold fitted; known: {sorted(self.thresholds)}"
            )
        thr = np.array([self.thresholds[v] for v in labels.tolist()], dtype=np.float64)
        return s >= thr


def _rows(sensitive_features: Any) -> list[Any]:
    if isinstance(sensitive_features, pd.DataFrame):
        return list(sensitive_features.itertuples(index=False, name=None))
    return list(np.asarray(sensitive_features, dtype=object).tolist())


def _label(label: Any) -> str:
    if isinstance(label, tuple):
        return ", ".join(str(v) for v in label)
    return str(label)


def _label_key(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    return _label(value)


def _num(v: Any) -> float | None:
    f = float(v)
    return f if np.isfinite(f) else None


def _acc(r: GroupRates, m: ThresholdMitigation) -> float:
    return float(r.overall["accuracy"])


def _rate_diff(r: GroupRates, m: ThresholdMitigation) -> float:
    return float(r.difference()[m.rate])


def _eod(r: GroupRates, m: ThresholdMitigation) -> float:
    return float(r.summary()["equalized_odds_difference"])


def _dpd(r: GroupRates, m: ThresholdMitigation) -> float:
    return float(r.summary()["demographic_parity_difference"])


def _sel(r: GroupRates, m: ThresholdMitigation) -> float:
    return float(r.overall["selection_rate"])


_SUMMARY = (
    ("accuracy", _acc),
    ("selection_rate", _sel),
    ("equalized_rate_difference", _rate_diff),
    ("equalized_odds_difference", _eod),
    ("demographic_parity_difference", _dpd),
)


def group_thresholds(
    y_true: Any,
    scores: Any,
    *,
    sensitive_features: Any,
    rate: str = "false_positive_rate",
    threshold: float = 0.5,
    target: float | None = None,
    privileged: Any = None,
    pos_label: Hashable = 1,
) -> ThresholdMitigation:
    """Choose one threshold per group so that ``rate`` is (as nearly as the scores allow) equal.

    Args:
        y_true: True labels (binary).
        scores: Positive-class scores (e.g. ``predict_proba[:, 1]``).
        sensitive_features: The group of each row (one column or several: intersectional groups).
        rate: ``"false_positive_rate"``, ``"true_positive_rate"`` or ``"selection_rate"`` (aliases such
            as ``"fpr"`` work).
        threshold: The single threshold the model used; the "before" state.
        target: The rate to reach; default the overall rate at ``threshold``.
        privileged: A privileged group, to also report disparate impact before and after.
        pos_label: The positive label of ``y_true``.

    Returns:
        A :class:`ThresholdMitigation`.

    Raises:
        InvalidInputError: An unsupported rate, a target outside [0, 1], or invalid inputs.

    Example:
        >>> m = group_thresholds([0, 0, 1, 1, 0, 0, 1, 1], [0.2, 0.6, 0.7, 0.9, 0.1, 0.3, 0.4, 0.8],
        ...                      sensitive_features=list("aaaabbbb"), rate="tpr", threshold=0.5)
        >>> m.before.by_group["true_positive_rate"].tolist(), m.after.by_group["true_positive_rate"].tolist()
        ([1.0, 0.5], [1.0, 1.0])
    """
    name = resolve_rate(rate).name
    if name not in MITIGATION_RATES:
        raise InvalidInputError(f"rate must be one of {list(MITIGATION_RATES)} (or fpr/tpr), got {rate!r}")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or not np.all(np.isfinite(s)):
        raise InvalidInputError("scores must be a 1-D array of finite numbers (e.g. predict_proba[:, 1])")
    before = group_rates(
        y_true, s, sensitive_features=sensitive_features, threshold=threshold, pos_label=pos_label
    )
    goal = float(before.overall[name]) if target is None else float(target)
    if not 0.0 <= goal <= 1.0:
        raise InvalidInputError(f"target must be a rate in [0, 1], got {target!r}")
    y = _positive(y_true, pos_label)
    codes = before.groups.codes
    if name == "false_positive_rate":
        relevant = ~y
    elif name == "true_positive_rate":
        relevant = y
    else:
        relevant = np.ones(len(s), dtype=bool)
    thresholds = np.full(before.groups.n_groups, threshold, dtype=np.float64)
    for g in range(before.groups.n_groups):  # a loop over groups, each a vectorized search
        d = np.sort(s[(codes == g) & relevant])
        if len(d) == 0:
            continue  # the rate is undefined for this group: keep the single threshold
        cand = np.append(np.unique(d), np.inf)
        achieved = (len(d) - np.searchsorted(d, cand, side="left")) / len(d)
        gap = np.abs(achieved - goal)
        best = np.flatnonzero(gap == gap.min())
        # among equally close thresholds, the one nearest the original threshold changes least
        thresholds[g] = float(cand[best[np.argmin(np.abs(cand[best] - threshold))]])
    decisions = s >= thresholds[codes]
    after = group_rates(
        y_true,
        np.where(
            decisions,
            np.asarray(pos_label, dtype=object),
            np.asarray(_other(y_true, pos_label), dtype=object),
        ),
        sensitive_features=sensitive_features,
        pos_label=pos_label,
    )
    labels = [_label(g) for g in before.groups.index]
    return ThresholdMitigation(
        rate=name,
        target=goal,
        threshold=float(threshold),
        thresholds=dict(zip(labels, thresholds.tolist(), strict=True)),
        before=before,
        after=after,
        privileged=privileged,
    )


def _positive(y_true: Any, pos_label: Hashable) -> NDArray[np.bool_]:
    arr = y_true.to_numpy() if isinstance(y_true, pd.Series) else np.asarray(y_true)
    return np.asarray(arr == pos_label, dtype=bool)


def _other(y_true: Any, pos_label: Hashable) -> Any:
    arr = y_true.to_numpy() if isinstance(y_true, pd.Series) else np.asarray(y_true)
    others = [v for v in pd.unique(arr) if v != pos_label]
    return others[0] if others else (0 if pos_label == 1 else None)
