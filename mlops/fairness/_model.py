"""The model a bias report is about: resolve it (estimator, ``LoadedModel`` or URI) and score rows.

Scores come from ``predict_proba[:, k]`` (``k`` the column of the positive class) when the model has
it, thresholded at ``threshold``; otherwise from ``predict``, whose output is taken as labels when it
is binary and as scores (thresholded) when it is continuous.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlops.errors import InvalidInputError

__all__ = ["ModelHandle", "Scored", "resolve_model", "score"]


@dataclass(frozen=True)
class ModelHandle:
    """A model ready to score: ``predictor`` is called, ``raw`` is what gets explained.

    Attributes:
        predictor: The object whose ``predict``/``predict_proba`` the report calls (a
            :class:`~mlops.models.LoadedModel` checks its signature first).
        raw: The underlying estimator or python-function object.
        description: Class name (and the final step of a Pipeline).
        source: The URI or path the model was loaded from, if any.
    """

    predictor: Any
    raw: Any
    description: str
    source: str | None = None


@dataclass(frozen=True)
class Scored:
    """Scores and thresholded predictions for every row.

    Attributes:
        scores: Positive-class scores, or None when the model only predicts labels.
        y_pred: Boolean predictions (True = positive class).
        method: How they were obtained, e.g. ``"predict_proba[:, 1] >= 0.5"``.
    """

    scores: NDArray[np.float64] | None
    y_pred: NDArray[np.bool_]
    method: str


def _describe(raw: Any) -> str:
    name = type(raw).__name__
    steps = getattr(raw, "steps", None)
    if isinstance(steps, list) and steps:
        return f"{name}({', '.join(type(s).__name__ for _, s in steps)})"
    return name


def resolve_model(model: Any) -> ModelHandle:
    """Turn a fitted estimator, a ``LoadedModel`` or a model URI into a :class:`ModelHandle`.

    A string or path is loaded with :func:`mlops.load_model` (safe formats only; load pickled
    python-function models yourself with ``allow_pickle=True`` and pass the ``LoadedModel``).

    Raises:
        InvalidInputError: The object can neither ``predict`` nor ``predict_proba``.
        NotFoundError: A URI that names no model.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> resolve_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1])).description
        'LogisticRegression'
    """
    from mlops.models.loaded import LoadedModel

    source: str | None = None
    if isinstance(model, str | os.PathLike):
        from mlops.models import load_model

        source = os.fspath(model)
        model = load_model(source)
    if isinstance(model, LoadedModel):
        return ModelHandle(model, model.raw, _describe(model.raw), source or model.source)
    if not callable(getattr(model, "predict_proba", None)) and not callable(getattr(model, "predict", None)):
        raise InvalidInputError(
            f"model must be a fitted estimator, a LoadedModel or a model URI; a {type(model).__name__} "
            "has neither predict_proba nor predict"
        )
    return ModelHandle(model, model, _describe(model), None)


def positive_column(raw: Any, pos_label: Hashable) -> int:
    """Column of ``pos_label`` in ``predict_proba`` (from ``classes_``; column 1 without it).

    Raises:
        InvalidInputError: ``classes_`` is known and does not contain ``pos_label``.

    Example:
        >>> class M: classes_ = ["no", "yes"]
        >>> positive_column(M(), "yes")
        1
    """
    classes = getattr(raw, "classes_", None)
    if classes is None:
        return 1
    listed = list(np.asarray(classes).tolist())
    if pos_label in listed:
        return listed.index(pos_label)
    if len(listed) == 2 and pos_label == 1 and all(isinstance(c, bool | np.bool_) for c in listed):
        return listed.index(True)
    raise InvalidInputError(
        f"pos_label={pos_label!r} is not one of the model's classes {listed}; pass pos_label=..."
    )


def _has_proba(handle: ModelHandle) -> bool:
    from mlops.models.loaded import LoadedModel

    if isinstance(handle.predictor, LoadedModel):
        return handle.predictor.has_predict_proba
    return callable(getattr(handle.predictor, "predict_proba", None))


def score(handle: ModelHandle, X: Any, *, threshold: float, pos_label: Hashable = 1) -> Scored:
    """Score ``X``: ``predict_proba`` thresholded at ``threshold`` when available, else ``predict``.

    Raises:
        InvalidInputError: The model's output has the wrong shape, or is neither binary labels nor scores.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> m = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> s = score(resolve_model(m), [[0.0], [3.0]], threshold=0.5)
        >>> s.y_pred.tolist(), s.method
        ([False, True], 'predict_proba[:, 1] >= 0.5')
    """
    if _has_proba(handle):
        col = positive_column(handle.raw, pos_label)
        proba = np.asarray(handle.predictor.predict_proba(X), dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] <= col:
            raise InvalidInputError(f"predict_proba returned shape {proba.shape}; expected (n_rows, 2)")
        scores = proba[:, col]
        return Scored(scores, scores >= threshold, f"predict_proba[:, {col}] >= {threshold:g}")
    out = np.asarray(handle.predictor.predict(X))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1:
        raise InvalidInputError(f"predict returned shape {out.shape}; expected one value per row")
    values = set(np.unique(out).tolist()) if out.size else set()
    if values <= {0, 1} or (pos_label in values and len(values) <= 2):
        return Scored(None, out == pos_label, "predict (labels)")
    if out.dtype.kind in "fiu":
        scores = out.astype(np.float64)
        return Scored(scores, scores >= threshold, f"predict >= {threshold:g} (scores)")
    raise InvalidInputError(
        f"predict returned {len(values)} distinct non-numeric values; a bias report needs a binary classifier"
    )
