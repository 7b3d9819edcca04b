"""XGBoost and LightGBM models round-trip in their native formats (skipped when not installed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlops.errors import InvalidInputError
from mlops.models import load_model, save_model

rng = np.random.RandomState(0)
X = rng.normal(size=(80, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_REG = X @ np.array([1.0, 2.0, 0.0, -1.0])


def test_xgboost_wrappers_and_booster(tmp_path: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    for i, model in enumerate(
        [xgb.XGBClassifier(n_estimators=5).fit(X, Y), xgb.XGBRegressor(n_estimators=5).fit(X, Y_REG)]
    ):
        info = save_model(model, tmp_path / f"m{i}", input_example=X[:3])
        assert (info.flavor, info.serialization, info.manifest.model_file) == (
            "xgboost",
            "native",
            "model.ubj",
        )
        loaded = load_model(str(tmp_path / f"m{i}"))
        assert type(loaded.raw) is type(model)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        if hasattr(model, "predict_proba"):
            np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    booster = xgb.XGBRegressor(n_estimators=5).fit(X, Y_REG).get_booster()
    save_model(booster, tmp_path / "b")
    raw = load_model(str(tmp_path / "b")).raw
    np.testing.assert_array_equal(raw.predict(xgb.DMatrix(X)), booster.predict(xgb.DMatrix(X)))
    with pytest.raises(InvalidInputError, match="own format"):
        save_model(booster, tmp_path / "p", serialization="pickle")


def test_lightgbm_wrappers_and_booster(tmp_path: Path) -> None:
    lgb = pytest.importorskip("lightgbm")
    clf = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, np.where(Y == 1, "yes", "no"))
    info = save_model(clf, tmp_path / "c", input_example=X[:3])
    assert (info.flavor, info.manifest.model_file) == ("lightgbm", "model.txt")
    loaded = load_model(str(tmp_path / "c"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-12)
    reg = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X, Y_REG)
    save_model(reg, tmp_path / "r")
    np.testing.assert_array_equal(load_model(str(tmp_path / "r")).predict(X), reg.predict(X))
    assert not load_model(str(tmp_path / "r")).has_predict_proba
    save_model(reg.booster_, tmp_path / "b")
    np.testing.assert_array_equal(load_model(str(tmp_path / "b")).raw.predict(X), reg.booster_.predict(X))
