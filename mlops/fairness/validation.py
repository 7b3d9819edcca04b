"""Input validation at the boundary of the fairness API.

Every public fairness function passes its raw arguments through :func:`prepare` (or the smaller helpers
here), which turns them into the arrays the computation core expects — boolean label and prediction
arrays, a float weight array, one array per sensitive feature — or raises
:class:`~mlops.errors.InvalidInputError` with a message that names the argument, shows the offending
value and says what to do.

The checks are vectorized: on integer and boolean labels they cost a few passes over memory, on
strings one hash-based factorization.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError

__all__ = [
    "Missing",
    "Prepared",
    "as_label_array",
    "as_sensitive_features",
    "as_weights",
    "binarize",
    "check_zero_division",
    "prepare",
]

Missing = Literal["error", "group"]

_MAX_SHOWN = 6


@dataclass(frozen=True)
class Prepared:
    """Validated inputs, ready for the computation core.

    Attributes:
        y_true: Boolean array, True where the true label equals ``pos_label``.
        y_pred: Boolean array, True where the prediction equals ``pos_label`` (or the score is at least
            ``threshold``); ``None`` when the caller had no predictions (label-only metrics).
        weight: Float64 sample weights, or ``None`` for unweighted data.
        features: The sensitive features as (name, 1-D array-like) pairs, in the caller's order.
    """

    y_true: NDArray[np.bool_]
    y_pred: NDArray[np.bool_] | None
    weight: NDArray[np.float64] | None
    features: list[tuple[str, Any]]


def _show(values: Sequence[Any] | NDArray[Any]) -> str:
    shown = [repr(v.item() if isinstance(v, np.generic) else v) for v in list(values)[:_MAX_SHOWN]]
    more = ", ..." if len(values) > _MAX_SHOWN else ""
    return "[" + ", ".join(shown) + more + "]"


def as_label_array(values: Any, name: str) -> NDArray[Any]:
    """Turn a 1-D array-like (list, ndarray, Series, one-column frame) into a 1-D numpy array.

    Args:
        values: The labels, predictions or scores.
        name: The argument name, for messages.

    Returns:
        A 1-D numpy array (no copy when the input already is one).

    Raises:
        InvalidInputError: ``values`` is None, a scalar, or has more than one column.

    Example:
        >>> as_label_array([0, 1, 1], "y_true").tolist()
        [0, 1, 1]
    """
    if values is None:
        raise InvalidInputError(f"{name} is None; pass a 1-D array of labels")
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InvalidInputError(f"{name} must be 1-D, got a DataFrame with {values.shape[1]} columns")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series | pd.Index):
        if isinstance(values.dtype, pd.CategoricalDtype):
            return np.asarray(values.astype(object))
        if isinstance(values.dtype, np.dtype) or not values.hasnans:
            return np.asarray(values.to_numpy())
        return np.asarray(values.to_numpy(dtype=object))
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    return arr


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "number"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str | np.str_):
        return "string"
    return "other"


def binarize(
    values: Any,
    name: str,
    *,
    pos_label: Hashable,
    threshold: float | None = None,
    scores_allowed: bool = False,
) -> tuple[NDArray[np.bool_], Any]:
    """Map binary labels (or thresholded scores) to a boolean array, True for the positive class.

    Args:
        values: 1-D labels.
        name: The argument name, for messages.
        pos_label: The label of the positive (favorable) class.
        threshold: When given, ``values`` are scores and ``values >= threshold`` is positive.
        scores_allowed: True for predictions: continuous values then suggest passing ``threshold``.

    Returns:
        The boolean array and the negative label found (``None`` when every value is positive or the
        labels were thresholded).

    Raises:
        InvalidInputError: Missing values, more than two distinct labels, ``pos_label`` not among labels
            of another kind, or continuous scores without ``threshold``.

    Example:
        >>> binarize(["no", "yes", "yes"], "y_true", pos_label="yes")[0].tolist()
        [False, True, True]
    """
    arr = as_label_array(values, name)
    if threshold is not None:
        if arr.dtype.kind not in "biuf":
            raise InvalidInputError(f"{name} must be numeric scores when threshold is given, got {arr.dtype}")
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise InvalidInputError(f"{name} contains NaN; scores must be finite to apply threshold")
        return np.asarray(arr >= threshold), None
    if arr.dtype.kind == "b":
        if pos_label is True or pos_label is False or pos_label in (0, 1):
            positive = arr if bool(pos_label) else ~arr
            negative: Any = (not bool(pos_label)) if (~positive).any() else None
            return np.asarray(positive), negative
        raise InvalidInputError(f"{name} is boolean but pos_label={pos_label!r}; pass pos_label=True")
    if arr.dtype.kind in "iuf":
        return _binarize_numeric(arr, name, pos_label, scores_allowed)
    return _binarize_generic(arr, name, pos_label)


def _binarize_numeric(
    arr: NDArray[Any], name: str, pos_label: Hashable, scores_allowed: bool
) -> tuple[NDArray[np.bool_], Any]:
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        if nan.any():
            raise InvalidInputError(
                f"{name} contains {int(nan.sum())} missing value(s) (NaN); drop or impute those rows first"
            )
        if arr.size and (not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr))):
            frac = arr[arr != np.round(arr)]
            example = _show(frac[:3]) if frac.size else _show(arr[~np.isfinite(arr)][:3])
            if scores_allowed:
                raise InvalidInputError(
                    f"{name} looks like continuous scores (e.g. {example}), not predicted labels; pass "
                    f"threshold=0.5 (or your cut-off) to turn scores into labels, or pass predicted labels"
                )
            raise InvalidInputError(f"{name} must hold binary labels, found non-integer values {example}")
    if _kind(pos_label) != "number":
        uniq = np.unique(arr[:1_000_000])
        raise InvalidInputError(
            f"pos_label={pos_label!r} is not among the values of {name} ({_show(uniq)}); pass pos_label="
            f"one of those values"
        )
    positive = np.asarray(arr == pos_label)
    rest = arr[~positive]
    negative: Any = None
    if rest.size:
        lo, hi = rest.min(), rest.max()
        if lo != hi:
            uniq = np.unique(arr)
            hint = (
                " (they look like continuous scores: pass threshold=...)"
                if scores_allowed and uniq.size > 10
                else ""
            )
            raise InvalidInputError(
                f"{name} is not binary: found {uniq.size} distinct values {_show(uniq)}{hint}; "
                f"fairness metrics need two classes, pos_label={pos_label!r} being the positive one"
            )
        negative = lo.item()
    return positive, negative


def _binarize_generic(arr: NDArray[Any], name: str, pos_label: Hashable) -> tuple[NDArray[np.bool_], Any]:
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    if arr.size and (codes < 0).any():
        raise InvalidInputError(
            f"{name} contains {int((codes < 0).sum())} missing value(s); drop or impute those rows first"
        )
    labels = list(uniques)
    if len(labels) > 2:
        raise InvalidInputError(
            f"{name} is not binary: found {len(labels)} distinct values {_show(labels)}; fairness metrics "
            f"need two classes, pos_label={pos_label!r} being the positive one"
        )
    pos_index = next((i for i, v in enumerate(labels) if _same(v, pos_label)), None)
    if pos_index is None:
        if labels and any(_kind(v) != _kind(pos_label) for v in labels):
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not among the values of {name} {_show(labels)}; pass "
                f"pos_label=<the positive label>, e.g. pos_label={labels[0]!r}"
            )
        if len(labels) == 2:
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not among the two values of {name} {_show(labels)}"
            )
        return np.zeros(arr.shape[0], dtype=bool), (labels[0] if labels else None)
    positive = np.asarray(codes == pos_index)
    negative = next((v for i, v in enumerate(labels) if i != pos_index), None)
    return positive, negative


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and _kind(a) == _kind(b)
    except (TypeError, ValueError):
        return False


def as_weights(sample_weight: Any, n: int) -> NDArray[np.float64] | None:
    """Validate sample weights: 1-D, length ``n``, finite, non-negative.

    Args:
        sample_weight: Weights or None.
        n: The number of rows.

    Returns:
        A float64 array, or None when ``sample_weight`` is None.

    Raises:
        InvalidInputError: Wrong length, non-numeric, NaN/infinite or negative weights.

    Example:
        >>> as_weights([1, 2], 2).tolist()
        [1.0, 2.0]
    """
    if sample_weight is None:
        return None
    arr = as_label_array(sample_weight, "sample_weight")
    if arr.shape[0] != n:
        raise InvalidInputError(
            f"sample_weight has {arr.shape[0]} rows but y_true has {n}; lengths must match"
        )
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(f"sample_weight must be numeric, got dtype {arr.dtype}")
    w = arr.astype(np.float64, copy=False)
    if not np.isfinite(w).all():
        raise InvalidInputError("sample_weight contains NaN or infinite values; weights must be finite")
    if (w < 0).any():
        bad = w[w < 0]
        raise InvalidInputError(
            f"sample_weight contains {bad.size} negative value(s) (e.g. {_show(bad[:3])}); "
            f"weights must be >= 0"
        )
    return w


def as_sensitive_features(sensitive_features: Any) -> list[tuple[str, Any]]:
    """Split ``sensitive_features`` into named 1-D columns.

    Accepts a Series, a 1-D array or list (one feature), a DataFrame or 2-D array (one feature per
    column), a dict of name to array, or a list of 1-D arrays/Series. Unnamed features are called
    ``sensitive_feature_0``, ``sensitive_feature_1``, ... as in Fairlearn.

    Args:
        sensitive_features: The sensitive feature(s).

    Returns:
        A list of (name, column) pairs.

    Raises:
        InvalidInputError: None, a scalar, duplicate names, or columns of different lengths.

    Example:
        >>> [name for name, _ in as_sensitive_features({"sex": [1, 2], "age": [30, 40]})]
        ['sex', 'age']
    """
    if sensitive_features is None:
        raise InvalidInputError("sensitive_features is required (a column, a DataFrame or a dict of columns)")
    cols: list[tuple[str, Any]] = []
    if isinstance(sensitive_features, pd.DataFrame):
        cols = [(str(c), sensitive_features[c]) for c in sensitive_features.columns]
    elif isinstance(sensitive_features, Mapping):
        cols = [(str(k), v) for k, v in sensitive_features.items()]
    elif isinstance(sensitive_features, pd.Series | pd.Index | pd.Categorical):
        name = getattr(sensitive_features, "name", None)
        cols = [(str(name) if name is not None else "sensitive_feature_0", sensitive_features)]
    elif isinstance(sensitive_features, np.ndarray):
        if sensitive_features.ndim == 1:
            cols = [("sensitive_feature_0", sensitive_features)]
        elif sensitive_features.ndim == 2:
            cols = [
                (f"sensitive_feature_{i}", sensitive_features[:, i])
                for i in range(sensitive_features.shape[1])
            ]
        else:
            raise InvalidInputError(
                f"sensitive_features must be 1-D or 2-D, got shape {sensitive_features.shape}"
            )
    elif isinstance(sensitive_features, list | tuple):
        if len(sensitive_features) and all(
            isinstance(c, pd.Series | np.ndarray | list | tuple | pd.Categorical) for c in sensitive_features
        ):
            cols = [
                (str(getattr(c, "name", None) or f"sensitive_feature_{i}"), c)
                for i, c in enumerate(sensitive_features)
            ]
        else:
            column = np.empty(len(sensitive_features), dtype=object)
            column[:] = list(sensitive_features)  # keeps tuples as labels instead of splitting them
            cols = [("sensitive_feature_0", column)]
    else:
        raise InvalidInputError(
            f"sensitive_features must be a column, a DataFrame or a dict of columns, got "
            f"{type(sensitive_features).__name__}"
        )
    if not cols:
        raise InvalidInputError("sensitive_features has no columns")
    names = [n for n, _ in cols]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"sensitive feature names must be unique, got {names}")
    return cols


def _length(col: Any) -> int:
    return len(col) if hasattr(col, "__len__") else int(np.asarray(col).shape[0])


def prepare(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    threshold: float | None = None,
    require_pred: bool = True,
) -> Prepared:
    """Validate everything a grouped fairness metric needs, with one clear error per problem.

    Args:
        y_true: True labels.
        y_pred: Predicted labels (or scores with ``threshold``); may be None when ``require_pred`` is False.
        sensitive_features: See :func:`as_sensitive_features`.
        pos_label: The positive (favorable) label.
        sample_weight: Optional non-negative weights.
        threshold: Turns scores in ``y_pred`` into labels (``score >= threshold`` is positive).
        require_pred: Whether ``y_pred`` must be given.

    Returns:
        The validated :class:`Prepared` inputs.

    Raises:
        InvalidInputError: Empty input, lengths that differ, labels that are not binary, scores without a
            threshold, bad weights or bad sensitive features.

    Example:
        >>> p = prepare([0, 1], [1, 1], sensitive_features=["a", "b"])
        >>> p.y_pred.tolist()
        [True, True]
    """
    yt = as_label_array(y_true, "y_true")
    n = yt.shape[0]
    lengths = {"y_true": n}
    yp_arr = None
    if y_pred is not None:
        yp_arr = as_label_array(y_pred, "y_pred")
        lengths["y_pred"] = yp_arr.shape[0]
    elif require_pred:
        raise InvalidInputError("y_pred is None; pass the predicted labels (or scores with threshold=...)")
    features = as_sensitive_features(sensitive_features)
    for fname, col in features:
        lengths[f"sensitive feature {fname!r}"] = _length(col)
    if sample_weight is not None:
        lengths["sample_weight"] = _length(sample_weight)
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise InvalidInputError(
            f"inputs have different lengths: {detail}; every input needs one entry per row"
        )
    if n == 0:
        raise InvalidInputError("empty input: y_true has no rows; fairness metrics need at least one row")
    yt_bool, neg_true = binarize(yt, "y_true", pos_label=pos_label)
    yp_bool = None
    if yp_arr is not None:
        yp_bool, neg_pred = binarize(
            yp_arr, "y_pred", pos_label=pos_label, threshold=threshold, scores_allowed=True
        )
        if (
            threshold is None
            and neg_true is not None
            and neg_pred is not None
            and not _same(neg_true, neg_pred)
        ):
            raise InvalidInputError(
                f"y_true and y_pred together are not binary: negative labels {neg_true!r} (y_true) and "
                f"{neg_pred!r} (y_pred) besides pos_label={pos_label!r}"
            )
    weight = as_weights(sample_weight, n)
    return Prepared(y_true=yt_bool, y_pred=yp_bool, weight=weight, features=features)


def check_zero_division(zero_division: Any) -> None:
    """Check a ``zero_division`` argument: 0, 1, NaN, or a mapping from rate name to one of those.

    Raises:
        InvalidInputError: Any other value.

    Example:
        >>> check_zero_division(0)
    """
    values = zero_division.values() if isinstance(zero_division, Mapping) else [zero_division]
    for v in values:
        ok = isinstance(v, numbers.Real) and (v in (0, 1) or math.isnan(float(v)))
        if not ok:
            raise InvalidInputError(f"zero_division must be 0, 1 or float('nan'), got {v!r}")
