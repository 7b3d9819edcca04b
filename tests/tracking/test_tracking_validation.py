"""Validation of keys, names and values before they reach a store (property tests included)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlops.errors import InvalidInputError
from mlops.tracking import validation as v


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_float_is_a_valid_metric_value(x: float) -> None:
    _, value, _ = v.metric_point("m", x, 0)
    assert (math.isnan(x) and math.isnan(value)) or value == x


@given(st.one_of(st.text(), st.none(), st.booleans(), st.complex_numbers(), st.lists(st.integers())))
def test_non_numbers_are_refused(x: object) -> None:
    with pytest.raises(InvalidInputError, match="real number"):
        v.metric_point("m", x, 0)


@given(st.text(max_size=300))
def test_accepted_keys_are_safe(key: str) -> None:
    try:
        v.validate_key(key, "metric")
    except InvalidInputError as e:
        assert repr(key) in str(e)  # the message names the offending key
        return
    assert 1 <= len(key) <= 250
    assert not key.startswith("/") and ".." not in key.split("/") and "." not in key.split("/")
    assert all(c.isalnum() or c in "_-. /:" for c in key)
    assert key == key.strip()


@pytest.mark.parametrize("key", ["loss", "train/loss", "val.auc", "a b", "ключ", "m:1", "x-y_z"])
def test_good_keys(key: str) -> None:
    assert v.validate_key(key, "param") == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "a" * 251,
        "/abs",
        "a/../b",
        "./a",
        "a\\b",
        "a\x00",
        "tab\there",
        "quote'",
        " lead",
        3,
        None,
        ["k"],
        {"k": 1},
    ],
)
def test_bad_keys(key: object) -> None:
    with pytest.raises(InvalidInputError):
        v.validate_key(key, "tag")


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_steps(step: int) -> None:
    assert v.validate_step(step) == step
    assert v.validate_step(np.int64(step)) == step


@pytest.mark.parametrize("step", [-1, 2**63, np.uint64(2**63), 1.0, "1", True, None, np.float64(2)])
def test_bad_steps(step: object) -> None:
    with pytest.raises(InvalidInputError, match="step"):
        v.validate_step(step)
    with pytest.raises(InvalidInputError, match="timestamp"):
        v.validate_timestamp(step)


def test_names() -> None:
    assert v.validate_name("credit default", "experiment") == "credit default"
    for bad in ("", " ", "x" * 257, "a\tb", None):
        with pytest.raises(InvalidInputError):
            v.validate_name(bad, "run")


def test_param_and_tag_values_are_stringified() -> None:
    assert v.validate_param_value("C", 0.1) == "0.1"
    assert v.validate_param_value("p", None) == "None"
    assert v.validate_tag_value("t", True) == "True"
    with pytest.raises(InvalidInputError, match="8000"):
        v.validate_param_value("p", "x" * 8001)
