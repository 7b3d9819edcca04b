"""Fluent registry functions on the process-wide client (``mlops.register_model``).

Example:
    >>> import mlops
    >>> mlops.registry.fluent.register_model.__name__
    'register_model'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops.entities import ModelVersion

__all__ = ["register_model"]


def register_model(
    model_uri: str,
    name: str,
    *,
    tags: Mapping[str, Any] | None = None,
    description: str = "",
    user: str | None = None,
) -> ModelVersion:
    """Register ``model_uri`` as the next version of ``name`` in the fluent API's registry (the tracking
    URI set by ``mlops.set_tracking_uri``), creating the model when missing. MLflow's name.

    ``model_uri`` is ``runs:/<run_id>/<path>``, ``models:/...``, a URL or a local path; see
    :meth:`mlops.registry.RegistryClient.register_model`.

    Raises:
        InvalidInputError: a malformed URI, name or tag.
        NotFoundError: the ``runs:/`` run or ``models:/`` version does not exist.

    Example:
        >>> import mlops
        >>> mlops.set_tracking_uri("sqlite://"); mlops.set_artifact_uri("memory://register-doc")
        >>> with mlops.start_run() as run:
        ...     mlops.log_metric("auc", 0.81)
        >>> mlops.register_model(f"runs:/{run.info.run_id}/model", "credit").version
        1
        >>> mlops.set_tracking_uri(None); mlops.set_artifact_uri(None)
    """
    from mlops.tracking.fluent import get_client

    return get_client().registry.register_model(
        model_uri, name, tags=tags, description=description, user=user
    )
