"""log_model / load_model end to end: SQLite + local artifacts, S3 through the cache, models:/ URIs."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlops
from mlops import Client
from mlops.errors import AlreadyExistsError, IntegrityError, InvalidInputError, NotFoundError
from mlops.models import MANIFEST_FILE, load_model

FRAME = pd.DataFrame(
    {
        "age": [25, 32, 47, 51, 62, 23, 44, 36],
        "income": [2.0, 3.5, 5.1, 4.4, 6.0, 1.5, 3.9, 4.0],
        "city": ["a", "b", "a", "c", "b", "a", "c", "b"],
    }
)
Y = np.array([0, 0, 1, 1, 1, 0, 1, 0])


def _pipeline() -> Pipeline:
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age", "income"]), ("cat", OneHotEncoder(), ["city"])]
    )
    return Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(FRAME, Y)


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(f"sqlite:///{tmp_path / 'mlops.db'}", artifact_uri=str(tmp_path / "artifacts"))


def test_client_log_model_then_load_from_the_run(client: Client) -> None:
    model = _pipeline()
    run = client.create_run(client.get_or_create_experiment("models").experiment_id)
    info = client.log_model(
        run.run_id, model, "model", input_example=FRAME.head(3), metadata={"team": "risk"}
    )
    client.end_run(run.run_id)
    assert info.model_uri == f"runs:/{run.run_id}/model"
    assert info.signature is not None and info.signature.input_names == ("age", "income", "city")
    assert {i.path for i in client.list_artifacts(run.run_id, "model")} == {
        "model/mlops-model.json",
        "model/model.skops",
        "model/input_example.parquet",
    }
    loaded = load_model(info.model_uri, client=client)
    assert loaded.manifest_sha256 == info.manifest_sha256
    assert loaded.metadata["team"] == "risk" and loaded.metadata["flavor"] == "sklearn"
    assert loaded.manifest.libraries["scikit-learn"]
    np.testing.assert_array_equal(loaded.predict(FRAME), model.predict(FRAME))
    np.testing.assert_array_equal(loaded.predict_proba(FRAME), model.predict_proba(FRAME))
    pd.testing.assert_frame_equal(loaded.input_example, FRAME.head(3))
    # the signature is enforced: order fixed, int32 widened, unknown/missing columns refused
    shuffled = FRAME[["city", "income", "age"]].astype({"age": "int32"})
    np.testing.assert_array_equal(loaded.predict(shuffled), model.predict(FRAME))
    with pytest.raises(InvalidInputError, match="'income'"):
        loaded.predict(FRAME.drop(columns="income"))
    with pytest.raises(InvalidInputError, match="'age'"):
        loaded.predict(FRAME.assign(age=FRAME["age"] + 0.5))


def test_fluent_log_model_and_a_second_log_under_the_same_name(tmp_path: Path) -> None:
    mlops.set_tracking_uri(f"sqlite:///{tmp_path / 'fluent.db'}")
    mlops.set_artifact_uri(str(tmp_path / "fluent-artifacts"))
    try:
        with mlops.start_run() as run:
            info = mlops.log_model(LogisticRegression().fit(FRAME[["age"]], Y), "clf")
            with pytest.raises(AlreadyExistsError, match="clf"):
                mlops.log_model(LogisticRegression().fit(FRAME[["age"]], Y), "clf")
        assert info.run_id == run.run_id
        assert mlops.load_model(info.model_uri).predict(FRAME[["age"]]).shape == (8,)
    finally:
        mlops.set_tracking_uri(None)
        mlops.set_artifact_uri(None)


def test_search_cv_is_stored_as_its_best_estimator(tmp_path: Path) -> None:
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 10.0]}, cv=2).fit(FRAME[["age", "income"]], Y)
    info = mlops.save_model(search, tmp_path / "m")
    assert info.manifest.flavor_options["from_search"] == "GridSearchCV"
    loaded = load_model(str(tmp_path / "m"))
    assert search.best_params_["C"] == loaded.raw.C
    np.testing.assert_array_equal(
        loaded.predict(FRAME[["age", "income"]]), search.predict(FRAME[["age", "income"]])
    )


class Thresholder:
    def predict(self, data: Any) -> Any:
        return (np.asarray(data)[:, 0] > 40).astype(int)

    def predict_proba(self, data: Any) -> Any:
        p = (np.asarray(data)[:, 0] / 100.0).clip(0, 1)
        return np.column_stack([1 - p, p])


def test_pyfunc_model_with_predict_proba(tmp_path: Path) -> None:
    X = FRAME[["age"]].to_numpy()
    info = mlops.save_model(Thresholder(), tmp_path / "p", serialization="cloudpickle", input_example=X)
    assert info.flavor == "pyfunc" and info.signature is not None
    loaded = load_model(tmp_path / "p", allow_pickle=True)
    assert loaded.has_predict_proba
    np.testing.assert_array_equal(loaded.predict(X), Thresholder().predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), Thresholder().predict_proba(X))
    no_proba = mlops.save_model(LogisticRegression().fit(X, Y), tmp_path / "l")
    assert load_model(no_proba.model_uri).has_predict_proba


def test_errors_for_missing_models(client: Client, tmp_path: Path) -> None:
    run = client.create_run(client.get_or_create_experiment("e").experiment_id)
    with pytest.raises(NotFoundError, match="no model"):
        load_model(f"runs:/{run.run_id}/nothing", client=client)
    with pytest.raises(NotFoundError, match="not a model directory"):
        load_model(str(tmp_path))
    with pytest.raises(AlreadyExistsError):
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x").write_text("x")
        mlops.save_model(LogisticRegression().fit(FRAME[["age"]], Y), tmp_path / "full")


# ------------------------------------------------------------------ models:/ URIs
def test_models_uri_without_the_registry_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlops.registry.uris", None)
    with pytest.raises(InvalidInputError, match="models:/ URIs need the registry"):
        load_model("models:/credit/1")


def test_models_uri_through_the_registry(tmp_path: Path) -> None:
    pytest.importorskip("mlops.registry.uris")
    uri = f"sqlite:///{tmp_path / 'reg.db'}"
    client = Client(uri, artifact_uri=str(tmp_path / "artifacts"))
    model = LogisticRegression().fit(FRAME[["age"]], Y)
    run = client.create_run(client.get_or_create_experiment("reg").experiment_id)
    info = client.log_model(run.run_id, model, "model")
    client.registry.register_model(info.model_uri, "credit", user="ann")
    mlops.set_tracking_uri(uri)
    try:
        loaded = load_model("models:/credit/1", client=client, registry_uri=uri)
    finally:
        mlops.set_tracking_uri(None)
    np.testing.assert_array_equal(loaded.predict(FRAME[["age"]]), model.predict(FRAME[["age"]]))


# ------------------------------------------------------------------ S3 through the cache
def test_log_to_s3_and_load_through_the_cache(
    tmp_path: Path, s3_bucket: str, s3_storage_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(cache))
    client = Client(
        f"sqlite:///{tmp_path / 'mlops.db'}",
        artifact_uri=f"s3://{s3_bucket}/{uuid.uuid4().hex}",
        storage_options=s3_storage_options,
    )
    model = _pipeline()
    run = client.create_run(client.get_or_create_experiment("s3").experiment_id)
    info = client.log_model(run.run_id, model, "model", input_example=FRAME.head(2))
    loaded = load_model(info.model_uri, client=client)
    cached = cache / info.manifest_sha256
    assert (cached / MANIFEST_FILE).is_file() and (cached / "model.skops").is_file()
    np.testing.assert_array_equal(loaded.predict(FRAME), model.predict(FRAME))
    # the same model from its URL, with no tracking store at all
    url = f"{client.get_run(run.run_id).artifact_uri}/model"
    by_url = load_model(url, storage_options=s3_storage_options)
    np.testing.assert_array_equal(by_url.predict(FRAME), model.predict(FRAME))
    # a corrupted cache entry is noticed and fetched again
    (cached / "model.skops").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="fetching it again"):
        again = load_model(info.model_uri, client=client)
    np.testing.assert_array_equal(again.predict(FRAME), model.predict(FRAME))
    # an extra file in the bucket is refused before anything is downloaded
    client.artifact_store(run.run_id).put_bytes("model/evil.py", b"import os")
    import shutil

    shutil.rmtree(cached)
    with pytest.raises(IntegrityError, match=r"evil\.py"):
        load_model(info.model_uri, client=client)
    assert not cached.exists()
