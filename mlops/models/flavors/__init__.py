"""Model flavors, looked up by name and imported only when used.

``FLAVORS`` maps a flavor name to ``"module:Class"``; detection tries the flavors in that order, so the
boosting libraries (whose scikit-learn wrappers are also estimators) win over ``sklearn``, and
``pyfunc`` (anything with ``predict``) comes last.

Example:
    >>> from sklearn.linear_model import LinearRegression
    >>> flavor_for(LinearRegression()).name
    'sklearn'
"""

from __future__ import annotations

import importlib
from typing import Any

from mlops.errors import InvalidInputError
from mlops.models.flavors.base import Flavor, SavedFlavor

__all__ = ["FLAVORS", "Flavor", "SavedFlavor", "flavor_for", "get_flavor"]

FLAVORS: dict[str, str] = {
    "xgboost": "mlops.models.flavors.boosting:XGBoostFlavor",
    "lightgbm": "mlops.models.flavors.boosting:LightGBMFlavor",
    "sklearn": "mlops.models.flavors.sklearn:SklearnFlavor",
    "pyfunc": "mlops.models.flavors.pyfunc:PyfuncFlavor",
}
_instances: dict[str, Flavor] = {}


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``.

    Raises:
        InvalidInputError: no such flavor.

    Example:
        >>> get_flavor("pyfunc").name
        'pyfunc'
    """
    flavor = _instances.get(name)
    if flavor is None:
        target = FLAVORS.get(name)
        if target is None:
            raise InvalidInputError(f"unknown model flavor {name!r}; known: {sorted(FLAVORS)}")
        module, cls = target.split(":")
        flavor = _instances[name] = getattr(importlib.import_module(module), cls)()
    return flavor


def flavor_for(model: Any) -> Flavor:
    """The first flavor (in :data:`FLAVORS` order) that handles ``model``.

    Raises:
        InvalidInputError: no flavor handles it (it has no ``predict``).

    Example:
        >>> flavor_for(object())
        Traceback (most recent call last):
        mlops.errors.InvalidInputError: ...no model flavor...
    """
    for name in FLAVORS:
        flavor = get_flavor(name)
        if flavor.matches(model):
            return flavor
    raise InvalidInputError(
        f"no model flavor handles a {type(model).__module__}.{type(model).__qualname__}: pass a "
        "scikit-learn estimator, an XGBoost/LightGBM model, or an object with a predict() method"
    )
