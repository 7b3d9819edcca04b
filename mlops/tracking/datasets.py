"""Describe a dataset for lineage: a content digest, its schema and row count.

Example:
    >>> import pandas as pd
    >>> d = describe_dataset(pd.DataFrame({"a": [1, 2]}), name="tiny")
    >>> (d.name, d.num_rows, len(d.digest))
    ('tiny', 2, 64)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from mlops.entities import DatasetInput
from mlops.errors import InvalidInputError

__all__ = ["dataset_digest", "dataset_schema", "describe_dataset"]


def _frame_digest(frame: Any) -> str:
    import pandas as pd

    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def dataset_digest(data: Any) -> str:
    """SHA-256 over the content and layout of a DataFrame, Series or array (vectorized).

    Example:
        >>> import numpy as np
        >>> dataset_digest(np.zeros(3)) == dataset_digest(np.zeros(3))
        True
    """
    import pandas as pd

    if isinstance(data, pd.Series):
        return _frame_digest(data.to_frame())
    if isinstance(data, pd.DataFrame):
        return _frame_digest(data)
    if hasattr(data, "tocsr"):  # scipy sparse: its three arrays describe it exactly
        csr = data.tocsr()
        return _arrays_digest([csr.data, csr.indices, csr.indptr, np.asarray(csr.shape)])
    try:
        array = np.asarray(data)
    except ValueError:  # ragged input (e.g. a list of label sets of different lengths)
        return _items_digest(data)
    if array.dtype == object:
        try:
            return _frame_digest(pd.DataFrame(array.reshape(len(array), -1)))
        except TypeError:  # unhashable cells (dicts, lists): hash their text form instead
            return _items_digest(data)
    return _arrays_digest([array])


def _arrays_digest(arrays: list[Any]) -> str:
    h = hashlib.sha256()
    for array in arrays:
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _items_digest(data: Any) -> str:
    """Digest of a sequence whose items numpy/pandas cannot hash: the sorted-key text of each item."""
    h = hashlib.sha256()
    for item in data:
        text = json.dumps(item, sort_keys=True, default=repr) if isinstance(item, dict) else repr(item)
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def dataset_schema(data: Any) -> dict[str, Any]:
    """Column names, dtypes and nullability (frames) or shape and dtype (arrays).

    Example:
        >>> import pandas as pd
        >>> dataset_schema(pd.DataFrame({"a": [1.0, None]}))
        {'columns': [{'name': 'a', 'dtype': 'float64', 'nullable': True}]}
    """
    import pandas as pd

    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        nulls = data.isna().any()
        return {
            "columns": [
                {"name": str(c), "dtype": str(t), "nullable": bool(nulls[c])} for c, t in data.dtypes.items()
            ]
        }
    if hasattr(data, "tocsr"):
        return {"shape": [-1, *data.shape[1:]], "dtype": str(data.dtype), "sparse": True}
    try:
        array = np.asarray(data)
    except ValueError:
        return {"shape": [-1], "dtype": "object"}
    return {"shape": [-1, *array.shape[1:]], "dtype": str(array.dtype)}


def describe_dataset(
    data: Any, *, name: str | None = None, source: str = "", context: str = "training"
) -> DatasetInput:
    """A :class:`~mlops.entities.DatasetInput` for ``data`` (DataFrame, Series, array or list).

    ``name`` defaults to ``"dataset"``; ``source`` is where the data came from (a URI or path).

    Raises:
        InvalidInputError: ``data`` is not tabular (a scalar or None).
    """
    if data is None or np.ndim(data) == 0:
        raise InvalidInputError(f"log_input needs a DataFrame, Series or array, not {type(data).__name__}")
    return DatasetInput(
        name=name or "dataset",
        digest=dataset_digest(data),
        source=source,
        schema=json.dumps(dataset_schema(data), sort_keys=True),
        num_rows=len(data),
        context=context,
    )
