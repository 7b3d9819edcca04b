"""autolog over every estimator of ``sklearn.utils.all_estimators()``: same model, exact params.

For each estimator (the cases of ``tests/_estimators.py``: special inputs are listed there, nothing is
skipped silently) the same fit runs once without and once with autolog; every output method must give
identical results, and the run must hold exactly ``get_params(deep=True)`` (as stable strings).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from _estimators import CLOSE_ONLY, NAMES, assert_same, case, fit, outputs

import mlops
from mlops.autologging.extract import stable_str


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("autolog-all")
    mlops.set_tracking_uri(f"sqlite:///{root / 'mlops.db'}")
    mlops.set_artifact_uri((root / "artifacts").as_uri())
    yield root
    mlops.autolog(disable=True)
    mlops.set_tracking_uri(None)
    mlops.set_artifact_uri(None)


@pytest.mark.parametrize("name", NAMES)
def test_autolog_keeps_the_model_and_records_every_param(name: str, store: Path) -> None:
    mlops.autolog(disable=True)
    reference = fit(case(name))
    this_case = case(name)
    query = this_case.query if this_case.query is not None else this_case.X
    expected = outputs(reference, query)
    experiment = mlops.set_experiment(f"all-{name}")
    mlops.autolog(log_models=False, silent=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "mlops autolog: could not ..." for any estimator
        warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
        estimator = fit(this_case)
    mlops.autolog(disable=True)
    actual = outputs(estimator, query)
    assert actual.keys() == expected.keys()
    for method, value in expected.items():
        assert_same(value, actual[method], f"{name}.{method}", close=name in CLOSE_ONLY)
    runs = mlops.search_runs(
        [experiment.experiment_id], "attributes.status = 'FINISHED'", output_format="list"
    )
    assert isinstance(runs, list)
    # (FrozenEstimator's case fits the estimator it wraps first: that fit is a run of its own)
    top = [
        r for r in runs if r.parent_run_id is None and r.tags["estimator_name"] == type(estimator).__name__
    ]
    assert len(top) == 1, f"{name}: expected one top-level run, got {[r.run_name for r in top]}"
    (run,) = top
    assert run.tags["estimator_name"] == type(estimator).__name__
    params = estimator.get_params(deep=True)
    assert set(run.params) - {k for k in run.params if k.startswith("best_")} == set(params)
    for key, value in params.items():
        assert run.params[key] == stable_str(value), f"{name}: param {key}"
