"""Fixtures for the bias report tests: the credit data (a subsample where scale does not matter) and
fitted models, shared by the session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_RAW = "credit_default_taiwan.csv.gz"
_MONTHS = ("sep", "aug", "jul", "jun", "may", "apr")
# the column names of mlops.datasets.load_credit_default, for when the package does not ship the data
_RENAME = {
    "LIMIT_BAL": "limit_balance",
    "SEX": "sex",
    "EDUCATION": "education",
    "MARRIAGE": "marriage",
    "AGE": "age",
    "default payment next month": "default",
    **{f"PAY_{0 if i == 0 else i + 1}": f"pay_status_{m}" for i, m in enumerate(_MONTHS)},
    **{f"BILL_AMT{i + 1}": f"bill_amount_{m}" for i, m in enumerate(_MONTHS)},
    **{f"PAY_AMT{i + 1}": f"pay_amount_{m}" for i, m in enumerate(_MONTHS)},
}
AGE_BINS = [20, 25, 35, 45, 55, 80]
AGE_LABELS = ["21-25", "26-35", "36-45", "46-55", "56-79"]


def _shared_file() -> Path | None:
    here = Path(__file__).resolve()
    for base in (here.parents[3] / "shared" / "data", Path("/work/shared/data")):
        if (base / _RAW).exists():
            return base / _RAW
    return None


@pytest.fixture(scope="session")
def credit_full() -> pd.DataFrame:
    """All 30,000 rows: integer codes ``sex`` (1 male, 2 female), ``marriage``, ``age``; ``default``."""
    try:
        from mlops.datasets import load_credit_default
    except ImportError:
        path = _shared_file()
        if path is None:
            pytest.skip("the credit data is neither packaged (mlops.datasets) nor in shared/data")
        frame = pd.read_csv(path).rename(columns=_RENAME).drop(columns=["ID"])
    else:
        frame = load_credit_default(decode=False).drop(columns=["id"])
    frame = frame.reset_index(drop=True)
    assert len(frame) == 30_000
    return frame


@pytest.fixture(scope="session")
def credit(credit_full: pd.DataFrame) -> pd.DataFrame:
    """A fixed 6,000-row subsample (tests that are not about scale)."""
    return credit_full.sample(6000, random_state=7).reset_index(drop=True)


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Features, target and the sensitive attributes (sex, marriage, age band) as labelled columns."""
    X = frame.drop(columns=["default"])
    y = frame["default"]
    sens = pd.DataFrame(
        {
            "sex": frame["sex"].map({1: "male", 2: "female"}),
            "marriage": frame["marriage"].map({0: "unknown", 1: "married", 2: "single", 3: "others"}),
            "age_band": pd.cut(frame["age"], AGE_BINS, labels=AGE_LABELS).astype(str),
        }
    )
    return X, y, sens


@pytest.fixture(scope="session")
def credit_xy(credit: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    return split(credit)


@pytest.fixture(scope="session")
def hgb(credit_xy: tuple[pd.DataFrame, pd.Series, pd.DataFrame]) -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y, _ = credit_xy
    return HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, y)


@pytest.fixture(scope="session")
def logreg(credit_xy: tuple[pd.DataFrame, pd.Series, pd.DataFrame]) -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _ = credit_xy
    # scaled inside a pipeline: explained on the scaled features, named by the scaler
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)


PRIVILEGED = {"sex": "male", "marriage": "married", "age_band": "26-35"}


def rng_rows(n: int, k: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).choice(n, size=k, replace=False)
