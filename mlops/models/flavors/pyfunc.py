"""The python-function flavor: any object with ``predict`` (and optionally ``predict_proba``).

Such an object is arbitrary Python code, so it can only be stored with a pickle-based serialization
(``cloudpickle`` stores classes defined in ``__main__`` or a notebook by value; ``pickle``/``joblib``
store them by reference, so their module must be importable where the model is loaded). This is
never the default: ``log_model(obj, "m")`` without ``serialization=`` is an error that explains the
opt-in, and loading needs ``allow_pickle=True``. Load such models only from sources you trust.

Example:
    >>> class Doubler:
    ...     def predict(self, x):
    ...         return [2 * v for v in x]
    >>> PyfuncFlavor().matches(Doubler())
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlops.errors import InvalidInputError
from mlops.models import serialization as ser
from mlops.models.flavors.base import Flavor, SavedFlavor

__all__ = ["PyfuncFlavor"]


class PyfuncFlavor(Flavor):
    """Objects with a callable ``predict``; stored only with an explicit pickle-based serialization."""

    name = "pyfunc"

    def matches(self, model: Any) -> bool:
        """True when ``model.predict`` is callable."""
        return callable(getattr(model, "predict", None))

    def save(self, model: Any, directory: Path, serialization: str | None) -> SavedFlavor:
        """Pickle the object with the serialization the caller chose.

        Raises:
            InvalidInputError: no pickle-based serialization was chosen (the opt-in is required).
        """
        if serialization is None or serialization not in ser.PICKLE_BASED:
            raise InvalidInputError(
                f"a {type(model).__qualname__} is not a scikit-learn, XGBoost or LightGBM model, so it can "
                "only be stored as Python code with a pickle-based format, which runs that code when "
                "loaded. Opt in with serialization='cloudpickle' (or 'pickle'/'joblib'); loading will then "
                "need allow_pickle=True"
            )
        data = ser.dumps(model, serialization)
        model_file = ser.file_name(serialization)
        (directory / model_file).write_bytes(data)
        options = {
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "predict_proba": callable(getattr(model, "predict_proba", None)),
        }
        return SavedFlavor(model_file, serialization, options)

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
        """Unpickle (only with ``allow_pickle=True``)."""
        return ser.loads(data, serialization, allow_pickle=allow_pickle, source=source)
