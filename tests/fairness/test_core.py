"""Group codes, counts, rates, aggregates and result objects on hand-checked cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import mlops.fairness as mf
from mlops.fairness._groups import encode_groups

# group a: TP TN FP FN ; group b: TP TP (no negatives)
Y_TRUE = [1, 0, 0, 1, 1, 1]
Y_PRED = [1, 0, 1, 0, 1, 1]
SF = ["a", "a", "a", "a", "b", "b"]


def test_per_group_rates_by_hand() -> None:
    r = mf.group_rates(Y_TRUE, Y_PRED, sensitive_features=SF)
    a = r.by_group.loc["a"]
    assert (a["count"], a["selection_rate"], a["true_positive_rate"], a["false_positive_rate"]) == (
        4,
        0.5,
        0.5,
        0.5,
    )
    assert (a["precision"], a["accuracy"], a["base_rate"], a["true_negative_rate"]) == (0.5, 0.5, 0.5, 0.5)
    b = r.by_group.loc["b"]
    assert b["true_positive_rate"] == 1.0 and b["selection_rate"] == 1.0
    assert math.isnan(b["false_positive_rate"]) and math.isnan(b["true_negative_rate"])
    und = r.undefined
    assert set(und["metric"]) == {"false_positive_rate", "true_negative_rate"}
    assert und["count"].tolist() == [2, 2] and und["denominator"].tolist() == ["negative labels"] * 2
    assert r.overall["selection_rate"] == pytest.approx(4 / 6)


def test_zero_division_conventions() -> None:
    fair = mf.group_rates(Y_TRUE, Y_PRED, sensitive_features=SF, zero_division=0)
    assert fair.by_group.loc["b", "false_positive_rate"] == 0.0
    clar = mf.group_rates(Y_TRUE, Y_PRED, sensitive_features=SF, zero_division={"false_positive_rate": 1})
    assert clar.by_group.loc["b", "false_positive_rate"] == 1.0
    assert math.isnan(clar.by_group.loc["b", "true_negative_rate"])
    # NaN groups are left out of between-group aggregates; 0 takes part
    assert mf.equalized_odds_difference(Y_TRUE, Y_PRED, sensitive_features=SF) == 0.5
    assert mf.equalized_odds_difference(Y_TRUE, Y_PRED, sensitive_features=SF, zero_division=0) == 0.5
    assert mf.false_positive_rate([1, 1], [1, 0]) != mf.false_positive_rate([1, 1], [1, 0])  # NaN
    assert mf.false_positive_rate([1, 1], [1, 0], zero_division=0) == 0.0


def test_one_group_and_all_undefined() -> None:
    r = mf.group_rates([1, 0], [1, 1], sensitive_features=["a", "a"])
    assert r.difference()["selection_rate"] == 0.0
    assert r.ratio()["selection_rate"] == 1.0
    none_pos = mf.group_rates([0, 0, 0, 0], [1, 0, 1, 1], sensitive_features=SF[:4])
    assert math.isnan(none_pos.difference()["true_positive_rate"])
    assert math.isnan(
        mf.equalized_odds_difference([0, 0, 0, 0], [1, 0, 1, 1], sensitive_features=["a", "b"] * 2)
    )


def test_ratio_with_zero_max_is_undefined() -> None:
    assert math.isnan(
        mf.demographic_parity_ratio([0, 1, 0, 1], [0, 0, 0, 0], sensitive_features=["a", "a", "b", "b"])
    )
    assert math.isnan(
        mf.disparate_impact(
            [0, 1, 0, 1], [1, 1, 0, 0], sensitive_features=["a", "a", "b", "b"], privileged="b"
        )
    )


def test_intersectional_groups_and_labels() -> None:
    g = encode_groups([("sex", pd.Series(["M", "F", "F", "M"])), ("age", np.array([30, 30, 40, 40]))])
    assert list(g.index) == [("F", 30), ("F", 40), ("M", 30), ("M", 40)]
    assert g.index.names == ["sex", "age"]
    assert g.codes.tolist() == [2, 0, 1, 3]


def test_categorical_keeps_category_order_and_drops_unobserved() -> None:
    cat = pd.Categorical(["lo", "hi", "lo"], categories=["hi", "mid", "lo"])
    g = encode_groups([("band", cat)])
    assert list(g.index) == ["hi", "lo"] and g.codes.tolist() == [1, 0, 1]


def test_mixed_hashables_and_integers() -> None:
    r = mf.group_rates([0, 1, 1], [0, 1, 0], sensitive_features=np.array([1, 2, 2]))
    assert list(r.by_group.index) == [1, 2]
    r = mf.group_rates([0, 1, 1], [0, 1, 0], sensitive_features=[(1, "x"), (1, "x"), "y"])
    assert r.by_group["count"].sum() == 3


def test_to_overall_matches_definition() -> None:
    r = mf.group_rates([0] * 6, [1, 0, 0, 1, 1, 1], sensitive_features=["a", "a", "a", "b", "b", "b"])
    sel = r.by_group["selection_rate"].to_numpy()
    overall = r.overall["selection_rate"]
    assert r.difference("to_overall")["selection_rate"] == pytest.approx(np.max(np.abs(sel - overall)))
    ratios = np.minimum(sel / overall, overall / sel)
    assert r.ratio("to_overall")["selection_rate"] == pytest.approx(ratios.min())


def test_reference_group_each_and_pooled() -> None:
    y = [0] * 9
    p = [1, 1, 1, 1, 0, 0, 1, 0, 0]
    sf = ["m"] * 3 + ["f"] * 3 + ["x"] * 3
    r = mf.group_rates(y, p, sensitive_features=sf)
    pooled = r.compare("m").set_index("metric").loc["selection_rate"]
    assert pooled["value"] == pytest.approx(2 / 6) and pooled["privileged_value"] == 1.0
    each = r.compare("m", unprivileged="each")
    each = each[each["metric"] == "selection_rate"].set_index("group")
    assert each.loc["f", "ratio"] == pytest.approx(1 / 3) and each.loc["x", "ratio"] == pytest.approx(1 / 3)
    assert mf.disparate_impact(y, p, sensitive_features=sf, privileged="m") == pytest.approx(1 / 3)
    assert mf.statistical_parity_difference(y, p, sensitive_features=sf, privileged="m") == pytest.approx(
        -2 / 3
    )
    # dict and list forms of privileged
    sfd = pd.DataFrame({"sex": ["m", "m", "f", "f"], "age": ["y", "o", "y", "o"]})
    di = mf.disparate_impact([0] * 4, [1, 1, 1, 0], sensitive_features=sfd, privileged={"sex": "m"})
    assert di == 0.5
    di_list = mf.disparate_impact(
        [0] * 4, [1, 1, 1, 0], sensitive_features=sfd, privileged=[("m", "y"), ("m", "o")]
    )
    assert di_list == 0.5


def test_four_fifths_and_flags() -> None:
    ff = mf.four_fifths_rule([0] * 10, [1] * 5 + [1, 1, 1, 0, 0], sensitive_features=["a"] * 5 + ["b"] * 5)
    assert ff["impact_ratio"].tolist() == [1.0, 0.6] and ff["flag"].tolist() == [False, True]


def test_pretraining_bias() -> None:
    sf = ["m"] * 6 + ["f"] * 4
    y = [1, 1, 1, 0, 0, 0, 1, 0, 0, 0]
    assert mf.class_imbalance(sf, privileged="m") == pytest.approx((6 - 4) / 10)
    assert mf.difference_in_proportions_of_labels(y, sensitive_features=sf, privileged="m") == pytest.approx(
        0.25
    )
    # AIF360's statistical parity on labels is the negative of DPL
    assert mf.statistical_parity_difference(y, None, sensitive_features=sf, privileged="m") == pytest.approx(
        -0.25
    )
    assert mf.class_imbalance(sf, privileged="m", sample_weight=[1] * 6 + [3] * 4) == pytest.approx(
        (6 - 12) / 18
    )


def test_stable_types_whatever_the_shape() -> None:
    one = mf.MetricFrame(
        metrics=mf.selection_rate, y_true=[0, 1], y_pred=[1, 1], sensitive_features=["a", "b"]
    )
    many = mf.MetricFrame(
        metrics={"s": mf.selection_rate, "t": mf.true_positive_rate},
        y_true=[0, 1, 1, 0],
        y_pred=[1, 1, 0, 0],
        sensitive_features={"x": [1, 1, 2, 2], "z": [0, 1, 0, 1]},
    )
    for frame in (one, many):
        assert isinstance(frame.by_group, pd.DataFrame)
        assert isinstance(frame.overall, pd.Series)
        for s in (frame.difference(), frame.ratio(), frame.group_min(), frame.group_max()):
            assert isinstance(s, pd.Series)
    r = mf.group_rates([0, 1], [1, 1], sensitive_features=["a", "b"])
    assert isinstance(r.by_group, pd.DataFrame) and isinstance(r.summary(), pd.Series)


def test_metric_frame_generic_path_matches_fast_path() -> None:
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    sf = rng.choice(["u", "v", "w"], 300)
    w = rng.random(300)
    fast = mf.MetricFrame(
        metrics={"fpr": mf.false_positive_rate},
        y_true=y,
        y_pred=p,
        sensitive_features=sf,
        sample_params={"fpr": {"sample_weight": w}},
    )
    assert fast.rates is not None

    def fpr(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
        neg = y_true == 0
        return float((sample_weight * (neg & (y_pred == 1))).sum() / (sample_weight * neg).sum())

    slow = mf.MetricFrame(
        metrics={"fpr": fpr},
        y_true=y,
        y_pred=p,
        sensitive_features=sf,
        sample_params={"fpr": {"sample_weight": w}},
    )
    assert slow.rates is None
    np.testing.assert_allclose(fast.by_group["fpr"], slow.by_group["fpr"].astype(float), rtol=1e-12)
    assert fast.overall["fpr"] == pytest.approx(slow.overall["fpr"], rel=1e-12)
    assert fast.difference()["fpr"] == pytest.approx(slow.difference()["fpr"], rel=1e-12)


def test_to_dict_is_json_and_html_renders() -> None:
    r = mf.group_rates(Y_TRUE, Y_PRED, sensitive_features={"sex": SF, "k": [0, 0, 1, 1, 0, 1]})
    d = r.to_dict()
    json.dumps(d)  # NaN became None
    assert d["sensitive_features"] == ["sex", "k"] and d["undefined"]
    html = r._repr_html_()
    assert "<table" in html and "undefined" in html
    boot = r.bootstrap(n_boot=20, random_state=1)
    assert "<table" in boot._repr_html_()
    assert set(boot.to_dict()) == {"aggregates", "by_group", "ci", "method", "n_boot", "overall"}
    mframe = mf.MetricFrame(
        metrics=mf.selection_rate, y_true=[0, 1], y_pred=[1, 1], sensitive_features=["a", "b"]
    )
    json.dumps(mframe.to_dict())
    assert "<table" in mframe._repr_html_()


def test_summary_names_and_values() -> None:
    r = mf.group_rates(Y_TRUE, Y_PRED, sensitive_features=SF)
    s = r.summary("a")
    assert s["equalized_odds_difference"] == mf.equalized_odds_difference(
        Y_TRUE, Y_PRED, sensitive_features=SF
    )
    assert s["disparate_impact"] == mf.disparate_impact(Y_TRUE, Y_PRED, sensitive_features=SF, privileged="a")
    assert s["average_odds_difference"] != s["average_odds_difference"]  # FPR of b undefined → NaN
    s0 = mf.group_rates(Y_TRUE, Y_PRED, sensitive_features=SF, zero_division=0).summary("a")
    assert s0["average_odds_difference"] == pytest.approx(0.5 * ((0 - 0.5) + (1 - 0.5)))


def test_credit_data_reference_values() -> None:
    path = "/work/shared/data/credit_default_taiwan.csv.gz"
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        pytest.skip("credit data not available")
    y = df["default payment next month"]
    r = mf.group_rates(y, y, sensitive_features=df["SEX"])
    assert r.by_group["count"].tolist() == [11888, 18112]
    assert r.by_group["base_rate"].round(3).tolist() == [0.242, 0.208]
