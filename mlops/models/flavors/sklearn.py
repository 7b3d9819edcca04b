"""The scikit-learn flavor: any estimator, Pipeline or ColumnTransformer; skops by default.

A fitted hyper-parameter search (``GridSearchCV``, ``RandomizedSearchCV``, ``Halving*``) is stored as
its ``best_estimator_``: the search object holds the results of every candidate, which a served
model does not need. The manifest notes the search's class in ``flavor_options["from_search"]``.

Example:
    >>> from sklearn.linear_model import LinearRegression
    >>> SklearnFlavor().matches(LinearRegression())
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlops.errors import InvalidInputError
from mlops.models import serialization as ser
from mlops.models.flavors.base import Flavor, SavedFlavor

__all__ = ["SklearnFlavor"]


class SklearnFlavor(Flavor):
    """scikit-learn estimators (``sklearn.base.BaseEstimator`` instances)."""

    name = "sklearn"

    def matches(self, model: Any) -> bool:
        """True for scikit-learn estimators (and third-party estimators built on ``BaseEstimator``)."""
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def save(self, model: Any, directory: Path, serialization: str | None) -> SavedFlavor:
        """Serialize with skops (default) or an opted-in pickle format.

        Raises:
            InvalidInputError: an unfitted search, or an estimator skops cannot store (the message
                suggests ``serialization="pickle"``; there is no silent fallback).
        """
        import sklearn
        from sklearn.model_selection._search import BaseSearchCV

        options: dict[str, Any] = {}
        if isinstance(model, BaseSearchCV):
            if not hasattr(model, "best_estimator_"):
                raise InvalidInputError(
                    f"{type(model).__name__} has no best_estimator_: fit it with refit=True before logging, "
                    "or log the estimator you want to serve"
                )
            options["from_search"] = type(model).__name__
            model = model.best_estimator_
        options["estimator_class"] = f"{type(model).__module__}.{type(model).__qualname__}"
        serialization = ser.check_serialization(serialization or "skops")
        data = ser.dumps(model, serialization)
        model_file = ser.file_name(serialization)
        (directory / model_file).write_bytes(data)
        libraries = {"scikit-learn": sklearn.__version__, **_serializer_version(serialization)}
        return SavedFlavor(model_file, serialization, options, libraries)

    def load(
        self,
        data: bytes,
        serialization: str,
        options: Mapping[str, Any],
        *,
        allow_pickle: bool,
        trusted_types: Iterable[str],
        source: str,
    ) -> Any:
        """Deserialize with the trusted-types policy (skops) or the pickle opt-in."""
        return ser.loads(
            data, serialization, allow_pickle=allow_pickle, trusted_types=trusted_types, source=source
        )


def _serializer_version(serialization: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    package = {"skops": "skops", "joblib": "joblib", "cloudpickle": "cloudpickle"}.get(serialization)
    if package is None:
        return {}
    try:
        return {package: version(package)}
    except PackageNotFoundError:
        return {}
