"""Where data goes by default: the tracking and artifact URIs from arguments, environment or defaults.

Order of precedence: an explicit argument, then ``MLOPS_TRACKING_URI`` / ``MLOPS_ARTIFACT_URI``, then
``./mlops-data/mlops.db`` and ``./mlops-data/artifacts`` under the current directory (created on
first use). The folder is ``mlops-data``, not ``mlops``, so it never shadows the package when run
from a source checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_DIR", "artifact_uri", "tracking_uri"]

DEFAULT_DIR = "mlops-data"


def tracking_uri(explicit: str | None = None) -> str:
    """The tracking URI to use.

    Example:
        >>> tracking_uri("sqlite:///runs.db")
        'sqlite:///runs.db'
    """
    if explicit:
        return explicit
    from_env = os.environ.get("MLOPS_TRACKING_URI")
    if from_env:
        return from_env
    return f"sqlite:///{Path.cwd() / DEFAULT_DIR / 'mlops.db'}"


def artifact_uri(explicit: str | None = None) -> str:
    """The root URI for artifacts of new experiments.

    Example:
        >>> artifact_uri("s3://bucket/mlops")
        's3://bucket/mlops'
    """
    if explicit:
        return explicit
    from_env = os.environ.get("MLOPS_ARTIFACT_URI")
    if from_env:
        return from_env
    return (Path.cwd() / DEFAULT_DIR / "artifacts").as_uri()
