"""Bootstrap: the count-based resampling has the distribution of row resampling within groups."""

from __future__ import annotations

import numpy as np
import pytest

import mlops.fairness as mf
from mlops.fairness._counts import cell_index
from mlops.fairness.bootstrap import resample_cells


def data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    y = (rng.random(n) < 0.3 + 0.1 * g).astype(int)
    p = np.where(rng.random(n) < 0.75, y, 1 - y)
    return y, p, g


def brute_force_cells(
    y: np.ndarray, p: np.ndarray, g: np.ndarray, w: np.ndarray, n_boot: int, seed: int
) -> np.ndarray:
    """Reference: resample rows within each group with a Python loop, then count."""
    rng = np.random.default_rng(seed)
    idx = cell_index(g.astype(np.intp), y.astype(bool), p.astype(bool))
    out = np.zeros((n_boot, 3, 4))
    members = [np.flatnonzero(g == k) for k in range(3)]
    for b in range(n_boot):
        rows = np.concatenate([rng.choice(m, size=len(m), replace=True) for m in members])
        out[b] = np.bincount(idx[rows], weights=w[rows], minlength=12).reshape(3, 4)
    return out


@pytest.mark.parametrize("weights", ["none", "few", "many"])
def test_resampled_cells_match_row_resampling_in_distribution(weights: str) -> None:
    y, p, g = data()
    rng = np.random.default_rng(5)
    w = {
        "none": np.ones(len(y)),
        "few": rng.integers(1, 4, len(y)).astype(float),
        "many": rng.random(len(y)) + 0.5,
    }[weights]
    idx = cell_index(g.astype(np.intp), y.astype(bool), p.astype(bool))
    rows = np.bincount(idx, minlength=12).reshape(3, 4)
    ours = resample_cells(
        idx, 3, None if weights == "none" else w, rows, n_boot=4000, rng=np.random.default_rng(1)
    )
    ref = brute_force_cells(y, p, g, w, 4000, seed=2)
    # per-cell means and standard deviations agree within Monte Carlo error
    if weights == "none":  # stratified: every resample keeps each group's size
        assert (ours.sum(axis=2) == rows.sum(axis=1)).all()
    se = ref.std(axis=0) / np.sqrt(4000) * np.sqrt(2)
    assert np.all(np.abs(ours.mean(axis=0) - ref.mean(axis=0)) <= 5 * se + 1e-9)
    np.testing.assert_allclose(ours.std(axis=0), ref.std(axis=0), rtol=0.12, atol=1e-9)


def test_interval_covers_estimate_and_is_reproducible() -> None:
    y, p, g = data(2000)
    r = mf.group_rates(y, p, sensitive_features=g)
    b1 = r.bootstrap(n_boot=300, random_state=7, privileged=0)
    b2 = r.bootstrap(n_boot=300, random_state=7, privileged=0)
    assert b1.aggregates.equals(b2.aggregates)
    agg = b1.aggregates
    for name in (
        "equalized_odds_difference",
        "demographic_parity_ratio",
        "disparate_impact",
        "false_positive_rate_difference",
    ):
        row = agg.loc[name]
        assert row["lower"] <= row["upper"] and row["n_defined"] == 300
        assert row["estimate"] == pytest.approx(r.summary(0)[name])
    # roughly: the percentile interval of a group's selection rate has the binomial width
    sel = b1.by_group["selection_rate"]
    n0 = (g == 0).sum()
    p0 = sel.loc[0, "estimate"]
    width = sel.loc[0, "upper"] - sel.loc[0, "lower"]
    assert width == pytest.approx(2 * 1.96 * np.sqrt(p0 * (1 - p0) / n0), rel=0.2)
    assert set(b1.overall.index) == set(r.rates)


def test_undefined_resamples_are_counted() -> None:
    # group b has a single negative row: resamples without it leave b's FPR undefined
    y = [1, 0, 1, 0] * 10 + [1] * 9 + [0]
    p = [1, 0, 0, 1] * 10 + [1] * 10
    g = ["a"] * 40 + ["b"] * 10
    b = mf.group_rates(y, p, sensitive_features=g).bootstrap(n_boot=400, random_state=0)
    nd = b.by_group[("false_positive_rate", "n_defined")].loc["b"]
    assert 0 < nd < 400  # P(row drawn at least once) = 1 - 0.9**10 ≈ 0.65
    assert abs(nd / 400 - (1 - 0.9**10)) < 0.1
