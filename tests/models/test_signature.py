"""Signature inference and enforcement: names, order, casts, nullable dtypes, tensors and records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.errors import InvalidInputError
from mlops.models import ColumnSpec, Schema, Signature, TensorSpec, infer_signature


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45, 27], dtype="int64"),
            "income": [5.0, 7.5, 3.2],
            "city": ["a", "b", "c"],
            "kids": pd.array([1, None, 2], dtype="Int64"),
            "owner": pd.array([True, None, False], dtype="boolean"),
        }
    )


def test_inferred_columns_keep_nullable_dtypes(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    specs = {c.name: c for c in sig.inputs.columns or ()}
    assert specs["kids"] == ColumnSpec("kids", "Int64", True)
    assert specs["owner"] == ColumnSpec("owner", "boolean", True)
    assert specs["age"] == ColumnSpec("age", "int64", False)
    assert Signature.from_dict(sig.to_dict()) == sig


def test_missing_and_unknown_columns_are_named(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    with pytest.raises(InvalidInputError, match=r"missing column\(s\) \['income'\]"):
        sig.validate(frame.drop(columns="income"))
    with pytest.raises(InvalidInputError, match=r"unknown column\(s\) \['zip'\]"):
        sig.validate(frame.assign(zip=1))


def test_columns_come_back_in_signature_order(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    shuffled = frame[["owner", "city", "income", "kids", "age"]]
    out = sig.validate(shuffled)
    assert list(out.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(out, frame)


@pytest.mark.parametrize(
    "expected, given, ok",
    [
        ("int64", "int32", True),
        ("int64", "int8", True),
        ("int64", "uint32", True),
        ("float64", "int32", True),
        ("float64", "float32", True),
        ("float64", "int64", True),  # values within 2**53 are exact
        ("Int64", "int64", True),
        ("boolean", "bool", True),
        ("int64", "Int64", True),  # no missing values in the batch
        ("int64", "float64", False),
        ("int32", "int64", False),
        ("float32", "float64", False),
        ("int64", "bool", False),
        ("float64", "bool", False),
        ("bool", "int64", False),
        ("str", "int64", False),
    ],
)
def test_casts(expected: str, given: str, ok: bool) -> None:
    sig = Signature(Schema(columns=(ColumnSpec("x", expected),)))
    values = [1, 0, 1] if given not in ("bool",) else [True, False, True]
    batch = pd.DataFrame({"x": pd.array(values, dtype=given)})
    if ok:
        out = sig.validate(batch)
        assert str(out["x"].dtype) == expected
        assert out["x"].tolist() == batch["x"].tolist()
    else:
        with pytest.raises(InvalidInputError, match="column 'x'"):
            sig.validate(batch)


def test_int_to_float_beyond_2_53_is_lossy() -> None:
    sig = Signature(Schema(columns=(ColumnSpec("x", "float64"),)))
    with pytest.raises(InvalidInputError, match="rounded"):
        sig.validate(pd.DataFrame({"x": np.array([2**53 + 1], dtype="int64")}))


def test_missing_values_into_a_plain_int_column_are_refused() -> None:
    sig = Signature(Schema(columns=(ColumnSpec("n", "int64"),)))
    with pytest.raises(InvalidInputError, match="missing values"):
        sig.validate(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))


def test_nullable_int_to_float_maps_missing_to_nan() -> None:
    sig = Signature(Schema(columns=(ColumnSpec("n", "float64", True),)))
    out = sig.validate(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))
    assert out["n"].dtype == "float64" and np.isnan(out["n"].iloc[1])


def test_string_and_object_columns(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame[["city"]])
    assert sig.validate(pd.DataFrame({"city": np.array(["x"], dtype=object)}))["city"].tolist() == ["x"]
    with pytest.raises(InvalidInputError, match="not strings"):
        sig.validate(pd.DataFrame({"city": np.array([1], dtype=object)}))


def test_dict_input_and_records(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame[["age", "income"]])
    assert sig.validate({"income": [1.0], "age": [3]}).columns.tolist() == ["age", "income"]
    assert sig.validate({"income": 1.0, "age": 3}).shape == (1, 2)
    assert sig.record_to_array({"income": 2.5, "age": 3}).tolist() == [[3.0, 2.5]]
    with pytest.raises(InvalidInputError, match="'age' expects int64"):
        sig.record_to_array({"income": 2.5, "age": 3.5})
    with pytest.raises(InvalidInputError, match=r"missing column\(s\) \['age'\]"):
        sig.record_to_array({"income": 2.5})
    with pytest.raises(InvalidInputError, match="cannot be missing"):
        sig.record_to_array({"income": 2.5, "age": None})


def test_record_to_frame_keeps_nullable_dtypes(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    one = sig.record_to_frame({"age": 1, "income": 2.0, "city": "z", "kids": None, "owner": None})
    assert one.dtypes.astype(str).tolist() == ["int64", "float64", "str", "Int64", "boolean"]
    mixed = sig.record_to_array({"age": 1, "income": 2.0, "city": "z", "kids": None, "owner": True})
    assert mixed.dtype == object and mixed.shape == (1, 5)


def test_tensor_signatures() -> None:
    sig = infer_signature(np.zeros((4, 3), dtype="float32"), np.zeros(4))
    assert sig.inputs.tensor == TensorSpec("float32", (-1, 3))
    assert sig.validate(np.ones((2, 3), dtype="int8")).dtype == np.float32
    with pytest.raises(InvalidInputError, match="shape"):
        sig.validate(np.ones((2, 4)))
    with pytest.raises(InvalidInputError, match="lose information"):
        sig.validate(np.ones((2, 3), dtype="float64"))


def test_text_tensor() -> None:
    sig = infer_signature(["a b", "c"])
    assert sig.inputs.tensor == TensorSpec("str", (-1,))
    assert list(sig.validate(np.array(["x"], dtype=object))) == ["x"]
    with pytest.raises(InvalidInputError, match="not strings"):
        sig.validate(np.array([1, "x"], dtype=object))


def test_compiled_checks_are_reused(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    sig.validate(frame)
    checks = sig._column_checks
    sig.validate(frame)
    assert sig._column_checks is checks


# ------------------------------------------------------------------ property tests
DTYPES = ["int64", "int32", "float64", "float32", "bool", "Int64", "boolean", "str", "Float64"]


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 6))
    names = draw(st.lists(st.text("abcxyz_", min_size=1, max_size=4), min_size=1, max_size=5, unique=True))
    cols = {}
    for name in names:
        dtype = draw(st.sampled_from(DTYPES))
        if dtype in ("int64", "int32"):
            values: list = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
        elif dtype in ("float64", "float32"):
            values = draw(st.lists(st.floats(-1e6, 1e6, width=32), min_size=n, max_size=n))
        elif dtype == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        elif dtype == "Int64":
            values = draw(st.lists(st.none() | st.integers(-1000, 1000), min_size=n, max_size=n))
        elif dtype == "Float64":
            values = draw(st.lists(st.none() | st.floats(-1e6, 1e6, width=32), min_size=n, max_size=n))
        elif dtype == "boolean":
            values = draw(st.lists(st.none() | st.booleans(), min_size=n, max_size=n))
        else:
            values = draw(st.lists(st.text(max_size=3), min_size=n, max_size=n))
        cols[name] = pd.array(values, dtype=dtype)
    return pd.DataFrame(cols)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.randoms(use_true_random=False))
def test_validate_is_identity_on_its_own_frames_in_any_order(frame: pd.DataFrame, rnd) -> None:
    sig = infer_signature(frame)
    assert Signature.from_dict(sig.to_dict()) == sig
    order = list(frame.columns)
    rnd.shuffle(order)
    out = sig.validate(frame[order])
    pd.testing.assert_frame_equal(out, frame)
    assert [str(t) for t in out.dtypes] == [c.dtype for c in sig.inputs.columns or ()]


@settings(max_examples=60, deadline=None)
@given(frames())
def test_narrower_ints_are_widened_losslessly(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    narrowed = frame.copy()
    for name in frame.columns:
        if str(frame[name].dtype) == "int64":
            narrowed[name] = frame[name].astype("int32")
        elif str(frame[name].dtype) == "bool":
            narrowed[name] = frame[name].astype("boolean")  # bool -> boolean -> bool when no NA
    out = sig.validate(narrowed)
    pd.testing.assert_frame_equal(out, frame)


@settings(max_examples=60, deadline=None)
@given(frames())
def test_records_match_the_frame(frame: pd.DataFrame) -> None:
    sig = infer_signature(frame)
    record = {name: frame[name].iloc[0] for name in frame.columns}
    record = {k: (None if v is pd.NA else v.item() if hasattr(v, "item") else v) for k, v in record.items()}
    one = sig.record_to_frame(record)
    assert list(one.columns) == list(frame.columns)
    assert [str(t) for t in one.dtypes] == [str(t) for t in frame.dtypes]
    array = sig.record_to_array(record)
    assert array.shape == (1, len(frame.columns))


@settings(max_examples=40, deadline=None)
@given(frames(), st.data())
def test_a_dropped_or_extra_column_is_always_named(frame: pd.DataFrame, data: st.DataObject) -> None:
    sig = infer_signature(frame)
    victim = data.draw(st.sampled_from(list(frame.columns)))
    with pytest.raises(InvalidInputError, match=repr(victim)):
        sig.validate(frame.drop(columns=victim))
    with pytest.raises(InvalidInputError, match="'zz_extra'"):
        sig.validate(frame.assign(zz_extra=1))
