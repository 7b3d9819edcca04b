"""The flavor interface: how one family of models is written to and read from a model directory.

A flavor knows whether it handles an object (:meth:`Flavor.matches`), writes it into a directory
(:meth:`Flavor.save`) and rebuilds it from the verified bytes of its model file (:meth:`Flavor.load`).
It never reads files itself when loading: the caller hands it bytes that were hashed against the
manifest, so nothing is deserialized before the integrity check.

Example:
    >>> from mlops.models.flavors import get_flavor
    >>> isinstance(get_flavor("sklearn"), Flavor)
    True
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Flavor", "SavedFlavor"]


@dataclass(frozen=True)
class SavedFlavor:
    """What :meth:`Flavor.save` wrote: the model file, the serialization, and options for loading.

    Example:
        >>> SavedFlavor("model.skops", "skops").options
        {}
    """

    model_file: str
    serialization: str
    options: Mapping[str, Any] = field(default_factory=dict)
    libraries: Mapping[str, str] = field(default_factory=dict)


class Flavor(abc.ABC):
    """One family of models (scikit-learn, python function, XGBoost, LightGBM)."""

    name: str = ""

    @abc.abstractmethod
    def matches(self, model: Any) -> bool:
        """True when this flavor handles ``model``; must not import optional libraries needlessly."""

    @abc.abstractmethod
    def save(self, model: Any, directory: Path, serialization: str | None) -> SavedFlavor:
        """Write ``model`` into ``directory`` (which exists and is empty).

        ``serialization`` is the caller's choice, or None for the flavor's safe default.

        Raises:
            InvalidInputError: the model or the serialization does not fit this flavor.
        """

    @abc.abstractmethod
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
        """Rebuild the model from the verified bytes of its model file.

        Raises:
            IntegrityError: pickle-based bytes without ``allow_pickle``, or untrusted types.
        """
