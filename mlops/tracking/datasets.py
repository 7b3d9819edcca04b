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
    array = np.asarray(data)
    if array.dtype == object:
        return _frame_digest(pd.DataFrame(array.reshape(len(array), -1)))
    h = hashlib.sha256()
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
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
    array = np.asarray(data)
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
