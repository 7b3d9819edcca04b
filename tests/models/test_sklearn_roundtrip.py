"""Every estimator in ``sklearn.utils.all_estimators()`` survives save_model → load_model unchanged.

Each estimator is fitted on a small generated dataset, saved with the default (skops) serialization,
loaded back through ``load_model`` (integrity checks and the trusted-types policy included), and every
output method the original has (``predict``, ``predict_proba``, ``decision_function``, ``transform``,
``score_samples``; fitted ``labels_``/``embedding_`` for estimators with none) must give identical
results. One test per estimator, so ``pytest -n 2`` spreads them over workers.

Special inputs and constructor arguments are listed in ``SPECIAL`` and ``DATA`` below; an estimator
that fits neither the defaults nor a listed case fails (it is never skipped silently). The only
estimators not round-tripped with skops are in ``PICKLE_ONLY``, with the reason; for them the test
checks that the default save fails with a clear error and that the pickle opt-in round-trips.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from _estimators import CLOSE_ONLY, NAMES, PICKLE_ONLY, SPECIAL
from _estimators import assert_same as _assert_same
from _estimators import case as _case
from _estimators import fit as _fit
from _estimators import outputs as _outputs

from mlops.errors import InvalidInputError
from mlops.models import load_model, save_model


def test_every_estimator_is_covered() -> None:
    """The special-case table names only estimators that exist (a rename upstream shows up here)."""
    assert set(SPECIAL) <= set(NAMES), sorted(set(SPECIAL) - set(NAMES))
    assert set(PICKLE_ONLY) <= set(NAMES)
    assert len(NAMES) > 150


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name: str, tmp_path: Path) -> None:
    case = _case(name)
    est = _fit(case)
    query = case.query if case.query is not None else case.X
    expected = _outputs(est, query)
    assert expected, f"{name}: nothing to compare (add it to the tables at the top)"
    path = tmp_path / "model"
    if name in PICKLE_ONLY:
        with pytest.raises(InvalidInputError, match="serialization='pickle'"):
            save_model(est, path)
        save_model(est, path, serialization="pickle")
        loaded = load_model(str(path), allow_pickle=True)
    else:
        info = save_model(est, path)
        assert info.serialization == "skops"
        loaded = load_model(str(path))
    raw = loaded.raw
    if hasattr(est, "best_estimator_"):  # a search is stored as its best estimator
        assert type(raw) is type(est.best_estimator_)
    else:
        assert type(raw) is type(est)
    actual = _outputs(raw, query)
    assert actual.keys() == expected.keys()
    for method, value in expected.items():
        _assert_same(value, actual[method], f"{name}.{method}", close=name in CLOSE_ONLY)
    if "predict" in expected or "transform" in expected:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = expected.get("predict", expected.get("transform"))
            _assert_same(first, loaded.predict(query), f"{name} LoadedModel.predict", name in CLOSE_ONLY)
