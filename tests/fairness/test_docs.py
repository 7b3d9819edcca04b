"""docs/fairness.md stays true: the worked example's numbers are recomputed and looked up in the text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mlops.fairness as mf

DOC = Path(__file__).resolve().parents[2] / "docs" / "fairness.md"
DATA = Path("/work/shared/data/credit_default_taiwan.csv.gz")


def test_worked_example_numbers_are_in_the_doc() -> None:
    if not DATA.exists():
        pytest.skip("credit data not available")
    text = DOC.read_text()
    df = pd.read_csv(DATA)
    y = df["default payment next month"]
    pred = (df["PAY_0"] >= 1).astype(int)
    sex = df["SEX"].map({1: "male", 2: "female"}).rename("sex")
    r = mf.group_rates(y, pred, sensitive_features=sex)
    values = [
        *r.by_group[
            [
                "selection_rate",
                "true_positive_rate",
                "false_positive_rate",
                "precision",
                "accuracy",
                "base_rate",
            ]
        ]
        .to_numpy()
        .ravel(),
        mf.equalized_odds_difference(y, pred, sensitive_features=sex),
        mf.equalized_odds_ratio(y, pred, sensitive_features=sex),
        mf.demographic_parity_difference(y, pred, sensitive_features=sex),
        mf.disparate_impact(y, pred, sensitive_features=sex, privileged="male"),
        mf.disparate_impact(y, pred, sensitive_features=sex, privileged="male", pos_label=0),
        mf.class_imbalance(sex, privileged="male"),
        mf.difference_in_proportions_of_labels(y, sensitive_features=sex, privileged="male"),
    ]
    b = r.bootstrap(n_boot=1000, ci=0.95, random_state=0, privileged="male")
    for name in ("equalized_odds_difference", "demographic_parity_difference", "disparate_impact"):
        values += b.aggregates.loc[name, ["estimate", "lower", "upper"]].tolist()
    missing = [f"{v:.4f}" for v in values if f"{v:.4f}" not in text]
    assert not missing, f"docs/fairness.md does not show {missing}"
    r2 = mf.group_rates(y, pred, sensitive_features={"sex": sex, "marriage": df["MARRIAGE"]})
    ff = r2.four_fifths()
    assert ff["flag"].sum() == 2 and f"{ff.loc[('female', 2), 'impact_ratio']:.4f}" in text
