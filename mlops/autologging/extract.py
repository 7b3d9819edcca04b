"""What autolog records about a fitted estimator: params as strings, and training metrics.

Metrics are computed from one ``predict`` (and one ``predict_proba`` where it exists) on the training
data: every classification metric reuses the same predictions rather than predicting once per metric.

Example:
    >>> from sklearn.linear_model import LogisticRegression
    >>> flat = flatten_params(LogisticRegression(C=0.5))
    >>> flat["C"], flat["penalty"]
    ('0.5', 'deprecated')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["estimator_kind", "flatten_params", "stable_str", "training_metrics"]

MAX_VALUE_CHARS = 8_000  # the tracking store's param value limit


def stable_str(value: Any) -> str:
    """A string for a param value that does not depend on print settings or memory addresses.

    Estimators become their class name (their own params are flattened separately as
    ``<name>__<param>``); functions their qualified name; containers recurse.

    Example:
        >>> from sklearn.preprocessing import StandardScaler
        >>> stable_str([("scale", StandardScaler())])
        "[('scale', 'StandardScaler')]"
    """
    text = _stable(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _stable(value: Any) -> str:
    from sklearn.base import BaseEstimator

    if value is None or isinstance(value, (bool, int, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, BaseEstimator):
        return type(value).__name__
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}".lstrip(".")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_quoted(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_quoted(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=1_000, separator=", ")
    if isinstance(value, np.generic):
        return _stable(value.item())
    return repr(value)


def _quoted(value: Any) -> str:
    text = _stable(value)
    return repr(text) if isinstance(value, str) or _is_estimator(value) else text


def _is_estimator(value: Any) -> bool:
    from sklearn.base import BaseEstimator

    return isinstance(value, BaseEstimator)


def flatten_params(estimator: Any) -> dict[str, str]:
    """``estimator.get_params(deep=True)`` with every value made a stable string.

    Example:
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> flatten_params(make_pipeline(StandardScaler()))["standardscaler__with_mean"]
        'True'
    """
    return {key: stable_str(value) for key, value in estimator.get_params(deep=True).items()}


def estimator_kind(estimator: Any) -> str:
    """``classifier``, ``regressor``, ``clusterer``, ``outlier_detector``, ``transformer`` or ``other``.

    Example:
        >>> from sklearn.cluster import KMeans
        >>> estimator_kind(KMeans())
        'clusterer'
    """
    from sklearn.base import is_classifier, is_outlier_detector, is_regressor

    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    if getattr(estimator, "_estimator_type", None) == "clusterer" or _tag(estimator, "clusterer"):
        return "clusterer"
    if is_outlier_detector(estimator):
        return "outlier_detector"
    if hasattr(estimator, "transform"):
        return "transformer"
    return "other"


def _tag(estimator: Any, kind: str) -> bool:
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).estimator_type == kind)
    except Exception:  # older scikit-learn, or an estimator whose tags cannot be computed
        return False


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None and not math.isnan(float(v))}


def training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    """Training metrics of a fitted estimator on its training data (empty when they don't apply).

    Classifier: accuracy, precision, recall, F1 (binary, or weighted for multiclass), log-loss and
    ROC-AUC where ``predict_proba`` exists, and ``score``. Regressor: MSE, RMSE, MAE, R² and ``score``.
    Clusterer: silhouette when there are 2..n-1 clusters and at most 10,000 rows.

    Example:
        >>> from sklearn.linear_model import LinearRegression
        >>> X, y = [[0], [1], [2]], [0, 1, 2]
        >>> m = training_metrics(LinearRegression().fit(X, y), X, y)
        >>> round(m["training_r2_score"], 6)
        1.0
    """
    kind = estimator_kind(estimator)
    if kind == "classifier" and y is not None:
        return _classifier_metrics(estimator, X, y, sample_weight)
    if kind == "regressor" and y is not None:
        return _regressor_metrics(estimator, X, y, sample_weight)
    if kind == "clusterer":
        return _cluster_metrics(estimator, X)
    return {}


def _classifier_metrics(estimator: Any, X: Any, y: Any, w: Any) -> dict[str, float]:
    """Classification metrics from one confusion matrix (``np.bincount``), equal to scikit-learn's."""
    from sklearn.base import ClassifierMixin

    y_true = np.asarray(y)
    labels = getattr(estimator, "classes_", None)
    if (y_true.ndim > 1 and y_true.shape[1] > 1) or labels is None or np.ndim(labels) != 1:
        return {}  # multi-output or multilabel: the single-output metrics below do not apply
    labels = np.asarray(labels)
    y_true = y_true.ravel()
    proba = _forest_proba(estimator, X)
    if proba is not None:  # a forest's predict is exactly the argmax of its predict_proba: score once
        y_pred = labels.take(np.argmax(proba, axis=1))
    else:
        y_pred = np.asarray(estimator.predict(X)).ravel()
    k = len(labels)
    true_idx, pred_idx = _encode(y_true, labels), _encode(y_pred, labels)
    if true_idx is None or pred_idx is None:
        return {}  # a label outside classes_: leave the metrics out rather than guess
    weights = None if w is None else np.asarray(w, dtype=float).ravel()
    cm = np.bincount(true_idx * k + pred_idx, weights=weights, minlength=k * k).reshape(k, k)
    total = cm.sum()
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(k), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    present = len(np.unique(true_idx))
    if k == 2:  # binary: the positive class is classes_[1], as scikit-learn's pos_label
        p, r, f = precision[1], recall[1], f1[1]
    else:  # weighted by each class's (weighted) support
        support = actual / total if total else np.zeros(k)
        p, r, f = float(precision @ support), float(recall @ support), float(f1 @ support)
    out: dict[str, float] = {
        "training_accuracy_score": float(tp.sum() / total) if total else math.nan,
        "training_precision_score": float(p),
        "training_recall_score": float(r),
        "training_f1_score": float(f),
    }
    if hasattr(estimator, "predict_proba"):
        out.update(_probability_metrics(estimator, X, true_idx, k, present, weights, proba))
    if type(estimator).score is ClassifierMixin.score:
        out["training_score"] = out["training_accuracy_score"]  # the same number; don't predict again
    else:
        out["training_score"] = (
            estimator.score(X, y, sample_weight=w) if w is not None else estimator.score(X, y)
        )
    return _finite(out)


def _forest_proba(estimator: Any, X: Any) -> np.ndarray | None:
    """``predict_proba`` of a single-output random/extra-trees forest, whose ``predict`` is defined as
    its argmax (scikit-learn's ForestClassifier.predict); None for every other classifier."""
    from sklearn.ensemble._forest import ForestClassifier

    if not isinstance(estimator, ForestClassifier) or getattr(estimator, "n_outputs_", 1) != 1:
        return None
    if type(estimator).predict is not ForestClassifier.predict:
        return None  # a subclass that predicts differently
    return np.asarray(estimator.predict_proba(X))


def _encode(values: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """Index of each value in ``labels`` (sorted, as ``classes_`` is), or None if one is missing."""
    try:
        index = np.searchsorted(labels, values)
    except TypeError:  # labels of mixed types
        return None
    index = np.clip(index, 0, len(labels) - 1)
    if not np.array_equal(labels[index], values):
        return None
    return index.astype(np.intp)


def _probability_metrics(
    estimator: Any,
    X: Any,
    true_idx: np.ndarray,
    k: int,
    present: int,
    weights: np.ndarray | None,
    proba: np.ndarray | None = None,
) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    try:
        proba = np.asarray(estimator.predict_proba(X) if proba is None else proba, dtype=float)
    except (AttributeError, ValueError, TypeError):
        return {}  # e.g. SVC(probability=False) exposes the method but refuses to answer
    if proba.ndim != 2 or proba.shape[1] != k:
        return {}
    eps = np.finfo(proba.dtype).eps
    rows = proba / proba.sum(axis=1, keepdims=True)
    picked = np.clip(rows[np.arange(len(true_idx)), true_idx], eps, 1 - eps)
    out = {"training_log_loss": float(-np.average(np.log(picked), weights=weights))}
    if present < 2:
        return out  # ROC-AUC is undefined with a single class in y
    if k == 2:
        out["training_roc_auc"] = float(roc_auc_score(true_idx, proba[:, 1], sample_weight=weights))
    elif present == k:
        out["training_roc_auc"] = float(
            roc_auc_score(true_idx, proba, multi_class="ovr", sample_weight=weights, labels=np.arange(k))
        )
    return out


def _regressor_metrics(estimator: Any, X: Any, y: Any, w: Any) -> dict[str, float]:
    from sklearn import metrics as skm
    from sklearn.base import RegressorMixin

    y_true = np.asarray(y)
    y_pred = np.asarray(estimator.predict(X))
    if y_pred.shape != y_true.shape:
        y_pred = y_pred.reshape(y_true.shape)
    mse = skm.mean_squared_error(y_true, y_pred, sample_weight=w)
    out = {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
        "training_mean_absolute_error": skm.mean_absolute_error(y_true, y_pred, sample_weight=w),
        "training_r2_score": skm.r2_score(y_true, y_pred, sample_weight=w),
    }
    if type(estimator).score is RegressorMixin.score:
        out["training_score"] = out["training_r2_score"]
    else:
        out["training_score"] = (
            estimator.score(X, y, sample_weight=w) if w is not None else estimator.score(X, y)
        )
    return _finite(out)


def _cluster_metrics(estimator: Any, X: Any) -> dict[str, float]:
    from sklearn.metrics import silhouette_score

    labels = getattr(estimator, "labels_", None)
    if labels is None:
        return {}
    labels = np.asarray(labels)
    n_clusters = len(np.unique(labels))
    if len(labels) > 10_000 or not 2 <= n_clusters < len(labels):
        return {}  # silhouette is O(n²): only where it is cheap
    return _finite({"training_silhouette_score": silhouette_score(X, labels)})
