"""SHAP explanations for a bias report: the explainer chosen for the model, values, group means.

Which explainer (see ``docs/bias-report.md``):

* a linear model (``sklearn.linear_model``) → ``shap.LinearExplainer`` with an independent masker
  over a background sample; it explains the decision function (log-odds for logistic regression);
* a tree ensemble (scikit-learn trees, forests, gradient boosting incl. ``HistGradientBoosting*``,
  XGBoost, LightGBM, CatBoost) → ``shap.TreeExplainer`` (path-dependent, no background needed); it
  explains the trees' raw output (log-odds for boosting, the class probability for forests);
* a scikit-learn ``Pipeline`` → the final estimator is explained on the transformed features, named
  by ``get_feature_names_out()`` of the preceding steps;
* anything else → ``shap.PermutationExplainer`` on ``predict_proba[:, pos]`` (else ``predict``) with
  an independent masker over a background sample (sizes stated in the result).

Every one of these is additive: for each explained row, ``output = base_value + sum(values)``. The
explained output is identified by matching that sum against the model's ``decision_function``,
``predict_proba`` and ``predict``; :attr:`ShapValues.max_additivity_error` says how close it is.

SHAP is optional (``pip install 'mlops[explain]'``); it is imported only when an explanation is asked for.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError, MissingDependencyError
from mlops.fairness._model import ModelHandle, positive_column, resolve_model

__all__ = [
    "GroupShap",
    "LocalExplanation",
    "ShapValues",
    "explain_prediction",
    "explain_rows",
    "explainer_for",
    "group_shap",
    "shap_values",
    "stratified_sample",
]

_TREE_CLASSES = {
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "IsolationForest",
}
_TREE_MODULES = ("xgboost", "lightgbm", "catboost")


def import_shap() -> Any:
    """Import ``shap`` or say which extra provides it.

    Raises:
        MissingDependencyError: shap is not installed.

    Example:
        >>> import_shap().__name__  # doctest: +SKIP
        'shap'
    """
    try:
        with warnings.catch_warnings():  # shap's own import warns about matplotlib deprecations
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            import shap
    except ImportError as e:
        raise MissingDependencyError(
            "SHAP explanations need the 'shap' package: pip install 'mlops[explain]' "
            "(or pass explain=False for a report without explanations)"
        ) from e
    return shap


@dataclass(frozen=True)
class ShapValues:
    """SHAP values of a sample of rows, with everything needed to read them.

    Attributes:
        values: ``(n_rows, n_features)`` SHAP values of the explained output.
        base_values: ``(n_rows,)`` base value per row (the explainer's expected output).
        output: ``(n_rows,)`` the model's own output in the explained space (``model_output``).
        feature_names: One name per column of ``values`` (transformed names for a Pipeline).
        rows: Positions of the explained rows in the input.
        weights: Sampling weight of each explained row (rows its stratum stands for per row drawn).
        explainer: ``"LinearExplainer"``, ``"TreeExplainer"`` or ``"PermutationExplainer"``.
        explained_model: Class name of the estimator that was explained.
        output_space: ``"log-odds"``, ``"probability"`` or ``"model output"``.
        model_output: The model method the output comes from, e.g. ``"decision_function"``.
        background_rows: Background sample size (None for path-dependent TreeSHAP).
        n_permutations: Permutations per row (PermutationExplainer only).
        max_additivity_error: ``max |base + sum(values) - output|`` over the rows.
        notes: Anything the reader should know (fallbacks, densified sparse input).
    """

    values: NDArray[np.float64]
    base_values: NDArray[np.float64]
    output: NDArray[np.float64]
    feature_names: list[str]
    rows: NDArray[np.int64]
    weights: NDArray[np.float64]
    explainer: str
    explained_model: str
    output_space: str
    model_output: str
    background_rows: int | None = None
    n_permutations: int | None = None
    max_additivity_error: float = 0.0
    notes: list[str] = field(default_factory=list)

    def global_importance(self) -> pd.Series:
        """Mean |SHAP| per feature (sampling-weighted), largest first.

        Example:
            >>> sv = ShapValues(np.array([[1.0, -2.0], [3.0, 0.0]]), np.zeros(2), np.array([-1.0, 3.0]),
            ...                 ["a", "b"], np.arange(2), np.ones(2), "LinearExplainer", "M", "log-odds",
            ...                 "decision_function")
            >>> sv.global_importance().to_dict()
            {'a': 2.0, 'b': 1.0}
        """
        w = self.weights / self.weights.sum()
        imp = np.abs(self.values).T @ w
        return pd.Series(imp, index=self.feature_names, name="mean_abs_shap").sort_values(ascending=False)


class _Explainer:
    """A fitted SHAP explainer plus the transform and output function that go with it."""

    def __init__(
        self,
        handle: ModelHandle,
        *,
        background: Any,
        pos_label: Hashable,
        background_size: int,
        n_permutations: int,
        random_state: int,
    ) -> None:
        shap = import_shap()
        self.notes: list[str] = []
        raw = handle.raw
        self.pos_col = positive_column(raw, pos_label) if hasattr(raw, "classes_") else 1
        steps = getattr(raw, "steps", None)
        if isinstance(steps, list) and len(steps) > 1 and hasattr(raw, "__getitem__"):
            pre, final = raw[:-1], raw[-1]
            self._transform: Callable[[Any], Any] = lambda X: _dense(pre.transform(X))
            try:
                self._names: list[str] | None = [str(n) for n in pre.get_feature_names_out()]
            except Exception:  # a step without get_feature_names_out: positional names
                self._names = None
                self.notes.append("the pipeline's steps do not name their output features; using x0, x1, ...")
        else:
            final = raw[-1] if isinstance(steps, list) and steps else raw
            self._transform = _as_model_input
            self._names = None
        self.final = final
        self.explained_model = type(final).__name__
        self.kind = _kind(final)
        self.background_rows: int | None = None
        self.n_permutations: int | None = None
        rng = np.random.default_rng(random_state)
        bg = None
        if background is not None:
            n_bg = _length(background)
            take = np.sort(rng.choice(n_bg, size=min(background_size, n_bg), replace=False))
            bg = self._transform(_take(background, take))
        if self.kind == "tree":
            try:
                self._explainer = shap.TreeExplainer(final)
            except Exception as e:  # shap does not know this tree model: fall back, and say so
                self.notes.append(f"TreeExplainer refused {self.explained_model} ({e}); used permutation")
                self.kind = "permutation"
        if self.kind == "linear":
            if bg is None:
                raise InvalidInputError("explaining a linear model needs background rows; pass background=")
            self.background_rows = _length(bg)
            self._explainer = shap.LinearExplainer(final, shap.maskers.Independent(bg, max_samples=len(bg)))
        if self.kind == "permutation":
            if bg is None:
                raise InvalidInputError(
                    f"explaining a {self.explained_model} (model-agnostic) needs background rows; "
                    "pass background="
                )
            self.background_rows = _length(bg)
            self.n_permutations = n_permutations
            self._f, self.model_output = self._agnostic_output(final, bg)
            self._explainer = shap.PermutationExplainer(
                self._f, shap.maskers.Independent(_masker_data(bg), max_samples=len(bg)), seed=random_state
            )
        self.explainer = {
            "tree": "TreeExplainer",
            "linear": "LinearExplainer",
            "permutation": "PermutationExplainer",
        }[self.kind]

    def _agnostic_output(self, final: Any, bg: Any) -> tuple[Callable[[Any], Any], str]:
        columns = list(bg.columns) if isinstance(bg, pd.DataFrame) else None
        dtypes = bg.dtypes.to_dict() if isinstance(bg, pd.DataFrame) else None

        def frame(a: Any) -> Any:
            if columns is None:
                return a
            return pd.DataFrame(np.asarray(a), columns=columns).astype(dtypes)

        col = self.pos_col
        if callable(getattr(final, "predict_proba", None)):
            return (lambda a: np.asarray(final.predict_proba(frame(a)), dtype=np.float64)[:, col]), (
                f"predict_proba[:, {col}]"
            )
        return (lambda a: np.asarray(final.predict(frame(a)), dtype=np.float64).reshape(len(a))), "predict"

    def feature_names(self, X: Any, Xt: Any) -> list[str]:
        if self._names is not None:
            return self._names
        if isinstance(Xt, pd.DataFrame):
            return [str(c) for c in Xt.columns]
        names = getattr(self.final, "feature_names_in_", None)
        p = np.shape(Xt)[1]
        if names is not None and len(names) == p:
            return [str(n) for n in names]
        return [f"x{i}" for i in range(p)]

    def explain(
        self, X: Any
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], str, str]:
        """SHAP values, base values, model output, output space and the method it comes from."""
        Xt = self._transform(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shap's FutureWarnings and sklearn's feature-name notes
            if self.kind == "permutation":
                p = np.shape(Xt)[1]
                exp = self._explainer(
                    _masker_data(Xt),
                    max_evals=self.n_permutations * (2 * p + 1),
                    silent=True,
                )
            else:
                exp = self._explainer(Xt)
        values = np.asarray(exp.values, dtype=np.float64)
        base = np.asarray(exp.base_values, dtype=np.float64)
        if values.ndim == 3:  # one slice per class
            values = values[:, :, self.pos_col]
            base = base[:, self.pos_col] if base.ndim == 2 else base
        base = np.broadcast_to(base.reshape(-1) if base.size > 1 else base, (len(values),)).astype(np.float64)
        recon = base + values.sum(axis=1)
        if self.kind == "permutation":
            output = np.asarray(self._f(_masker_data(Xt)), dtype=np.float64)
            space = "probability" if self.model_output.startswith("predict_proba") else "model output"
            return values, base, output, space, self.model_output
        output, space, method = _match_output(self.final, Xt, recon, self.pos_col)
        return values, base, output, space, method


def _kind(final: Any) -> str:
    cls = type(final)
    module = cls.__module__
    if module.startswith("sklearn.linear_model") and hasattr(final, "coef_"):
        coef = np.asarray(final.coef_)
        if coef.ndim == 1 or coef.shape[0] == 1:
            return "linear"
    if cls.__name__ in _TREE_CLASSES or module.split(".")[0] in _TREE_MODULES:
        return "tree"
    return "permutation"


def _match_output(
    final: Any, Xt: Any, recon: NDArray[np.float64], pos_col: int
) -> tuple[NDArray[np.float64], str, str]:
    """The model method whose output the SHAP values add up to."""
    candidates: list[tuple[str, str, Callable[[], Any]]] = []
    if callable(getattr(final, "decision_function", None)):
        candidates.append(("decision_function", "log-odds", lambda: final.decision_function(Xt)))
    if callable(getattr(final, "predict_proba", None)):
        candidates.append(
            (
                f"predict_proba[:, {pos_col}]",
                "probability",
                lambda: np.asarray(final.predict_proba(Xt))[:, pos_col],
            )
        )
    if callable(getattr(final, "predict", None)):
        candidates.append(("predict", "model output", lambda: final.predict(Xt)))
    scale = max(1.0, float(np.max(np.abs(recon))) if len(recon) else 1.0)
    for method, space, fn in candidates:
        with warnings.catch_warnings(), contextlib.suppress(Exception):
            warnings.simplefilter("ignore")
            out = np.asarray(fn(), dtype=np.float64).reshape(-1)
            if out.shape == recon.shape and np.max(np.abs(out - recon), initial=0.0) <= 1e-6 * scale:
                if method == "decision_function" and not _is_log_odds(final, Xt, out, pos_col):
                    space = "decision function"
                return out, space, method
    return recon, "explainer output", "base_value + sum(SHAP) (no model method matched)"


def _is_log_odds(final: Any, Xt: Any, out: NDArray[np.float64], pos_col: int) -> bool:
    """True when ``sigmoid(decision_function)`` is the positive-class probability."""
    if pos_col != 1 or not callable(getattr(final, "predict_proba", None)):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            proba = np.asarray(final.predict_proba(Xt), dtype=np.float64)[:, 1]
        except Exception:
            return False
    return bool(np.allclose(1.0 / (1.0 + np.exp(-out)), proba, atol=1e-6))


def _dense(X: Any) -> Any:
    if hasattr(X, "toarray"):
        return X.toarray()
    return X


def _as_model_input(X: Any) -> Any:
    if isinstance(X, pd.DataFrame | np.ndarray):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame().T
    return np.asarray(X)


def _masker_data(X: Any) -> Any:
    return X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)


def _length(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def _take(X: Any, rows: NDArray[np.int64]) -> Any:
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[rows]
    return np.asarray(X)[rows]


def explainer_for(
    model: Any,
    *,
    background: Any = None,
    pos_label: Hashable = 1,
    background_size: int = 100,
    n_permutations: int = 3,
    random_state: int = 0,
) -> _Explainer:
    """Build the SHAP explainer the report would use for ``model`` (see the module docstring).

    Args:
        model: A fitted estimator or Pipeline, a ``LoadedModel`` or a model URI.
        background: Rows to draw the background sample from (linear and model-agnostic explainers).
        pos_label: The positive class, whose output is explained.
        background_size: Rows in the background sample.
        n_permutations: Permutations per explained row for the model-agnostic explainer.
        random_state: Seed for the background sample and the permutations.

    Raises:
        MissingDependencyError: shap is not installed.
        InvalidInputError: A background is needed and none was given.

    Example:
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> tree = DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 1])
        >>> explainer_for(tree).explainer  # doctest: +SKIP
        'TreeExplainer'
    """
    return _Explainer(
        resolve_model(model) if not isinstance(model, ModelHandle) else model,
        background=background,
        pos_label=pos_label,
        background_size=background_size,
        n_permutations=n_permutations,
        random_state=random_state,
    )


def shap_values(
    model: Any,
    X: Any,
    *,
    rows: NDArray[np.int64] | None = None,
    weights: NDArray[np.float64] | None = None,
    pos_label: Hashable = 1,
    background_size: int = 100,
    n_permutations: int = 3,
    random_state: int = 0,
) -> ShapValues:
    """SHAP values of ``X`` (or of the rows ``rows`` of it) with the explainer chosen for ``model``.

    The background sample (linear and model-agnostic explainers) is drawn from all of ``X``.

    Args:
        model: A fitted estimator or Pipeline, a ``LoadedModel`` or a model URI.
        X: The input rows (as the model takes them).
        rows: Positions of the rows to explain (default: all).
        weights: Sampling weight per explained row (default: 1).
        pos_label: The positive class.
        background_size: Rows in the background sample.
        n_permutations: Permutations per row for the model-agnostic explainer.
        random_state: Seed.

    Raises:
        MissingDependencyError: shap is not installed.

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
        >>> sv = shap_values(LogisticRegression().fit(X, [0, 0, 1, 1]), X)  # doctest: +SKIP
        >>> sv.explainer, sv.output_space, sv.max_additivity_error < 1e-9  # doctest: +SKIP
        ('LinearExplainer', 'log-odds', True)
    """
    ex = explainer_for(
        model,
        background=X,
        pos_label=pos_label,
        background_size=background_size,
        n_permutations=n_permutations,
        random_state=random_state,
    )
    idx = np.arange(_length(X), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    return explain_rows(ex, X, idx, weights)


def explain_rows(
    ex: _Explainer, X: Any, rows: NDArray[np.int64], weights: NDArray[np.float64] | None = None
) -> ShapValues:
    """SHAP values of the rows ``rows`` of ``X`` with an explainer from :func:`explainer_for`.

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> ex = explainer_for(LogisticRegression().fit(X, [0, 0, 1, 1]), background=X)  # doctest: +SKIP
        >>> explain_rows(ex, X, np.array([0, 3])).values.shape  # doctest: +SKIP
        (2, 1)
    """
    X_rows = _take(X, rows)
    values, base, output, space, method = ex.explain(X_rows)
    names = ex.feature_names(X_rows, ex._transform(_take(X_rows, np.arange(min(1, len(rows))))))
    err = float(np.max(np.abs(base + values.sum(axis=1) - output), initial=0.0))
    return ShapValues(
        values=values,
        base_values=base,
        output=output,
        feature_names=names,
        rows=rows,
        weights=np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=np.float64),
        explainer=ex.explainer,
        explained_model=ex.explained_model,
        output_space=space,
        model_output=method,
        background_rows=ex.background_rows,
        n_permutations=ex.n_permutations,
        max_additivity_error=err,
        notes=list(ex.notes),
    )


@dataclass(frozen=True)
class LocalExplanation:
    """Why the model gave one row its output.

    Attributes:
        contributions: SHAP value per feature, largest |value| first.
        feature_values: The row's (transformed) feature values, same order.
        base_value: The explainer's expected output.
        output: The model's output for the row (``base_value + contributions.sum()``).
        output_space: ``"log-odds"``, ``"probability"``, ...
        explainer: Which SHAP explainer was used.
    """

    contributions: pd.Series
    feature_values: pd.Series
    base_value: float
    output: float
    output_space: str
    explainer: str

    def to_frame(self) -> pd.DataFrame:
        """One row per feature: value and contribution.

        Example:
            >>> e = LocalExplanation(pd.Series({"a": 0.5}), pd.Series({"a": 2.0}), 0.1, 0.6, "log-odds", "x")
            >>> e.to_frame().loc["a"].tolist()
            [2.0, 0.5]
        """
        return pd.DataFrame({"value": self.feature_values, "contribution": self.contributions})

    def _repr_html_(self) -> str:
        from mlops.fairness.render import local_explanation_html

        return local_explanation_html(self)


def explain_prediction(
    model: Any,
    row: Any,
    *,
    background: Any = None,
    pos_label: Hashable = 1,
    background_size: int = 100,
    random_state: int = 0,
) -> LocalExplanation:
    """Explain one prediction: each feature's SHAP contribution to the model's output for ``row``.

    Tree models need no background; linear and other models need ``background`` rows (for a
    ``LoadedModel`` without one, its stored input example is used).

    Args:
        model: A fitted estimator or Pipeline, a ``LoadedModel`` or a model URI.
        row: One row: a one-row DataFrame, a Series, a dict or a 1-D array.
        background: Rows for the background sample (linear and model-agnostic explainers).
        pos_label: The positive class.
        background_size: Rows in the background sample.
        random_state: Seed.

    Raises:
        MissingDependencyError: shap is not installed.
        InvalidInputError: More than one row, or a background is needed and missing.

    Example:
        >>> import pandas as pd
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> X = pd.DataFrame({"a": [0, 1, 2, 3] * 5, "b": [1, 0, 1, 0] * 5})
        >>> rf = RandomForestClassifier(5, random_state=0).fit(X, [0, 0, 1, 1] * 5)
        >>> e = explain_prediction(rf, X.iloc[[3]])  # doctest: +SKIP
        >>> e.contributions.index[0], e.output_space  # doctest: +SKIP
        ('a', 'probability')
    """
    handle = resolve_model(model) if not isinstance(model, ModelHandle) else model
    if isinstance(row, dict):
        row = pd.DataFrame([row])
    elif isinstance(row, pd.Series):
        row = row.to_frame().T.infer_objects()
    elif not isinstance(row, pd.DataFrame):
        row = np.asarray(row)
        row = row.reshape(1, -1) if row.ndim == 1 else row
    if _length(row) != 1:
        raise InvalidInputError(f"explain_prediction explains one row; got {_length(row)}")
    if background is None:
        from mlops.models.loaded import LoadedModel

        if isinstance(handle.predictor, LoadedModel):
            background = handle.predictor.input_example
    kind = _kind(_final(handle.raw))
    ex = _Explainer(
        handle,
        background=background if (background is not None or kind == "tree") else None,
        pos_label=pos_label,
        background_size=background_size,
        n_permutations=10,
        random_state=random_state,
    )
    values, base, output, space, _ = ex.explain(row)
    Xt = ex._transform(row)
    names = ex.feature_names(row, Xt)
    feat = pd.Series(np.asarray(_masker_data(Xt)).reshape(-1), index=names, name="value")
    contrib = pd.Series(values[0], index=names, name="contribution")
    order = contrib.abs().sort_values(ascending=False, kind="stable").index
    return LocalExplanation(
        contributions=contrib[order],
        feature_values=feat[order],
        base_value=float(base[0]),
        output=float(output[0]),
        output_space=space,
        explainer=ex.explainer,
    )


def _final(raw: Any) -> Any:
    steps = getattr(raw, "steps", None)
    return raw[-1] if isinstance(steps, list) and steps else raw


@dataclass(frozen=True)
class GroupShap:
    """Per-group SHAP summary for one sensitive attribute, and the decomposition of the output gaps.

    For group *g* and reference *r* (privileged groups pooled, or every explained row), with weighted
    means over the explained rows: ``gap = mean_g(output) - mean_r(output)``
    ``= [mean_g(base) - mean_r(base)] + sum_j [mean_g(SHAP_j) - mean_r(SHAP_j)] + residual``.
    The residual is 0 up to floating point for additive explainers (it is reported).

    Attributes:
        groups: Group labels (as strings), in the order of the rows of the arrays below.
        n_explained: Explained rows per group.
        mean_output: Weighted mean model output per group (explained space).
        mean_shap: ``(n_groups, n_features)`` weighted mean SHAP per group.
        mean_abs_shap: ``(n_groups, n_features)`` weighted mean |SHAP| per group.
        reference: Description of the reference (``"privileged: male"`` or ``"all explained rows"``).
        reference_output: Mean output of the reference.
        gap: Output gap per group (group - reference).
        base_difference: Difference of mean base values per group.
        contributions: ``(n_groups, n_features)`` per-feature contributions to the gap.
        residual: ``gap - base_difference - contributions.sum(axis=1)`` per group.
    """

    groups: list[str]
    n_explained: NDArray[np.int64]
    mean_output: NDArray[np.float64]
    mean_shap: NDArray[np.float64]
    mean_abs_shap: NDArray[np.float64]
    reference: str
    reference_output: float
    gap: NDArray[np.float64]
    base_difference: NDArray[np.float64]
    contributions: NDArray[np.float64]
    residual: NDArray[np.float64]


def group_shap(
    sv: ShapValues,
    codes: NDArray[np.intp],
    labels: list[str],
    reference: NDArray[np.bool_] | None,
    ref_name: str,
) -> GroupShap:
    """Weighted per-group means of the SHAP values and the exact decomposition of output gaps.

    Args:
        sv: SHAP values of a sample.
        codes: Group code of each explained row (``0..len(labels)-1``).
        labels: Group labels.
        reference: Boolean mask over groups forming the reference, or None for all explained rows.
        ref_name: How to describe the reference.

    Example:
        >>> sv = ShapValues(np.array([[1.0, 0.0], [0.0, 2.0]]), np.full(2, 0.5), np.array([1.5, 2.5]),
        ...                 ["a", "b"], np.arange(2), np.ones(2), "LinearExplainer", "M", "log-odds", "d")
        >>> g = group_shap(sv, np.array([0, 1]), ["F", "M"], np.array([False, True]), "privileged: M")
        >>> g.gap.tolist(), g.contributions.tolist(), g.residual.tolist()
        ([-1.0, 0.0], [[1.0, -2.0], [0.0, 0.0]], [0.0, 0.0])
    """
    k = len(labels)
    w = sv.weights
    wsum = np.bincount(codes, weights=w, minlength=k)
    n_exp = np.bincount(codes, minlength=k).astype(np.int64)
    safe = np.where(wsum > 0, wsum, 1.0)
    onehot = np.zeros((len(codes), k))
    onehot[np.arange(len(codes)), codes] = w
    mean_shap = (onehot.T @ sv.values) / safe[:, None]
    mean_abs = (onehot.T @ np.abs(sv.values)) / safe[:, None]
    mean_out = (onehot.T @ sv.output) / safe
    mean_base = (onehot.T @ sv.base_values) / safe
    empty = wsum <= 0
    for arr in (mean_shap, mean_abs):
        arr[empty] = np.nan
    mean_out[empty] = np.nan
    mean_base[empty] = np.nan
    row_ref = np.ones(len(codes), dtype=bool) if reference is None else reference[codes]
    wr = np.where(row_ref, w, 0.0)
    wr_sum = wr.sum()
    if wr_sum <= 0:
        ref_shap = np.full(sv.values.shape[1], np.nan)
        ref_out = ref_base = float("nan")
    else:
        ref_shap = (wr @ sv.values) / wr_sum
        ref_out = float(wr @ sv.output / wr_sum)
        ref_base = float(wr @ sv.base_values / wr_sum)
    gap = mean_out - ref_out
    base_diff = mean_base - ref_base
    contrib = mean_shap - ref_shap[None, :]
    residual = gap - base_diff - contrib.sum(axis=1)
    return GroupShap(
        groups=labels,
        n_explained=n_exp,
        mean_output=mean_out,
        mean_shap=mean_shap,
        mean_abs_shap=mean_abs,
        reference=ref_name,
        reference_output=ref_out,
        gap=gap,
        base_difference=base_diff,
        contributions=contrib,
        residual=residual,
    )


def stratified_sample(
    strata: NDArray[np.intp], budget: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Draw at most ``budget`` rows, stratified so that small strata are still represented.

    Each stratum first gets ``min(size, budget // (2 * n_strata))`` rows; the rest of the budget is
    shared in proportion to what is left of each stratum. Rows are drawn without replacement.

    Returns:
        Sorted row positions and each drawn row's weight (stratum size / rows drawn from it), so that
        weighted means estimate means over all rows.

    Example:
        >>> rows, w = stratified_sample(np.array([0] * 90 + [1] * 10), 20, np.random.default_rng(0))
        >>> len(rows), np.bincount(np.array([0] * 90 + [1] * 10)[rows]).tolist()
        (20, [14, 6])
    """
    n = len(strata)
    if n <= budget:
        return np.arange(n, dtype=np.int64), np.ones(n)
    k = int(strata.max()) + 1
    size = np.bincount(strata, minlength=k)
    take = np.minimum(size, max(1, budget // (2 * max(1, int((size > 0).sum())))))
    rest = budget - int(take.sum())
    left = size - take
    if rest > 0 and left.sum() > 0:
        share = rest * left / left.sum()
        extra = np.floor(share).astype(np.int64)
        short = rest - int(extra.sum())  # hand out what rounding down left, largest remainders first
        order_frac = np.argsort(-(share - extra), kind="stable")
        extra[order_frac[:short]] += 1
        take = take + np.minimum(extra, left)
    order = np.lexsort((rng.random(n), strata))  # random order within each stratum
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(start, size)
    chosen = np.flatnonzero(rank < take[strata]).astype(np.int64)
    weights = (size / np.where(take > 0, take, 1))[strata[chosen]].astype(np.float64)
    return chosen, weights
