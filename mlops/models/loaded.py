"""``LoadedModel``: the one interface every loaded model has, whatever its flavor.

``predict`` and ``predict_proba`` check the input against the signature first (missing, unknown and
lossily typed columns are errors; lossless casts are applied; columns are put in order), then call the
underlying model. ``raw`` is that model itself, for anything else.

Example:
    >>> import tempfile, pathlib
    >>> from sklearn.linear_model import LogisticRegression
    >>> import pandas as pd
    >>> from mlops.models import load_model, save_model
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}); y = [0, 0, 1, 1]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m"
    >>> info = save_model(LogisticRegression().fit(X, y), path, input_example=X)
    >>> model = load_model(str(path))
    >>> model.predict(pd.DataFrame({"a": [3]})).tolist()
    [1]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops.errors import InvalidInputError
from mlops.models.manifest import Manifest
from mlops.models.signature import Signature

__all__ = ["LoadedModel"]


class LoadedModel:
    """A model loaded by :func:`mlops.load_model`.

    Attributes:
        raw: the underlying model object (estimator, booster, your python-function object).
        manifest: the verified :class:`~mlops.models.manifest.Manifest`.
        signature: the :class:`~mlops.models.signature.Signature`, or None when none was saved.
        metadata: flavor, serialization, source URI, manifest SHA-256, library versions and the
            caller's own metadata, as one dict.
    """

    def __init__(
        self,
        raw: Any,
        manifest: Manifest,
        *,
        manifest_sha256: str,
        source: str,
        directory: Path | None = None,
    ) -> None:
        self.raw = raw
        self.manifest = manifest
        self.manifest_sha256 = manifest_sha256
        self.source = source
        self._directory = directory
        self.signature: Signature | None = (
            Signature.from_dict(manifest.signature) if manifest.signature else None
        )
        self._predict = getattr(raw, "predict", None) or getattr(raw, "transform", None)
        self._predict_proba = getattr(raw, "predict_proba", None)

    def __repr__(self) -> str:
        kind = type(self.raw).__name__
        return f"LoadedModel(flavor={self.manifest.flavor!r}, raw={kind}, source={self.source!r})"

    @property
    def metadata(self) -> dict[str, Any]:
        """Flavor, serialization, source, manifest hash, libraries, creation time and user metadata."""
        m = self.manifest
        return {
            "flavor": m.flavor,
            "serialization": m.serialization,
            "source": self.source,
            "manifest_sha256": self.manifest_sha256,
            "created_ms": m.created_ms,
            "libraries": dict(m.libraries),
            "flavor_options": dict(m.flavor_options),
            **dict(m.metadata),
        }

    @property
    def has_predict_proba(self) -> bool:
        """True when the model has ``predict_proba``."""
        return self._predict_proba is not None

    def prepare(self, data: Any) -> Any:
        """``data`` checked against the signature and converted (returned unchanged without one).

        Raises:
            InvalidInputError: the input does not match the signature.
        """
        return data if self.signature is None else self.signature.validate(data)

    def predict(self, data: Any, *, validate: bool = True) -> Any:
        """Predictions for ``data`` (``transform`` output for a transformer).

        Args:
            data: a DataFrame, dict, array or list, as the model takes.
            validate: check and convert ``data`` against the signature first (the default).

        Raises:
            InvalidInputError: the input does not match the signature, or the model cannot predict.
        """
        if self._predict is None:
            raise InvalidInputError(f"{type(self.raw).__name__} has neither predict nor transform")
        return self._predict(self.prepare(data) if validate else data)

    def predict_proba(self, data: Any, *, validate: bool = True) -> Any:
        """Class probabilities for ``data``.

        Raises:
            InvalidInputError: the model has no ``predict_proba`` (see :attr:`has_predict_proba`), or
                the input does not match the signature.
        """
        if self._predict_proba is None:
            raise InvalidInputError(f"{type(self.raw).__name__} has no predict_proba")
        return self._predict_proba(self.prepare(data) if validate else data)

    @property
    def input_example(self) -> Any:
        """The stored input example (DataFrame, array or list), or None.

        Read with safe readers only (Parquet, ``.npy`` without pickle, JSON) and checked against the
        manifest's hash first.
        """
        if self.manifest.input_example is None or self._directory is None:
            return None
        from mlops.models.example import read_example
        from mlops.models.manifest import sha256_bytes

        name = self.manifest.input_example
        data = (self._directory / name).read_bytes()
        if sha256_bytes(data) != self.manifest.files[name]:
            from mlops.errors import IntegrityError

            raise IntegrityError(f"input example {name!r} does not match its recorded SHA-256")
        return read_example(name, data)
