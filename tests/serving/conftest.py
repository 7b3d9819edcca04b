"""Fixtures for the serving tests: small credit-like data and models saved once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops.models import save_model

FEATURES = ["LIMIT_BAL", "AGE", "PAY_0", "BILL_AMT1"]


def credit_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A frame shaped like the credit data: two float and two integer columns, plus an id."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ID": np.arange(n, dtype=np.int64),
            "LIMIT_BAL": rng.uniform(1e4, 5e5, n).round(0),
            "AGE": rng.integers(21, 70, n),
            "PAY_0": rng.integers(-2, 8, n),
            "BILL_AMT1": rng.normal(5e4, 2e4, n),
        }
    )


def labels(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["PAY_0"] > 1) | (frame["BILL_AMT1"] > 7e4)).to_numpy().astype(int)


@pytest.fixture(scope="session")
def train() -> pd.DataFrame:
    return credit_frame(600, seed=1)


@pytest.fixture(scope="session")
def lr_dir(tmp_path_factory: pytest.TempPathFactory, train: pd.DataFrame) -> tuple[Path, Any]:
    """A LogisticRegression fitted on a DataFrame (so it has feature names), saved with an example."""
    X = train[FEATURES]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, labels(train))
    path = tmp_path_factory.mktemp("models") / "lr"
    save_model(model, path, input_example=X.head(5))
    return path, model
