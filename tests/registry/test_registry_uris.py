"""models:/ and runs:/ URI parsing (hypothesis) and resolution against a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlops.errors import InvalidInputError, NotFoundError
from mlops.registry import RegistryClient, parse_models_uri, parse_runs_uri, resolve_models_uri

NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/@"), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
ALIASES = st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True)
STAGE_SPELLINGS = st.sampled_from(["None", "Staging", "Production", "Archived"]).flatmap(
    lambda s: st.sampled_from([s, s.lower(), s.upper()])
)


@given(NAMES, st.integers(min_value=1, max_value=10**12))
def test_version_uris_round_trip(name: str, version: int) -> None:
    parsed = parse_models_uri(f"models:/{name}/{version}")
    assert (parsed.name, parsed.version, parsed.stage, parsed.alias) == (name, version, None, None)


@given(NAMES, STAGE_SPELLINGS)
def test_stage_uris_round_trip_in_any_case(name: str, stage: str) -> None:
    parsed = parse_models_uri(f"models:/{name}/{stage}")
    assert parsed.name == name
    assert parsed.stage is not None and parsed.stage.lower() == stage.lower()


@given(NAMES, ALIASES)
def test_alias_uris_round_trip(name: str, alias: str) -> None:
    parsed = parse_models_uri(f"models:/{name}@{alias}")
    assert (parsed.name, parsed.alias, parsed.version) == (name, alias, None)


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_invalid_input(text: str) -> None:
    for candidate in (text, f"models:/{text}"):
        try:
            parsed = parse_models_uri(candidate)
        except InvalidInputError:
            continue
        selectors = [parsed.version, parsed.stage, parsed.alias, parsed.latest or None]
        assert parsed.name.strip() and sum(s is not None for s in selectors) == 1


@pytest.mark.parametrize(
    "uri",
    [
        "models:/",
        "models:/credit",
        "models:/credit/",
        "models:/credit/0",
        "models:/credit/prod",
        "models:/credit/1/extra",
        "models:/credit@",
        "models:/credit@bad alias",
        "models:/@champion",
        "models:/ /1",
        "runs:/abc/model",
        "credit/1",
    ],
)
def test_malformed_models_uris_are_rejected_with_the_uri(uri: str) -> None:
    with pytest.raises(InvalidInputError, match=r"models:/|model URI"):
        parse_models_uri(uri)


@given(
    st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}", fullmatch=True),
)
def test_runs_uris_round_trip(run_id: str, path: str) -> None:
    assert parse_runs_uri(f"runs:/{run_id}/{path}") == (run_id, path)


@pytest.mark.parametrize("uri", ["runs:/", "runs://model", "runs:/a b/model", "models:/x/1", "s3://b/k"])
def test_malformed_runs_uris(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_runs_uri(uri)


def test_resolve_every_form(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'r.db'}"
    reg = RegistryClient(uri, user="ann")
    for i in (1, 2, 3):
        reg.register_model(f"s3://b/credit/{i}", "credit")
    reg.transition_stage("credit", 1, "Production")
    reg.transition_stage("credit", 2, "Production")
    reg.set_alias("credit", "champion", 1)
    resolve = lambda u: resolve_models_uri(u, registry_uri=uri)  # noqa: E731
    assert resolve("models:/credit/3") == "s3://b/credit/3"
    assert resolve("models:/credit/Production") == "s3://b/credit/2"  # the latest in the stage
    assert resolve("models:/credit/production") == "s3://b/credit/2"
    assert resolve("models:/credit/latest") == "s3://b/credit/3"
    assert resolve("models:/credit@champion") == "s3://b/credit/1"
    for missing in ("models:/nope/1", "models:/credit/9", "models:/credit/Staging", "models:/credit@ghost"):
        with pytest.raises(NotFoundError):
            resolve(missing)
    with pytest.raises(InvalidInputError):
        resolve("models:/credit")


def test_resolve_defaults_to_the_fluent_tracking_uri(tmp_path: Path) -> None:
    import mlops

    uri = f"sqlite:///{tmp_path / 'fluent.db'}"
    mlops.set_tracking_uri(uri)
    try:
        mlops.register_model("s3://b/m", "credit")
        assert resolve_models_uri("models:/credit/1") == "s3://b/m"
    finally:
        mlops.set_tracking_uri(None)
