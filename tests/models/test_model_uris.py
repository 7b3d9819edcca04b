"""Model URI parsing: every accepted form round-trips, anything else is an InvalidInputError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops.entities import MODEL_STAGES
from mlops.errors import InvalidInputError
from mlops.models import ModelURI, parse_model_uri


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("runs:/abc123/model", ModelURI(kind="runs", run_id="abc123", path="model")),
        ("runs:/abc/sub/model", ModelURI(kind="runs", run_id="abc", path="sub/model")),
        ("models:/credit/3", ModelURI(kind="models", name="credit", version=3)),
        ("models:/credit/Production", ModelURI(kind="models", name="credit", stage="Production")),
        ("models:/credit/staging", ModelURI(kind="models", name="credit", stage="Staging")),
        ("models:/credit/latest", ModelURI(kind="models", name="credit")),
        ("models:/credit@champion", ModelURI(kind="models", name="credit", alias="champion")),
        ("/tmp/model", ModelURI(kind="path", location="/tmp/model")),
        ("rel/model", ModelURI(kind="path", location="rel/model")),
        ("file:///tmp/model", ModelURI(kind="path", location="/tmp/model")),
        ("s3://bucket/model", ModelURI(kind="url", location="s3://bucket/model")),
        ("gs://bucket/model", ModelURI(kind="url", location="gs://bucket/model")),
    ],
)
def test_forms(uri: str, expected: ModelURI) -> None:
    assert parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "runs:",
        "runs:/",
        "runs:/abc",
        "runs:/abc/",
        "runs:/abc/../x",
        "runs:abc/model",
        "runs:/a b/m",
        "models:/",
        "models:/x",
        "models:/x/",
        "models:/x/0",
        "models:/x/01",
        "models:/x/Prod",
        "models:/@a",
        "models:/x@",
        "models:/x@a/b",
        "models:/a/b/3",
        "models:credit/1",
    ],
)
def test_malformed(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_model_uri(uri)


_name = st.text(st.characters(codec="utf-8", exclude_characters="/@\x00"), min_size=1, max_size=20).filter(
    lambda s: s == s.strip() and bool(s)
)
_alias = st.text("abcXYZ019_-", min_size=1, max_size=10)
_segment = st.text("abcdefghij0123456789_-.", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
_uris = st.one_of(
    st.builds(
        lambda r, p: ModelURI(kind="runs", run_id=r, path="/".join(p)),
        st.text("abcdef0123456789-_", min_size=1, max_size=32),
        st.lists(_segment, min_size=1, max_size=3),
    ),
    st.builds(lambda n, v: ModelURI(kind="models", name=n, version=v), _name, st.integers(1, 10**6)),
    st.builds(lambda n, s: ModelURI(kind="models", name=n, stage=s), _name, st.sampled_from(MODEL_STAGES)),
    st.builds(lambda n: ModelURI(kind="models", name=n), _name),
    st.builds(lambda n, a: ModelURI(kind="models", name=n, alias=a), _name, _alias),
)


@settings(max_examples=300, deadline=None)
@given(_uris)
def test_format_then_parse_round_trips(uri: ModelURI) -> None:
    assert parse_model_uri(str(uri)) == uri


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_parses_or_is_an_invalid_input_error(text: str) -> None:
    try:
        parsed = parse_model_uri(text)
    except InvalidInputError:
        return
    assert parse_model_uri(str(parsed)).kind == parsed.kind
