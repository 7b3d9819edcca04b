"""``ModelInfo``: what ``log_model`` / ``save_model`` return.

Example:
    >>> from mlops.models.manifest import Manifest
    >>> m = Manifest("sklearn", "skops", "model.skops", {"model.skops": "00"})
    >>> ModelInfo("runs:/abc/model", m, "f" * 64, run_id="abc", artifact_path="model").flavor
    'sklearn'
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops.models.manifest import Manifest
from mlops.models.signature import Signature

__all__ = ["ModelInfo"]


@dataclass(frozen=True)
class ModelInfo:
    """A saved or logged model.

    Attributes:
        model_uri: where to load it from (``runs:/<run_id>/<name>`` or a local path).
        manifest: the manifest that was written.
        manifest_sha256: SHA-256 of ``mlops-model.json``; keep it to detect a changed manifest
            (``load_model(uri, manifest_sha256=...)``).
        run_id: the run it was logged to (None for ``save_model``).
        artifact_path: its folder in the run's artifacts (None for ``save_model``).
        path: its local folder (``save_model`` only).
    """

    model_uri: str
    manifest: Manifest
    manifest_sha256: str
    run_id: str | None = None
    artifact_path: str | None = None
    path: str | None = None

    @property
    def flavor(self) -> str:
        """The model's flavor."""
        return self.manifest.flavor

    @property
    def serialization(self) -> str:
        """How the model file was written (``skops``, ``pickle``, ``native``, ...)."""
        return self.manifest.serialization

    @property
    def signature(self) -> Signature | None:
        """The model's signature, if one was given or inferred."""
        return Signature.from_dict(self.manifest.signature) if self.manifest.signature else None
