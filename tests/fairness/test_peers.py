"""Agreement with Fairlearn and AIF360 on many generated cases (skipped when they are not installed)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import mlops.fairness as mf
from mlops.errors import InvalidInputError


def generated(seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    k = int(rng.integers(1, 5)) if seed % 7 else 1
    groups = np.array(["g0", "g1", "g2", "g3"], dtype=object)[rng.integers(0, k, n)]
    second = rng.integers(0, 2, n)
    y = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int)
    p = np.where(rng.random(n) < 0.7, y, 1 - y)
    w = rng.integers(1, 5, n).astype(float) if seed % 2 else None
    return {
        "y": y,
        "p": p,
        "sf": pd.Series(groups, name="grp"),
        "sf2": pd.DataFrame({"grp": groups, "b": second}),
        "w": w,
    }


SEEDS = range(10)


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_fairlearn_agreement(seed: int) -> None:
    fm = pytest.importorskip("fairlearn.metrics")
    c = generated(seed)
    for sf in (c["sf"], c["sf2"]):
        kw = {"sensitive_features": sf, "sample_weight": c["w"]}
        theirs = fm.MetricFrame(
            metrics={"tpr": fm.true_positive_rate, "fpr": fm.false_positive_rate, "sel": fm.selection_rate},
            y_true=c["y"],
            y_pred=c["p"],
            sensitive_features=sf,
            sample_params={k: {"sample_weight": c["w"]} for k in ("tpr", "fpr", "sel")},
        )
        # Fairlearn reports 0 for a rate without a denominator: zero_division=0 reproduces it
        ours = mf.group_rates(c["y"], c["p"], zero_division=0, **kw)
        np.testing.assert_allclose(ours.by_group["true_positive_rate"], theirs.by_group["tpr"], rtol=1e-12)
        np.testing.assert_allclose(ours.by_group["false_positive_rate"], theirs.by_group["fpr"], rtol=1e-12)
        np.testing.assert_allclose(ours.by_group["selection_rate"], theirs.by_group["sel"], rtol=1e-12)
        for method in ("between_groups", "to_overall"):
            for agg in ("worst_case", "mean"):
                for fn in ("equalized_odds_difference", "equalized_odds_ratio"):
                    a = getattr(mf, fn)(c["y"], c["p"], method=method, agg=agg, zero_division=0, **kw)
                    b = getattr(fm, fn)(c["y"], c["p"], method=method, agg=agg, **kw)
                    assert close(a, b), (fn, method, agg, a, b)
            for fn in (
                "demographic_parity_difference",
                "demographic_parity_ratio",
                "equal_opportunity_difference",
                "equal_opportunity_ratio",
            ):
                a = getattr(mf, fn)(c["y"], c["p"], method=method, zero_division=0, **kw)
                b = getattr(fm, fn)(c["y"], c["p"], method=method, **kw)
                assert close(a, b), (fn, method, a, b)


@pytest.mark.parametrize("seed", [s for s in range(40) if s % 7])
def test_aif360_sklearn_agreement(seed: int) -> None:
    pytest.importorskip("aif360")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from aif360.sklearn import metrics as am
    c = generated(seed)
    sf = c["sf"]
    priv = sf.iloc[0]
    if (sf == priv).all():  # nothing to compare with: AIF360 divides by an empty set, we say why
        with pytest.raises(InvalidInputError, match="no unprivileged group"):
            mf.disparate_impact(c["y"], c["p"], sensitive_features=sf, privileged=priv)
        return
    y = pd.Series(c["y"], index=pd.Index(sf.to_numpy(), name="grp"))
    kw = {"sensitive_features": sf, "privileged": priv, "sample_weight": c["w"]}
    aw = {"prot_attr": "grp", "priv_group": priv, "sample_weight": c["w"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        di = am.disparate_impact_ratio(y, c["p"], zero_division=np.nan, **aw)
        spd = am.statistical_parity_difference(y, c["p"], **aw)
        di_data = am.disparate_impact_ratio(y, **aw)
        spd_data = am.statistical_parity_difference(y, **aw)
    assert close(mf.disparate_impact(c["y"], c["p"], **kw), di)
    assert close(mf.statistical_parity_difference(c["y"], c["p"], **kw), spd)
    assert close(mf.disparate_impact(c["y"], None, **kw), di_data)
    assert close(mf.statistical_parity_difference(c["y"], None, **kw), spd_data)


@pytest.mark.parametrize("seed", range(12))
def test_aif360_classic_agreement(seed: int) -> None:
    pytest.importorskip("aif360")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from aif360.datasets import BinaryLabelDataset
        from aif360.metrics import ClassificationMetric
    c = generated(seed)
    sex = (c["sf2"]["b"]).to_numpy().astype(float)
    w = c["w"] if c["w"] is not None else np.ones(len(sex))
    df = pd.DataFrame({"sex": sex, "y": c["y"].astype(float)})
    truth = BinaryLabelDataset(
        df=df,
        label_names=["y"],
        protected_attribute_names=["sex"],
        instance_weights_name=None,
        favorable_label=1.0,
        unfavorable_label=0.0,
    )
    truth.instance_weights = w.copy()
    pred = truth.copy(deepcopy=True)
    pred.labels = c["p"].astype(float).reshape(-1, 1)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        m = ClassificationMetric(
            truth, pred, unprivileged_groups=[{"sex": 0.0}], privileged_groups=[{"sex": 1.0}]
        )
        expected = {
            "di": m.disparate_impact(),
            "spd": m.statistical_parity_difference(),
            "aod": m.average_odds_difference(),
        }
    kw = {"sensitive_features": {"sex": sex}, "privileged": 1.0, "sample_weight": w}
    assert close(mf.disparate_impact(c["y"], c["p"], **kw), float(expected["di"]))
    assert close(mf.statistical_parity_difference(c["y"], c["p"], **kw), float(expected["spd"]))
    # AIF360's classic API leaves FPR/TPR as NaN without a denominator, as we do by default
    assert close(mf.average_odds_difference(c["y"], c["p"], **kw), float(expected["aod"]))
