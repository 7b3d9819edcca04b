"""``log_model``: save a model into a run's artifacts under ``<name>/``.

The files are uploaded first and the manifest last, so a model whose upload failed has no manifest
and cannot be loaded. The manifest's SHA-256 is also written to the run as the tag
``mlops.model.manifest_sha256/<name>``: the tracking database then vouches for the manifest, and
``load_model("runs:/…")`` refuses a manifest that was changed in the artifact store.

Example:
    >>> import mlops
    >>> from sklearn.linear_model import LinearRegression
    >>> with mlops.start_run():
    ...     info = log_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), "model")
    >>> info.model_uri.startswith("runs:/") and info.model_uri.endswith("/model")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import AlreadyExistsError, IntegrityError
from mlops.models.info import ModelInfo
from mlops.models.manifest import MANIFEST_FILE
from mlops.models.packaging import build_model_dir, temp_model_dir
from mlops.models.signature import Signature

if TYPE_CHECKING:
    from mlops.tracking.client import Client

__all__ = ["MANIFEST_TAG_PREFIX", "log_model", "log_model_to_run"]

MANIFEST_TAG_PREFIX = "mlops.model.manifest_sha256/"


def log_model_to_run(
    client: Client,
    run_id: str,
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    signature: Signature | bool | None = None,
    serialization: str | None = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ModelInfo:
    """Log ``model`` to run ``run_id`` through ``client`` (what :meth:`Client.log_model` calls).

    Raises:
        AlreadyExistsError: the run already has files under ``name``.
        InvalidInputError: a bad name, or see :func:`~mlops.models.packaging.save_model`.
        NotFoundError: unknown run.

    Example:
        >>> import mlops
        >>> from sklearn.dummy import DummyRegressor
        >>> client = mlops.Client("sqlite://", artifact_uri="memory://doc-log-model")
        >>> run = client.create_run(client.get_or_create_experiment("e").experiment_id)
        >>> info = log_model_to_run(client, run.run_id, DummyRegressor().fit([[0]], [1]), "m")
        >>> client.get_run(run.run_id).tags[MANIFEST_TAG_PREFIX + "m"] == info.manifest_sha256
        True
    """
    from mlops.store.keys import validate_key

    name = validate_key(name)
    store = client.artifact_store(run_id)
    if store.list(name):
        raise AlreadyExistsError(
            f"run {run_id} already has artifacts under {name!r}; log the model under another name"
        )
    with temp_model_dir() as tmp:
        directory = Path(tmp)
        manifest, sha = build_model_dir(
            model,
            directory,
            input_example=input_example,
            signature=signature,
            serialization=serialization,
            flavor=flavor,
            metadata=metadata,
        )
        for file_name in sorted(manifest.files):
            store.put_file(f"{name}/{file_name}", directory / file_name)
        recorded = store.put_file(f"{name}/{MANIFEST_FILE}", directory / MANIFEST_FILE)
    if recorded.sha256 != sha:
        raise IntegrityError(
            f"the uploaded manifest of {name!r} has SHA-256 {recorded.sha256}, expected {sha}"
        )
    client.set_tag(run_id, MANIFEST_TAG_PREFIX + name, sha)
    return ModelInfo(
        model_uri=f"runs:/{run_id}/{name}",
        manifest=manifest,
        manifest_sha256=sha,
        run_id=run_id,
        artifact_path=name,
    )


def log_model(
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    signature: Signature | bool | None = None,
    serialization: str | None = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ModelInfo:
    """Log ``model`` to the active run (one is started if none is active) under ``<name>/``.

    Arguments are those of :func:`~mlops.models.packaging.save_model`.

    Returns:
        A :class:`~mlops.models.info.ModelInfo` with ``model_uri="runs:/<run_id>/<name>"`` and the
        manifest's SHA-256.

    Raises:
        AlreadyExistsError: the run already has files under ``name``.
        InvalidInputError: see :func:`~mlops.models.packaging.save_model`.

    Example:
        >>> import mlops
        >>> from sklearn.dummy import DummyClassifier
        >>> with mlops.start_run():
        ...     info = log_model(DummyClassifier().fit([[0], [1]], [0, 1]), "clf", input_example=[[0]])
        >>> info.flavor, info.serialization
        ('sklearn', 'skops')
    """
    from mlops.tracking.fluent import _active_or_start

    run = _active_or_start()
    return log_model_to_run(
        run._client,
        run.run_id,
        model,
        name,
        input_example=input_example,
        signature=signature,
        serialization=serialization,
        flavor=flavor,
        metadata=metadata,
    )
