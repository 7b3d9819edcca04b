"""Tracking and registry stores on an object store alone: a local folder, ``memory://``, S3 or GCS.

Open them through a URI (``mlops.Client("s3://bucket/mlops")``, ``MLOPS_TRACKING_URI=gs://bucket/p``)
or directly. ``docs/objectstore.md`` describes the layout, the consistency guarantees and the limits.

Example:
    >>> from mlops.store import open_tracking_store
    >>> type(open_tracking_store("memory://doc-objectstore")).__name__
    'ObjectTrackingStore'
"""

from __future__ import annotations

from mlops.store.objectstore.registry import ObjectRegistryStore
from mlops.store.objectstore.tracking import ObjectTrackingStore

__all__ = ["ObjectRegistryStore", "ObjectTrackingStore"]
