"""SHAP in the bias report: the right explainer per model, and the gap decomposition adds up exactly."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _require import skip_or_fail

import mlops
import mlops.fairness as mf
from mlops.errors import InvalidInputError
from mlops.fairness.explain import stratified_sample
from mlops.fairness.schema import validate


@pytest.fixture(autouse=True, scope="module")
def _needs_shap() -> None:
    if importlib.util.find_spec("shap") is None:
        skip_or_fail("shap is not installed: install the explain extra (pip install -e '.[explain]')")


PRIVILEGED = {"sex": "male", "marriage": "married", "age_band": "26-35"}
Data = tuple[pd.DataFrame, pd.Series, pd.DataFrame]


class ScoreRule:
    """A python-function model: a hand-written default score (cloudpickled by value in the test)."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        z = (
            0.8 * np.clip(np.asarray(X["pay_status_sep"], dtype=float), -2, 4)
            - 0.000002 * np.asarray(X["limit_balance"])
            - 1.2
        )
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _models(kind: str, X: pd.DataFrame, y: pd.Series, tmp_path: Path) -> tuple[Any, Any]:
    """(model given to the report, the object whose output is explained and a function of X giving it)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if kind == "logreg":
        m = LogisticRegression(max_iter=2000).fit(
            X[["limit_balance", "pay_status_sep", "age"]] / [1e5, 1, 10], y
        )
        return m, m
    if kind == "pipeline":
        cat, num = (
            ["sex", "marriage", "education"],
            ["limit_balance", "age", "pay_status_sep", "bill_amount_sep"],
        )
        pre = ColumnTransformer(
            [("onehot", OneHotEncoder(handle_unknown="ignore"), cat), ("num", StandardScaler(), num)]
        )
        m = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))]).fit(X, y)
        return m, m
    if kind == "hgb":
        m = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, y)
        return m, m
    if kind == "forest":
        m = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0, n_jobs=1).fit(X, y)
        return m, m
    assert kind == "pyfunc"
    mlops.save_model(ScoreRule(), tmp_path / "rule", serialization="cloudpickle", flavor="pyfunc")
    loaded = mlops.load_model(str(tmp_path / "rule"), allow_pickle=True)
    return loaded, loaded.raw


EXPECTED = {
    "logreg": ("LinearExplainer", "log-odds", "decision_function"),
    "pipeline": ("LinearExplainer", "log-odds", "decision_function"),
    "hgb": ("TreeExplainer", "log-odds", "decision_function"),
    "forest": ("TreeExplainer", "probability", "predict_proba[:, 1]"),
    "pyfunc": ("PermutationExplainer", "probability", "predict_proba[:, 1]"),
}


def _output(kind: str, model: Any, X: pd.DataFrame) -> np.ndarray:
    """The explained output, computed here independently of the report."""
    if kind == "logreg":
        return model.decision_function(X[["limit_balance", "pay_status_sep", "age"]] / [1e5, 1, 10])
    if kind in ("pipeline", "hgb"):
        return model.decision_function(X)
    return model.predict_proba(X)[:, 1]


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_decomposition_adds_up_for_every_model_kind(kind: str, tmp_path: Path, credit_xy: Data) -> None:
    X, y, sens = credit_xy
    X, y, sens = X.iloc[:3000], y.iloc[:3000], sens.iloc[:3000]
    model, explained = _models(kind, X, y, tmp_path)
    features = X[["limit_balance", "pay_status_sep", "age"]] / [1e5, 1, 10] if kind == "logreg" else X
    rows = 120 if kind == "pyfunc" else 600
    rep = mf.bias_report(
        model,
        features,
        y,
        sensitive_features=sens,
        privileged=PRIVILEGED,
        n_boot=20,
        max_explain_rows=rows,
        background_size=50,
    )
    d = rep.to_dict()
    validate(d)
    ex = d["explanations"]
    assert (ex["explainer"], ex["output_space"], ex["model_output"]) == EXPECTED[kind]
    assert ex["rows_explained"] == rows and ex["rows_total"] == 3000 and "stratified sample" in ex["sampling"]
    sv = rep.shap
    assert sv is not None
    # the explained output is the model's own output on those rows (computed here, not by the report)
    independent = _output(kind, explained if kind != "logreg" else model, X.iloc[sv.rows])
    np.testing.assert_allclose(sv.output, independent, rtol=1e-9, atol=1e-12)
    assert sv.max_additivity_error <= 1e-6 * max(1.0, float(np.abs(sv.output).max()))
    if kind == "pipeline":
        assert "onehot__sex_2" in sv.feature_names and "num__limit_balance" in sv.feature_names
    for name in rep.attributes:
        gs = rep.group_shap[name]
        codes = rep.rates[name].groups.codes[sv.rows]
        ref_mask = rep.rates[name].groups.index.isin([PRIVILEGED[name]])
        w = sv.weights
        for k in range(len(gs.groups)):
            in_g = codes == k
            if not in_g.any():
                continue
            in_ref = ref_mask[codes]
            gap = np.average(independent[in_g], weights=w[in_g]) - np.average(
                independent[in_ref], weights=w[in_ref]
            )
            assert gs.gap[k] == pytest.approx(gap, rel=1e-9, abs=1e-12)
            explained_sum = gs.base_difference[k] + gs.contributions[k].sum()
            assert abs(gap - explained_sum) <= 1e-6 * max(abs(gap), 1e-12) + 1e-12
            assert abs(gs.residual[k]) <= 1e-6 * max(abs(gap), 1e-12) + 1e-12
        # the dict lists the top features and sums the rest
        for g, entry in zip(
            gs.groups, d["attributes"][rep.attributes.index(name)]["explanations"]["groups"], strict=True
        ):
            if entry["gap"] is None:
                continue
            listed = sum(c["contribution"] for c in entry["contributions"])
            total = (
                listed + entry["other_features_contribution"] + entry["base_difference"] + entry["residual"]
            )
            assert total == pytest.approx(entry["gap"], rel=1e-6, abs=1e-12), g


def test_global_importance_is_weighted_mean_abs_shap(hgb: Any, credit_xy: Data) -> None:
    X, y, sens = credit_xy
    rep = mf.bias_report(hgb, X, y, sensitive_features=sens["sex"], n_boot=0, max_explain_rows=500)
    sv = rep.shap
    assert sv is not None and len(sv.rows) == 500
    expected = (np.abs(sv.values) * sv.weights[:, None]).sum(axis=0) / sv.weights.sum()
    got = {i["feature"]: i["mean_abs_shap"] for i in rep.to_dict()["explanations"]["global_importance"]}
    assert got == pytest.approx(dict(zip(sv.feature_names, expected, strict=True)), rel=1e-12)
    # every stratum's weights add up to its size: weighted means estimate means over all rows
    assert sv.weights.sum() == pytest.approx(len(X))
    assert next(iter(got)) == "pay_status_sep"  # the repayment status dominates, as expected on this data


def test_stratified_sample_keeps_small_groups() -> None:
    strata = np.repeat([0, 1, 2], [9000, 950, 50])
    rows, w = stratified_sample(strata, 1000, np.random.default_rng(0))
    counts = np.bincount(strata[rows])
    assert len(rows) == 1000 and counts[2] == 50 and counts[1] >= 166
    assert len(np.unique(rows)) == 1000
    np.testing.assert_allclose(np.bincount(strata[rows], weights=w), [9000, 950, 50])


def test_explain_prediction(hgb: Any, logreg: Any, credit_xy: Data) -> None:
    X, _, _ = credit_xy
    row = X.iloc[[11]]
    e = mf.explain_prediction(hgb, row)
    assert e.explainer == "TreeExplainer" and e.output_space == "log-odds"
    assert e.output == pytest.approx(float(hgb.decision_function(row)[0]), abs=1e-9)
    assert e.base_value + e.contributions.sum() == pytest.approx(e.output, abs=1e-9)
    assert list(e.contributions.abs()) == sorted(e.contributions.abs(), reverse=True)
    assert "<img" in e._repr_html_()
    e2 = mf.explain_prediction(logreg, X.iloc[11], background=X)  # a Series works too
    assert e2.explainer == "LinearExplainer"
    assert e2.output == pytest.approx(float(logreg.decision_function(row)[0]), abs=1e-9)
    assert e2.to_frame().shape == (X.shape[1], 2)
    with pytest.raises(InvalidInputError, match="background"):
        mf.explain_prediction(logreg, row)
    with pytest.raises(InvalidInputError, match="one row"):
        mf.explain_prediction(hgb, X.iloc[:2])
    rep = mf.bias_report(
        hgb, X.iloc[:500], credit_xy[1].iloc[:500], sensitive_features="sex", n_boot=0, max_explain_rows=50
    )
    assert rep.explain_prediction(row).output == pytest.approx(e.output)
