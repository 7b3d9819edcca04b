"""Input validation: every bad input gets an InvalidInputError with a message that says what and how."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlops.fairness as mf
from mlops.errors import InvalidInputError

SF = ["a", "a", "b", "b"]


def test_lengths_differ() -> None:
    with pytest.raises(InvalidInputError, match=r"different lengths: y_true has 4, y_pred has 3"):
        mf.group_rates([0, 1, 0, 1], [0, 1, 0], sensitive_features=SF)
    with pytest.raises(InvalidInputError, match=r"sensitive feature 'sensitive_feature_0' has 3"):
        mf.group_rates([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=SF[:3])
    with pytest.raises(InvalidInputError, match=r"sample_weight has 2"):
        mf.group_rates([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=SF, sample_weight=[1, 2])


def test_empty_input() -> None:
    with pytest.raises(InvalidInputError, match=r"empty input"):
        mf.group_rates([], [], sensitive_features=[])
    with pytest.raises(InvalidInputError, match=r"empty input"):
        mf.selection_rate([], [])


def test_labels_not_binary() -> None:
    with pytest.raises(InvalidInputError, match=r"y_true is not binary: found 3 distinct values \[0, 1, 2\]"):
        mf.group_rates([0, 1, 2, 1], [0, 1, 0, 1], sensitive_features=SF)
    with pytest.raises(InvalidInputError, match=r"y_true is not binary: found 3 distinct values"):
        mf.group_rates(["x", "y", "z", "x"], ["x"] * 4, sensitive_features=SF, pos_label="x")


def test_string_labels_need_pos_label() -> None:
    with pytest.raises(
        InvalidInputError, match=r"pos_label=1 is not among the values of y_true .*pos_label="
    ):
        mf.group_rates(["no", "yes", "no", "yes"], ["no"] * 4, sensitive_features=SF)
    r = mf.group_rates(
        ["no", "yes", "no", "yes"], ["no", "yes", "yes", "yes"], sensitive_features=SF, pos_label="yes"
    )
    assert r.by_group["selection_rate"].tolist() == [0.5, 1.0]


def test_labels_and_predictions_disagree_on_negative_label() -> None:
    with pytest.raises(InvalidInputError, match=r"together are not binary"):
        mf.group_rates([0, 1, 0, 1], [2, 1, 2, 1], sensitive_features=SF)


def test_scores_without_threshold() -> None:
    scores = [0.1, 0.73, 0.4, 0.9]
    with pytest.raises(InvalidInputError, match=r"y_pred looks like continuous scores .*pass threshold=0.5"):
        mf.group_rates([0, 1, 0, 1], scores, sensitive_features=SF)
    r = mf.group_rates([0, 1, 0, 1], scores, sensitive_features=SF, threshold=0.5)
    assert r.by_group["selection_rate"].tolist() == [0.5, 0.5]


def test_float_labels_that_are_integral_are_fine() -> None:
    r = mf.group_rates(np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 1.0, 0.0, 0.0]), sensitive_features=SF)
    assert r.by_group["selection_rate"].tolist() == [1.0, 0.0]


def test_negative_weights() -> None:
    with pytest.raises(
        InvalidInputError, match=r"sample_weight contains 1 negative value\(s\) \(e.g. \[-1.0\]\)"
    ):
        mf.group_rates([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=SF, sample_weight=[1, -1, 1, 1])
    with pytest.raises(InvalidInputError, match=r"NaN or infinite"):
        mf.group_rates([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=SF, sample_weight=[1, np.nan, 1, 1])


def test_nan_in_labels() -> None:
    with pytest.raises(InvalidInputError, match=r"y_true contains 1 missing value"):
        mf.group_rates([0, np.nan, 0, 1], [0, 1, 0, 1], sensitive_features=SF)


def test_missing_sensitive_value_is_an_error_unless_grouped() -> None:
    sf = pd.Series(["a", None, "b", "b"], name="sex")
    with pytest.raises(
        InvalidInputError, match=r"sensitive feature 'sex' has 1 missing value.*missing='group'"
    ):
        mf.group_rates([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=sf)
    r = mf.group_rates([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=sf, missing="group")
    assert r.by_group["count"].tolist() == [1, 2, 1]
    assert pd.isna(r.by_group.index[-1])


def test_bad_options() -> None:
    with pytest.raises(InvalidInputError, match=r"zero_division must be 0, 1 or float\('nan'\)"):
        mf.group_rates([0, 1], [0, 1], sensitive_features=["a", "b"], zero_division=0.5)
    with pytest.raises(InvalidInputError, match=r"method must be 'between_groups' or 'to_overall'"):
        mf.demographic_parity_difference([0, 1], [0, 1], sensitive_features=["a", "b"], method="max")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"agg must be 'worst_case' or 'mean'"):
        mf.equalized_odds_difference([0, 1], [0, 1], sensitive_features=["a", "b"], agg="max")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"privileged group 'z' does not occur"):
        mf.disparate_impact([0, 1], [0, 1], sensitive_features=["a", "b"], privileged="z")
    with pytest.raises(InvalidInputError, match=r"no unprivileged group"):
        mf.disparate_impact([0, 1], [0, 1], sensitive_features=["a", "a"], privileged="a")
    with pytest.raises(InvalidInputError, match=r"n_boot must be a positive integer"):
        mf.group_rates([0, 1], [0, 1], sensitive_features=["a", "b"]).bootstrap(n_boot=0)
    with pytest.raises(InvalidInputError, match=r"ci must be between 0 and 1"):
        mf.group_rates([0, 1], [0, 1], sensitive_features=["a", "b"]).bootstrap(ci=95)
    with pytest.raises(InvalidInputError, match=r"unknown rate 'auc'"):
        mf.group_rates([0, 1], [0, 1], sensitive_features=["a", "b"], rates=["auc"])
    with pytest.raises(InvalidInputError, match=r"sensitive_features is required"):
        mf.group_rates([0, 1], [0, 1], sensitive_features=None)


def test_errors_are_value_errors_too() -> None:
    with pytest.raises(ValueError):
        mf.group_rates([0, 1, 2], [0, 1, 1], sensitive_features=["a", "b", "c"])
