"""Property tests (hypothesis): counts, brute-force agreement, invariances, weights."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import mlops.fairness as mf

RATES = [
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "accuracy",
    "base_rate",
]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(1, 60))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    g1 = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    g2 = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    w = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    return {
        "y": np.array(y),
        "p": np.array(p),
        "g1": np.array(g1, dtype=object),
        "g2": np.array(g2),
        "w": np.array(w, dtype=float),
    }


def brute_force(y: np.ndarray, p: np.ndarray, groups: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    df = groups.copy()
    df["tp"] = w * ((y == 1) & (p == 1))
    df["fp"] = w * ((y == 0) & (p == 1))
    df["fn"] = w * ((y == 1) & (p == 0))
    df["tn"] = w * ((y == 0) & (p == 0))
    s = df.groupby(list(groups.columns), sort=True)[["tp", "fp", "fn", "tn"]].sum()

    def div(a: pd.Series, b: pd.Series) -> pd.Series:
        return (a / b.where(b > 0)).astype(float)

    return pd.DataFrame(
        {
            "selection_rate": div(s.tp + s.fp, s.sum(axis=1)),
            "true_positive_rate": div(s.tp, s.tp + s.fn),
            "false_positive_rate": div(s.fp, s.fp + s.tn),
            "false_negative_rate": div(s.fn, s.tp + s.fn),
            "true_negative_rate": div(s.tn, s.tn + s.fp),
            "precision": div(s.tp, s.tp + s.fp),
            "accuracy": div(s.tp + s.tn, s.sum(axis=1)),
            "base_rate": div(s.tp + s.fn, s.sum(axis=1)),
        }
    )


@settings(max_examples=60, deadline=None)
@given(cases())
def test_counts_sum_to_totals_and_rates_match_pandas(c: dict[str, np.ndarray]) -> None:
    sf = pd.DataFrame({"g1": c["g1"], "g2": c["g2"]})
    r = mf.group_rates(c["y"], c["p"], sensitive_features=sf, sample_weight=c["w"])
    assert r.by_group["count"].sum() == len(c["y"])
    assert r.confusion.to_numpy().sum() == c["w"].sum()
    assert r.counts.rows.sum() == len(c["y"])
    expected = brute_force(c["y"], c["p"], sf, c["w"])
    got = r.by_group[RATES]
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected[RATES].to_numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_aggregates_invariant_to_row_order_and_label_renaming(c: dict[str, np.ndarray], rnd: object) -> None:
    n = len(c["y"])
    perm = np.random.default_rng(abs(hash(str(rnd))) % 2**32).permutation(n)
    base = mf.group_rates(c["y"], c["p"], sensitive_features=c["g1"], sample_weight=c["w"]).summary()
    shuffled = mf.group_rates(
        c["y"][perm], c["p"][perm], sensitive_features=c["g1"][perm], sample_weight=c["w"][perm]
    ).summary()
    renamed_groups = np.array([{"a": "zz", "b": "yy", "c": "xx"}[v] for v in c["g1"]], dtype=object)
    labels = np.array(["bad", "good"], dtype=object)
    renamed = mf.group_rates(
        labels[c["y"]],
        labels[c["p"]],
        sensitive_features=renamed_groups,
        sample_weight=c["w"],
        pos_label="good",
    ).summary()
    np.testing.assert_allclose(shuffled.to_numpy(), base.to_numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(renamed.to_numpy(), base.to_numpy(), rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(cases())
def test_weight_two_equals_duplicated_rows(c: dict[str, np.ndarray]) -> None:
    w = c["w"] % 3  # weights 0, 1, 2
    weighted = mf.group_rates(c["y"], c["p"], sensitive_features=c["g1"], sample_weight=w)
    rep = w.astype(int)
    dup = (
        mf.group_rates(
            np.repeat(c["y"], rep), np.repeat(c["p"], rep), sensitive_features=np.repeat(c["g1"], rep)
        )
        if rep.sum()
        else None
    )
    if dup is None:
        assert weighted.confusion.to_numpy().sum() == 0
        return
    kept = weighted.by_group.loc[dup.by_group.index, RATES]
    np.testing.assert_allclose(kept.to_numpy(), dup.by_group[RATES].to_numpy(), rtol=1e-12, atol=1e-15)
    for name in ("equalized_odds_difference", "demographic_parity_ratio"):
        a = float(
            mf.equalized_odds_difference(
                np.repeat(c["y"], rep), np.repeat(c["p"], rep), sensitive_features=np.repeat(c["g1"], rep)
            )
            if name.startswith("eq")
            else mf.demographic_parity_ratio(
                np.repeat(c["y"], rep), np.repeat(c["p"], rep), sensitive_features=np.repeat(c["g1"], rep)
            )
        )
        # groups whose rows all have weight 0 exist only on the weighted side: they are undefined there
        b = float(
            mf.group_rates(
                c["y"][rep > 0],
                c["p"][rep > 0],
                sensitive_features=c["g1"][rep > 0],
                sample_weight=w[rep > 0],
            ).summary()[name]
        )
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
