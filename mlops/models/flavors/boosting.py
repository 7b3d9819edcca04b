"""XGBoost and LightGBM flavors in the libraries' own formats (no pickle, no skops).

* XGBoost: ``Booster`` and the scikit-learn wrappers (``XGBClassifier``, ``XGBRegressor``,
  ``XGBRanker``, ``XGBRF*``) are saved as UBJSON (``model.ubj``) and rebuilt as the same class, chosen
  from a fixed list (the file never names code to run).
* LightGBM: ``Booster`` and the wrappers (``LGBMClassifier``, ``LGBMRegressor``, ``LGBMRanker``) are
  saved as LightGBM's text model (``model.txt``). LightGBM cannot rebuild a wrapper from that file, so
  a wrapper loads as a :class:`LightGBMModel` around the booster (:class:`LightGBMClassifierModel` for a
  classifier, whose ``classes_`` the manifest keeps): ``predict``/``predict_proba`` give what it gave.

Both libraries are imported only when such a model is saved or loaded.

Example:
    >>> XGBoostFlavor().matches(object()), LightGBMFlavor().matches(object())
    (False, False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlops.errors import IntegrityError, InvalidInputError, MissingDependencyError
from mlops.models.flavors.base import Flavor, SavedFlavor

__all__ = ["LightGBMClassifierModel", "LightGBMFlavor", "LightGBMModel", "XGBoostFlavor"]

_XGB_CLASSES = ("Booster", "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")
_LGB_CLASSES = ("Booster", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")


def _from_library(model: Any, library: str) -> bool:
    return any(c.__module__.split(".", 1)[0] == library for c in type(model).__mro__)


def _import(library: str) -> Any:
    import importlib

    try:
        return importlib.import_module(library)
    except ImportError as e:
        raise MissingDependencyError(f"this model needs {library}: pip install {library}") from e


def _class_name(model: Any, allowed: tuple[str, ...], library: str) -> str:
    for cls in type(model).__mro__:
        if cls.__module__.split(".", 1)[0] == library and cls.__name__ in allowed:
            return cls.__name__
    raise InvalidInputError(
        f"{type(model).__qualname__} is not one of the {library} classes mlops stores natively ({allowed}); "
        "log it with serialization='pickle' as a python-function model instead"
    )


class XGBoostFlavor(Flavor):
    """XGBoost boosters and scikit-learn wrappers, in XGBoost's UBJSON format."""

    name = "xgboost"

    def matches(self, model: Any) -> bool:
        """True for objects whose class comes from ``xgboost``."""
        return _from_library(model, "xgboost")

    def save(self, model: Any, directory: Path, serialization: str | None) -> SavedFlavor:
        """Write ``model.ubj``.

        Raises:
            InvalidInputError: a ``serialization=`` other than the native one, or an unknown class.
        """
        _native_only(serialization, "XGBoost")
        xgb = _import("xgboost")
        cls = _class_name(model, _XGB_CLASSES, "xgboost")
        path = directory / "model.ubj"
        model.save_model(str(path))
        return SavedFlavor("model.ubj", "native", {"class": cls}, {"xgboost": xgb.__version__})

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
        """Rebuild the saved class from the UBJSON bytes."""
        xgb = _import("xgboost")
        cls = str(options.get("class"))
        if cls not in _XGB_CLASSES:
            raise IntegrityError(f"{source}: unknown XGBoost class {cls!r} in the manifest")
        model = getattr(xgb, cls)()
        model.load_model(bytearray(data))
        return model


class LightGBMModel:
    """A LightGBM regressor or ranker wrapper rebuilt from its booster: the same ``predict``.

    Attributes:
        booster: the ``lightgbm.Booster``.
    """

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, X: Any) -> Any:
        """Predicted values."""
        return self.booster.predict(X)


class LightGBMClassifierModel(LightGBMModel):
    """A LightGBM classifier wrapper rebuilt from its booster: the same ``predict``/``predict_proba``.

    Attributes:
        classes_: the classifier's classes, as saved.
    """

    def __init__(self, booster: Any, classes: Any) -> None:
        import numpy as np

        super().__init__(booster)
        self.classes_ = np.asarray(classes)

    def predict(self, X: Any) -> Any:
        """Class labels."""
        import numpy as np

        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, one column per class."""
        import numpy as np

        proba = np.asarray(self.booster.predict(X))
        return np.column_stack([1.0 - proba, proba]) if proba.ndim == 1 else proba


class LightGBMFlavor(Flavor):
    """LightGBM boosters and scikit-learn wrappers, in LightGBM's text format."""

    name = "lightgbm"

    def matches(self, model: Any) -> bool:
        """True for objects whose class comes from ``lightgbm``."""
        return _from_library(model, "lightgbm")

    def save(self, model: Any, directory: Path, serialization: str | None) -> SavedFlavor:
        """Write ``model.txt`` (and the classes of a classifier into the manifest).

        Raises:
            InvalidInputError: a ``serialization=`` other than the native one, or an unknown class.
        """
        _native_only(serialization, "LightGBM")
        lgb = _import("lightgbm")
        cls = _class_name(model, _LGB_CLASSES, "lightgbm")
        booster = model if cls == "Booster" else model.booster_
        (directory / "model.txt").write_text(booster.model_to_string(), encoding="utf-8")
        options: dict[str, Any] = {"class": cls}
        if cls == "LGBMClassifier":
            options["classes"] = model.classes_.tolist()
        return SavedFlavor("model.txt", "native", options, {"lightgbm": lgb.__version__})

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
        """A ``Booster``, or a :class:`LightGBMModel` for a saved wrapper."""
        lgb = _import("lightgbm")
        cls = str(options.get("class"))
        if cls not in _LGB_CLASSES:
            raise IntegrityError(f"{source}: unknown LightGBM class {cls!r} in the manifest")
        booster = lgb.Booster(model_str=data.decode("utf-8"))
        if cls == "Booster":
            return booster
        if cls == "LGBMClassifier":
            return LightGBMClassifierModel(booster, options.get("classes"))
        return LightGBMModel(booster)


def _native_only(serialization: str | None, library: str) -> None:
    if serialization not in (None, "native"):
        raise InvalidInputError(
            f"{library} models are stored in {library}'s own format; serialization={serialization!r} "
            "does not apply (leave it out)"
        )
