"""Model packaging: save, log and load models with signatures, safe serialization and integrity checks.

::

    import mlops

    with mlops.start_run():
        info = mlops.log_model(model, "model", input_example=X_train.head())
    loaded = mlops.load_model(info.model_uri)
    loaded.predict(X_new)          # checked against the signature first

See ``docs/models.md`` for the manifest format, the security model and the signature rules.

Example:
    >>> import pathlib, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m"
    >>> _ = save_model(LinearRegression().fit([[1.0], [2.0]], [2.0, 4.0]), path)
    >>> load_model(str(path)).predict([[3.0]]).round(6)
    array([6.])
"""

from __future__ import annotations

from mlops.models.info import ModelInfo
from mlops.models.loaded import LoadedModel
from mlops.models.loading import load_model
from mlops.models.log import log_model, log_model_to_run
from mlops.models.manifest import MANIFEST_FILE, Manifest
from mlops.models.packaging import save_model
from mlops.models.signature import ColumnSpec, Schema, Signature, TensorSpec, infer_schema, infer_signature
from mlops.models.uris import ModelURI, parse_model_uri

__all__ = [
    "MANIFEST_FILE",
    "ColumnSpec",
    "LoadedModel",
    "Manifest",
    "ModelInfo",
    "ModelURI",
    "Schema",
    "Signature",
    "TensorSpec",
    "infer_schema",
    "infer_signature",
    "load_model",
    "log_model",
    "log_model_to_run",
    "parse_model_uri",
    "save_model",
]
