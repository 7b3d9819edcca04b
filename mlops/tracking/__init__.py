"""Experiment tracking: the :class:`Client` and the fluent functions built on it."""

from mlops.tracking.client import Client
from mlops.tracking.writer import WriterError

__all__ = ["Client", "WriterError"]
