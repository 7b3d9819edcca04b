"""bias_report on the credit data: its numbers are the metrics module's, flags follow the thresholds,
mitigation equalizes the chosen rate, inputs are validated, and log/attach drive the registry gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlops
import mlops.fairness as mf
from mlops.errors import ConflictError, InvalidInputError, MissingDependencyError
from mlops.fairness.report import DEFAULT_THRESHOLDS, BiasReport, check_thresholds, judge
from mlops.fairness.schema import validate

PRIVILEGED = {"sex": "male", "marriage": "married", "age_band": "26-35"}
Data = tuple[pd.DataFrame, pd.Series, pd.DataFrame]


@pytest.fixture(scope="module")
def report(hgb: Any, credit_xy: Data) -> BiasReport:
    X, y, sens = credit_xy
    return mf.bias_report(
        hgb, X, y, sensitive_features=sens, privileged=PRIVILEGED, explain=False, n_boot=200
    )


def test_every_number_is_the_metrics_modules(report: BiasReport, hgb: Any, credit_xy: Data) -> None:
    X, y, sens = credit_xy
    pred = (hgb.predict_proba(X)[:, 1] >= 0.5).astype(int)
    assert report.attributes == ["sex", "marriage", "age_band"]
    for name in report.attributes:
        sf, priv = sens[name], PRIVILEGED[name]
        r = mf.group_rates(y, pred, sensitive_features=sf)
        perf = report.performance(name)
        for rate in (
            "selection_rate",
            "true_positive_rate",
            "false_positive_rate",
            "false_negative_rate",
            "precision",
            "accuracy",
        ):
            np.testing.assert_allclose(perf[rate].to_numpy(), r.by_group[rate].to_numpy(), rtol=0, atol=0)
        fair = report.fairness(name)["estimate"]
        assert fair["equalized_odds_difference"] == mf.equalized_odds_difference(
            y, pred, sensitive_features=sf
        )
        assert fair["equalized_odds_ratio"] == mf.equalized_odds_ratio(y, pred, sensitive_features=sf)
        assert fair["demographic_parity_difference"] == mf.demographic_parity_difference(
            y, pred, sensitive_features=sf
        )
        assert fair["demographic_parity_ratio"] == mf.demographic_parity_ratio(y, pred, sensitive_features=sf)
        assert fair["disparate_impact"] == pytest.approx(
            mf.disparate_impact(y, pred, sensitive_features=sf, privileged=priv), abs=1e-15
        )
        assert fair["four_fifths_rule"] == r.four_fifths()["impact_ratio"].min()
        # intervals: the bootstrap module with the same seed
        b = r.bootstrap(n_boot=200, random_state=0, privileged=priv)
        lower = report.fairness(name)["lower"]
        assert lower["equalized_odds_difference"] == b.aggregates.loc["equalized_odds_difference", "lower"]
        assert lower["disparate_impact"] == b.aggregates.loc["disparate_impact", "lower"]
        assert (
            perf["false_positive_rate_upper"].tolist()
            == b.by_group[("false_positive_rate", "upper")].tolist()
        )
        # the data section
        attr = report.to_dict()["attributes"][report.attributes.index(name)]
        assert attr["pretraining"]["class_imbalance"] == mf.class_imbalance(sf, privileged=priv)
        assert attr["pretraining"][
            "difference_in_proportions_of_labels"
        ] == mf.difference_in_proportions_of_labels(y, sensitive_features=sf, privileged=priv)
        assert [g["count"] for g in attr["groups"]] == r.by_group["count"].astype(int).tolist()
        np.testing.assert_array_equal(
            [g["base_rate"] for g in attr["groups"]], r.by_group["base_rate"].to_numpy()
        )
    assert report.rates["sex"].by_group.equals(
        mf.group_rates(y, pred, sensitive_features=sens["sex"]).by_group
    )


def test_reference_default_rates_of_the_data(credit_full: pd.DataFrame) -> None:
    """The data section reproduces shared/data/README.md's default rates by group (all 30,000 rows)."""
    from sklearn.dummy import DummyClassifier

    X, y = credit_full.drop(columns=["default"]), credit_full["default"]
    sex = credit_full["sex"].map({1: "male", 2: "female"}).rename("sex")
    rep = mf.bias_report(
        DummyClassifier().fit(X, y), X, y, sensitive_features=sex, explain=False, n_boot=0, mitigation=None
    )
    groups = {g["group"]: g for g in rep.to_dict()["attributes"][0]["groups"]}
    assert groups["male"]["count"] == 11_888 and round(groups["male"]["base_rate"], 3) == 0.242
    assert groups["female"]["count"] == 18_112 and round(groups["female"]["base_rate"], 3) == 0.208


def test_flags_follow_documented_thresholds() -> None:
    assert judge("difference", 0.05, 0.01, 0.08, DEFAULT_THRESHOLDS["equalized_odds_difference"]) == "pass"
    assert judge("difference", 0.05, 0.01, 0.12, DEFAULT_THRESHOLDS["equalized_odds_difference"]) == "warn"
    assert judge("difference", 0.15, None, None, DEFAULT_THRESHOLDS["equalized_odds_difference"]) == "warn"
    assert judge("difference", 0.25, None, None, DEFAULT_THRESHOLDS["equalized_odds_difference"]) == "fail"
    # ratios are judged in both directions: 1.3 is as far from parity as 1/1.3
    assert judge("ratio", 1.3, None, None, DEFAULT_THRESHOLDS["disparate_impact"]) == "fail"
    assert judge("ratio", 1.2, 1.1, 1.24, DEFAULT_THRESHOLDS["disparate_impact"]) == "pass"
    assert judge("ratio", 0.9, 0.75, 1.0, DEFAULT_THRESHOLDS["disparate_impact"]) == "warn"
    assert judge("ratio", float("nan"), None, None, DEFAULT_THRESHOLDS["disparate_impact"]) == "undefined"


def test_thresholds_argument(hgb: Any, credit_xy: Data, report: BiasReport) -> None:
    X, y, sens = credit_xy
    strict = {
        m: {"pass": 0.0, "fail": 0.0} for m, t in DEFAULT_THRESHOLDS.items() if t["kind"] == "difference"
    }
    strict.update(
        {m: {"pass": 1.0, "fail": 1.0} for m, t in DEFAULT_THRESHOLDS.items() if t["kind"] == "ratio"}
    )
    rep = mf.bias_report(
        hgb,
        X,
        y,
        sensitive_features=sens["sex"],
        privileged="male",
        explain=False,
        n_boot=0,
        thresholds=strict,
    )
    assert set(rep.fairness("sex")["status"]) == {"fail"} and not rep.passed
    lax = {
        m: {"pass": 1.0, "fail": 1.0} if t["kind"] == "difference" else {"pass": 0.0, "fail": 0.0}
        for m, t in DEFAULT_THRESHOLDS.items()
    }
    rep = mf.bias_report(
        hgb, X, y, sensitive_features=sens["sex"], privileged="male", explain=False, n_boot=50, thresholds=lax
    )
    assert set(rep.fairness("sex")["status"]) == {"pass"} and rep.passed
    assert rep.to_dict()["settings"]["thresholds"]["equalized_odds_difference"]["pass"] == 1.0
    with pytest.raises(InvalidInputError, match="unknown metric"):
        check_thresholds({"auc": {"pass": 1}})
    with pytest.raises(InvalidInputError, match="stricter"):
        check_thresholds({"equalized_odds_difference": {"pass": 0.3, "fail": 0.1}})
    with pytest.raises(InvalidInputError, match="must be a number"):
        check_thresholds({"disparate_impact": {"pass": "0.8"}})
    # without a privileged group disparate impact is not applicable and does not fail the report
    rep = mf.bias_report(hgb, X, y, sensitive_features=sens["sex"], explain=False, n_boot=0)
    assert rep.fairness("sex").loc["disparate_impact", "status"] == "not applicable"


def test_mitigation_equalizes_the_chosen_rate(report: BiasReport, hgb: Any, credit_xy: Data) -> None:
    X, y, sens = credit_xy
    scores = hgb.predict_proba(X)[:, 1]
    for name in report.attributes:
        m = report.mitigations[name]
        assert m.rate == "false_positive_rate"
        after = m.after.by_group
        big = after["count"] >= 200  # tiny groups cannot hit the target exactly
        assert np.all(np.abs(after.loc[big, "false_positive_rate"] - m.target) < 0.01)
        assert (
            m.summary().loc["equalized_rate_difference", "after"]
            <= m.summary().loc["equalized_rate_difference", "before"]
        )
        # the after-state is exactly group_rates of the thresholded decisions
        decisions = m.apply(scores, sens[name]).astype(int)
        direct = mf.group_rates(y, decisions, sensitive_features=sens[name])
        pd.testing.assert_frame_equal(direct.by_group, after)
    tpr = mf.group_thresholds(y, scores, sensitive_features=sens["sex"], rate="tpr")
    assert abs(tpr.after.by_group["true_positive_rate"].diff().iloc[-1]) < 0.01
    sel = mf.group_thresholds(
        y, scores, sensitive_features=sens["sex"], rate="selection_rate", privileged="male"
    )
    assert abs(sel.summary().loc["disparate_impact", "after"] - 1) < 0.05
    with pytest.raises(InvalidInputError, match="rate must be one of"):
        mf.group_thresholds(y, scores, sensitive_features=sens["sex"], rate="precision")


def test_model_forms_and_input_errors(tmp_path: Path, hgb: Any, credit_xy: Data) -> None:
    X, y, sens = credit_xy
    X_small, y_small = X.iloc[:1500], y.iloc[:1500]
    base = mf.bias_report(hgb, X_small, y_small, sensitive_features="sex", explain=False, n_boot=0)
    assert base.attributes == ["sex"]  # a column of X by name
    mlops.save_model(hgb, tmp_path / "m", input_example=X.head())
    for model in (str(tmp_path / "m"), mlops.load_model(str(tmp_path / "m"))):
        rep = mf.bias_report(model, X_small, y_small, sensitive_features="sex", explain=False, n_boot=0)
        assert rep.fairness("sex")["estimate"].equals(base.fairness("sex")["estimate"])
    assert rep.to_dict()["model"]["source"] is not None
    with pytest.raises(InvalidInputError, match="binary"):
        mf.bias_report(hgb, X_small, np.arange(1500) % 3, sensitive_features="sex", explain=False)
    with pytest.raises(InvalidInputError, match="not a column of X"):
        mf.bias_report(hgb, X_small, y_small, sensitive_features="gender", explain=False)
    with pytest.raises(InvalidInputError, match=r"dict \{attribute"):
        mf.bias_report(
            hgb, X_small, y_small, sensitive_features=sens.iloc[:1500], privileged="male", explain=False
        )
    with pytest.raises(InvalidInputError, match="mitigation must be"):
        mf.bias_report(hgb, X_small, y_small, sensitive_features="sex", explain=False, mitigation="precision")
    with pytest.raises(InvalidInputError, match="neither predict_proba nor predict"):
        mf.bias_report(object(), X_small, y_small, sensitive_features="sex", explain=False)
    # intersectional: one attribute whose groups are the combinations
    inter = mf.bias_report(
        hgb,
        X_small,
        y_small,
        sensitive_features=sens.iloc[:1500][["sex", "marriage"]],
        privileged={"sex": "male"},
        intersectional=True,
        explain=False,
        n_boot=0,
    )
    assert inter.attributes == ["sex × marriage"]
    assert len(inter.performance("sex × marriage")) > 2


def test_explain_true_without_shap_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, hgb: Any, credit_xy: Data
) -> None:
    X, y, _ = credit_xy
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap → ImportError
    with pytest.raises(MissingDependencyError, match=r"mlops\[explain\]"):
        mf.bias_report(hgb, X, y, sensitive_features="sex")
    rep = mf.bias_report(hgb, X, y, sensitive_features="sex", explain=False, n_boot=0)
    assert rep.to_dict()["explanations"] is None
    validate(rep.to_dict())


def _stores(tmp_path: Path) -> mlops.Client:
    return mlops.Client(f"sqlite:///{tmp_path / 'mlops.db'}", artifact_uri=(tmp_path / "artifacts").as_uri())


def test_log_and_attach_drive_the_promotion_gate(tmp_path: Path, hgb: Any, credit_xy: Data) -> None:
    X, y, sens = credit_xy
    client = _stores(tmp_path)
    reg = client.registry
    exp = client.get_or_create_experiment("credit").experiment_id
    failing = mf.bias_report(
        hgb,
        X,
        y,
        sensitive_features=sens,
        privileged=PRIVILEGED,
        explain=False,
        n_boot=50,
        thresholds={"equalized_odds_difference": {"pass": 0.0, "fail": 0.0}},
    )
    assert not failing.passed
    run = client.create_run(exp)
    uri = failing.log(run.run_id, client=client)
    assert uri == f"runs:/{run.run_id}/reports/bias/bias_report.html"
    client.flush()
    names = {a.path for a in client.list_artifacts(run.run_id, "reports/bias")}
    assert names == {"reports/bias/bias_report.html", "reports/bias/bias_report.json"}
    stored = json.loads(client.artifact_store(run.run_id).get_bytes("reports/bias/bias_report.json"))
    validate(stored)
    assert stored == failing.to_dict()
    metrics = client.get_run(run.run_id).metrics
    assert metrics["fairness.passed"] == 0.0
    assert (
        metrics["fairness.sex.equalized_odds_difference"]
        == failing.fairness("sex").loc["equalized_odds_difference", "estimate"]
    )
    assert metrics["fairness.equalized_odds_difference"] == max(
        failing.fairness(a).loc["equalized_odds_difference", "estimate"] for a in failing.attributes
    )
    client.end_run(run.run_id)

    v1 = reg.register_model(f"runs:/{run.run_id}/model", "credit", user="ann")
    reg.set_policy("credit", {"Production": {"gates": ["report:bias passes"]}}, user="lead")
    with pytest.raises(ConflictError, match="report:bias passes"):
        reg.transition_stage("credit", v1.version, "Production", user="cy")  # nothing attached yet
    failing.attach("credit", v1.version, client=client, user="cy")
    assert reg.lineage("credit", v1.version).reports["bias"].uri == uri
    with pytest.raises(ConflictError, match="did not pass"):
        reg.transition_stage("credit", v1.version, "Production", user="cy")

    # a passing report, never logged: attach stores it in the version's source run (which has ended)
    passing = mf.bias_report(
        hgb,
        X,
        y,
        sensitive_features=sens["sex"],
        privileged="male",
        explain=False,
        n_boot=50,
        thresholds={
            m: ({"pass": 1.0, "fail": 1.0} if t["kind"] == "difference" else {"pass": 0.0, "fail": 0.0})
            for m, t in DEFAULT_THRESHOLDS.items()
        },
    )
    assert passing.passed
    run2 = client.create_run(exp)
    client.end_run(run2.run_id)
    v2 = reg.register_model(f"runs:/{run2.run_id}/model", "credit", user="ann")
    with pytest.warns(UserWarning, match="has ended"):
        uri2 = passing.attach("credit", v2.version, client=client, user="cy")
    assert uri2.startswith(f"runs:/{run2.run_id}/")
    reg.transition_stage("credit", v2.version, "Production", user="cy")
    assert reg.get_model_version("credit", v2.version).stage == "Production"
    client.close()


def test_log_to_the_active_run(tmp_path: Path) -> None:
    rep = BiasReport.from_dict({"passed": True, "attributes": []})
    with pytest.raises(InvalidInputError, match="no active run"):
        rep.log()
    mlops.set_tracking_uri(f"sqlite:///{tmp_path / 'fluent.db'}")
    mlops.set_artifact_uri((tmp_path / "art").as_uri())
    try:
        with mlops.start_run() as run:
            uri = rep.log()
            assert rep.log(run) == uri
        assert mlops.get_run(run.run_id).tags["mlops.report.bias.passed"] == "true"
    finally:
        mlops.set_tracking_uri(None)
        mlops.set_artifact_uri(None)
