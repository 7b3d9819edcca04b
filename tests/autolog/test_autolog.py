"""mlops.autolog() for scikit-learn: what each top-level fit records, and what it never changes."""

from __future__ import annotations

import itertools
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlops
from mlops.autologging import patching
from mlops.autologging.extract import flatten_params
from mlops.entities import Run


@pytest.fixture(autouse=True)
def store(tmp_path: Path) -> Iterator[Path]:
    mlops.set_tracking_uri(f"sqlite:///{tmp_path / 'mlops.db'}")
    mlops.set_artifact_uri((tmp_path / "artifacts").as_uri())
    mlops.set_experiment("autolog")
    mlops.autolog(silent=False)
    yield tmp_path
    mlops.autolog(disable=True)
    while mlops.active_run():
        mlops.end_run()
    mlops.set_tracking_uri(None)
    mlops.set_artifact_uri(None)


def _runs() -> list[Run]:
    mlops.flush()
    runs = mlops.search_runs(output_format="list", order_by=["start_time ASC"])
    assert isinstance(runs, list)
    return runs


def _data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=300, n_features=6, random_state=0)


def test_a_fit_records_params_metrics_tags_dataset_and_model() -> None:
    X, y = _data()
    model = LogisticRegression(C=0.5, max_iter=200)
    returned = model.fit(X, y)
    assert returned is model
    (run,) = _runs()
    assert run.status == "FINISHED"
    assert dict(run.params) == flatten_params(model)
    assert set(model.get_params(deep=True)) == set(run.params)
    assert run.tags["estimator_name"] == "LogisticRegression"
    assert run.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    expected = {
        "training_accuracy_score",
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_log_loss",
        "training_roc_auc",
        "training_score",
        "training_fit_time_s",
    }
    assert expected <= set(run.metrics)
    assert run.metrics["training_accuracy_score"] == pytest.approx(model.score(X, y))
    (dataset,) = run.inputs
    assert dataset.name == "training" and dataset.num_rows == 300
    loaded = mlops.load_model(f"runs:/{run.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_regressor_metrics() -> None:
    X, y = make_regression(n_samples=200, n_features=4, noise=1.0, random_state=0)
    model = LinearRegression().fit(X, y)
    (run,) = _runs()
    assert run.metrics["training_r2_score"] == pytest.approx(model.score(X, y))
    assert run.metrics["training_root_mean_squared_error"] == pytest.approx(
        run.metrics["training_mean_squared_error"] ** 0.5
    )


def test_sample_weight_and_other_fit_kwargs_pass_through() -> None:
    X, y = _data()
    weights = np.where(y == 1, 3.0, 1.0)
    with_weights = LogisticRegression(max_iter=200).fit(X, y, sample_weight=weights)
    mlops.autolog(disable=True)
    reference = LogisticRegression(max_iter=200).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(with_weights.coef_, reference.coef_)
    (run,) = _runs()
    from sklearn.metrics import accuracy_score

    assert run.metrics["training_accuracy_score"] == pytest.approx(
        accuracy_score(y, with_weights.predict(X), sample_weight=weights)
    )


def test_pipeline_logs_once() -> None:
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    (run,) = _runs()
    assert run.tags["estimator_name"] == "Pipeline"
    assert run.params["logisticregression__C"] == "1.0"
    assert (
        run.params["steps"]
        == "[('standardscaler', 'StandardScaler'), ('logisticregression', 'LogisticRegression')]"
    )
    np.testing.assert_array_equal(mlops.load_model(f"runs:/{run.run_id}/model").predict(X), pipe.predict(X))


def test_column_transformer_pipeline_with_a_frame() -> None:
    frame = pd.DataFrame({"age": np.arange(60) % 50 + 20, "sex": ["m", "f", "x"] * 20})
    y = (frame["age"] > 40).astype(int)
    prep = ColumnTransformer([("num", StandardScaler(), ["age"]), ("cat", OneHotEncoder(), ["sex"])])
    pipe = Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(frame, y)
    (run,) = _runs()
    assert run.params["prep__cat__handle_unknown"] == "error"
    loaded = mlops.load_model(f"runs:/{run.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))
    assert len(run.inputs) == 1 and '"name": "sex"' in run.inputs[0].schema


def test_grid_search_parent_and_best_first_children() -> None:
    X, y = _data()
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.01, 0.1, 1.0, 10.0]}, cv=3)
    search.fit(X, y)
    runs = _runs()
    parent = next(r for r in runs if r.tags["estimator_name"] == "GridSearchCV")
    children = [r for r in runs if r.parent_run_id == parent.run_id]
    assert len(runs) == 1 + 4  # no run for the CV fits or the refit
    assert parent.params["best_C"] == str(search.best_params_["C"])
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    # Best first: no better-ranked child starts after a worse-ranked one. (Start times are in
    # milliseconds and several children can share one, so the order within a millisecond is open.)
    by_rank = sorted(children, key=lambda r: (r.metrics["rank_test_score"], r.start_time))
    assert all(a.start_time <= b.start_time for a, b in itertools.pairwise(by_rank))
    ranks = sorted(r.metrics["rank_test_score"] for r in children)
    assert ranks == sorted(search.cv_results_["rank_test_score"])
    assert {r.params["C"] for r in children} == {"0.01", "0.1", "1.0", "10.0"}
    table = pd.read_csv(mlops.get_client().artifact_store(parent.run_id).open_read("cv_results.csv"))
    assert len(table) == 4 and "mean_test_score" in table.columns
    best = mlops.load_model(f"runs:/{parent.run_id}/model")  # the best estimator
    np.testing.assert_array_equal(best.predict(X), search.best_estimator_.predict(X))


def test_max_tuning_runs_caps_children() -> None:
    mlops.autolog(max_tuning_runs=2, log_models=False)
    X, y = _data()
    GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.01, 0.1, 1.0, 10.0]}, cv=2).fit(X, y)
    assert len(_runs()) == 1 + 2


def test_fits_inside_an_active_run_log_into_it() -> None:
    X, y = _data()
    with mlops.start_run() as run:
        LogisticRegression().fit(X, y)
        assert mlops.active_run() is run  # autolog did not end the user's run
    (only,) = _runs()
    assert only.run_id == run.run_id and "training_accuracy_score" in only.metrics


def test_exclusive_logs_to_a_child_of_the_active_run() -> None:
    mlops.autolog(exclusive=True)
    X, y = _data()
    with mlops.start_run() as run:
        LogisticRegression().fit(X, y)
    runs = _runs()
    child = next(r for r in runs if r.run_id != run.run_id)
    assert child.parent_run_id == run.run_id and child.status == "FINISHED"
    assert "C" not in mlops.get_run(run.run_id).params


def test_a_failing_fit_raises_unchanged_and_fails_the_run() -> None:
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LogisticRegression().fit(np.array([[np.nan, 1.0], [1.0, 2.0]]), [0, 1])
    (run,) = _runs()
    assert run.status == "FAILED"


def test_logging_errors_become_warnings_and_the_fit_still_works(store: Path) -> None:
    client = mlops.get_client()
    exp = client.get_or_create_experiment("doomed")
    mlops.set_experiment("doomed")
    client.delete_experiment(exp.experiment_id)  # creating a run there now fails
    X, y = _data()
    with pytest.warns(UserWarning, match="mlops autolog: could not start logging"):
        model = LogisticRegression().fit(X, y)
    assert model.score(X, y) > 0.5


def test_silent_suppresses_warnings() -> None:
    mlops.autolog(silent=True)
    client = mlops.get_client()
    mlops.set_experiment("doomed")
    client.delete_experiment(client.get_or_create_experiment("doomed").experiment_id)
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression().fit(X, y)


def test_disable_restores_the_original_methods() -> None:
    from sklearn.base import TransformerMixin

    assert patching.is_patched()
    assert hasattr(LogisticRegression.fit, "__mlops_autolog_original__")
    mlops.autolog(disable=True)
    assert not patching.is_patched()
    assert not hasattr(LogisticRegression.fit, "__mlops_autolog_original__")
    assert not hasattr(TransformerMixin.fit_transform, "__mlops_autolog_original__")
    X, y = _data()
    LogisticRegression().fit(X, y)
    assert _runs() == []


def test_fit_transform_and_fit_predict_are_recorded_once() -> None:
    from sklearn.cluster import KMeans

    X, _ = _data()
    StandardScaler().fit_transform(X)
    labels = KMeans(n_clusters=3, n_init=2, random_state=0).fit_predict(X)
    runs = _runs()
    assert [r.tags["mlops.autolog.method"] for r in runs] == ["fit_transform", "fit_predict"]
    assert len(set(labels)) == 3
    assert "training_silhouette_score" in runs[1].metrics


def test_threads_each_get_their_own_run() -> None:
    X, y = _data()
    errors: list[BaseException] = []

    def train(seed: int) -> None:
        try:
            RandomForestClassifier(n_estimators=5, random_state=seed).fit(X, y)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=train, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    runs = _runs()
    assert sorted(r.params["random_state"] for r in runs) == ["0", "1", "2"]
    assert all(r.status == "FINISHED" for r in runs)


@pytest.mark.parametrize("classes", [2, 3])
def test_training_metrics_equal_scikit_learns(classes: int) -> None:
    """One confusion matrix (and, for forests, one predict_proba) gives scikit-learn's own numbers."""
    from sklearn import metrics as skm
    from sklearn.ensemble import ExtraTreesClassifier

    from mlops.autologging.extract import training_metrics

    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_classes=classes, random_state=1
    )
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    for model in (
        RandomForestClassifier(n_estimators=7, max_depth=3, random_state=0),
        ExtraTreesClassifier(n_estimators=5, max_depth=3, random_state=0),
        LogisticRegression(max_iter=300),
    ):
        mlops.autolog(disable=True)
        model.fit(X, y, sample_weight=weights)
        got = training_metrics(model, X, y, weights)
        pred, proba = model.predict(X), model.predict_proba(X)
        average = "binary" if classes == 2 else "weighted"
        want = {
            "training_accuracy_score": skm.accuracy_score(y, pred, sample_weight=weights),
            "training_precision_score": skm.precision_score(y, pred, average=average, sample_weight=weights),
            "training_recall_score": skm.recall_score(y, pred, average=average, sample_weight=weights),
            "training_f1_score": skm.f1_score(y, pred, average=average, sample_weight=weights),
            "training_log_loss": skm.log_loss(y, proba, sample_weight=weights),
            "training_roc_auc": skm.roc_auc_score(y, proba[:, 1], sample_weight=weights)
            if classes == 2
            else skm.roc_auc_score(y, proba, multi_class="ovr", sample_weight=weights),
        }
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-12), f"{type(model).__name__} {key}"
