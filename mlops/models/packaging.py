"""Writing a model directory: ``save_model`` and the builder that ``log_model`` uploads from.

Example:
    >>> import pathlib, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> info = save_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), path)
    >>> sorted(p.name for p in path.iterdir())
    ['mlops-model.json', 'model.skops']
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.errors import AlreadyExistsError, InvalidInputError
from mlops.models.example import to_example, write_example
from mlops.models.flavors import flavor_for, get_flavor
from mlops.models.info import ModelInfo
from mlops.models.manifest import Manifest, hash_directory, write_manifest
from mlops.models.signature import Signature, infer_schema

__all__ = ["build_model_dir", "save_model"]


def _libraries() -> dict[str, str]:
    import numpy
    import pandas

    import mlops

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "mlops": mlops.__version__,
    }


def _infer_outputs(model: Any, example: Any) -> Any:
    """Output schema from running the model on its example; None (with a warning) if that fails."""
    method = getattr(model, "predict", None) or getattr(model, "transform", None)
    if method is None:
        return None
    try:
        return infer_schema(method(example))
    except Exception as e:  # the example is the user's: report, do not fail the save
        warnings.warn(
            f"could not infer the output signature by predicting on the input example: {e!r}",
            stacklevel=4,
        )
        return None


def build_model_dir(
    model: Any,
    directory: Path,
    *,
    input_example: Any = None,
    signature: Signature | bool | None = None,
    serialization: str | None = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[Manifest, str]:
    """Write a complete model directory into the empty folder ``directory``; return manifest and hash.

    Raises:
        InvalidInputError: no flavor fits, a bad serialization, or skops cannot store the model.

    Example:
        >>> import pathlib, tempfile
        >>> from sklearn.dummy import DummyClassifier
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> manifest, sha = build_model_dir(DummyClassifier().fit([[0], [1]], [0, 1]), d)
        >>> manifest.flavor, len(sha)
        ('sklearn', 64)
    """
    chosen = get_flavor(flavor) if flavor is not None else flavor_for(model)
    if signature is not None and not isinstance(signature, (Signature, bool)):
        raise InvalidInputError(
            f"signature must be a Signature (see mlops.models.infer_signature), True/False or None, "
            f"not {type(signature).__name__}"
        )
    saved = chosen.save(model, directory, serialization)
    served = model.best_estimator_ if "from_search" in saved.options else model
    example_name = None
    example = None
    if input_example is not None:
        example = to_example(input_example)
        example_name = write_example(example, directory)
    sig: Signature | None = None
    if isinstance(signature, Signature):
        sig = signature
    elif example is not None and signature is not False:
        sig = Signature(infer_schema(example), _infer_outputs(served, example))
    manifest = Manifest(
        flavor=chosen.name,
        serialization=saved.serialization,
        model_file=saved.model_file,
        files=hash_directory(directory),
        libraries={**_libraries(), **saved.libraries},
        signature=sig.to_dict() if sig is not None else None,
        input_example=example_name,
        flavor_options=dict(saved.options),
        metadata=dict(metadata or {}),
    )
    return manifest, write_manifest(directory, manifest)


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    input_example: Any = None,
    signature: Signature | bool | None = None,
    serialization: str | None = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ModelInfo:
    """Save ``model`` as a model directory at ``path`` (which must not exist, or be empty).

    Args:
        model: a scikit-learn estimator (Pipeline, search CV: its best estimator), an XGBoost or
            LightGBM model, or any object with ``predict`` (then ``serialization`` must be given).
        path: the directory to create.
        input_example: a few rows (DataFrame, dict, array, list); stored and used to infer the signature.
        signature: a :class:`~mlops.models.signature.Signature`; None infers one from
            ``input_example``; False stores none.
        serialization: None for the safe default (skops for scikit-learn, the native format for
            XGBoost/LightGBM); ``"pickle"``, ``"joblib"`` or ``"cloudpickle"`` to opt in to pickle
            (loading then needs ``allow_pickle=True``).
        flavor: force a flavor (``sklearn``, ``pyfunc``, ``xgboost``, ``lightgbm``) instead of detecting it.
        metadata: your own JSON-ready key/values, kept in the manifest.

    Returns:
        A :class:`~mlops.models.info.ModelInfo`; ``model_uri`` is the absolute path.

    Raises:
        AlreadyExistsError: ``path`` exists and is not an empty directory.
        InvalidInputError: see :func:`build_model_dir`.

    Example:
        >>> import pathlib, tempfile
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tree"
        >>> info = save_model(DecisionTreeClassifier().fit([[0], [1]], [0, 1]), path, input_example=[[0]])
        >>> info.signature.inputs.tensor.shape
        (-1, 1)
    """
    target = Path(path).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExistsError(f"cannot save a model to {str(target)!r}: it exists and is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        manifest, sha = build_model_dir(
            model,
            tmp,
            input_example=input_example,
            signature=signature,
            serialization=serialization,
            flavor=flavor,
            metadata=metadata,
        )
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    return ModelInfo(model_uri=str(target), manifest=manifest, manifest_sha256=sha, path=str(target))


def temp_model_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder to build a model in before uploading it.

    Example:
        >>> with temp_model_dir() as d:
        ...     isinstance(d, str)
        True
    """
    return tempfile.TemporaryDirectory(prefix="mlops-model-")
