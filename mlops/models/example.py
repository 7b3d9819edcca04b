"""Input examples: a few rows stored next to the model, in formats that load without running code.

A DataFrame (or a dict of columns) is stored as Parquet (dtypes, nullable integers and categories
survive), a numeric array as ``.npy`` (read back with ``allow_pickle=False``), and anything else
(a list of strings for a text model) as JSON. At most :data:`MAX_ROWS` rows are kept.

Example:
    >>> import pandas as pd, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> name = write_example(pd.DataFrame({"a": [1, 2]}), d)
    >>> read_example(name, (d / name).read_bytes())["a"].tolist()
    [1, 2]
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.errors import IntegrityError, InvalidInputError

__all__ = ["MAX_ROWS", "read_example", "to_example", "write_example"]

MAX_ROWS = 5


def to_example(example: Any) -> Any:
    """The first :data:`MAX_ROWS` rows of ``example`` as a DataFrame or an array.

    Raises:
        InvalidInputError: ``example`` is a scalar.

    Example:
        >>> to_example([[1, 2], [3, 4]]).shape
        (2, 2)
    """
    import numpy as np
    import pandas as pd

    if isinstance(example, Mapping):
        scalar = all(not hasattr(v, "__len__") or isinstance(v, (str, bytes)) for v in example.values())
        example = pd.DataFrame({k: [v] for k, v in example.items()} if scalar else dict(example))
    if isinstance(example, pd.Series):
        example = example.to_frame()
    if isinstance(example, pd.DataFrame):
        return example.head(MAX_ROWS)
    if hasattr(example, "toarray") and hasattr(example, "shape"):  # scipy.sparse
        return example[:MAX_ROWS]
    array = np.asarray(example)
    if array.ndim == 0:
        raise InvalidInputError(
            f"an input example must have rows, not be a scalar ({type(example).__name__})"
        )
    return array[:MAX_ROWS]


def write_example(example: Any, directory: Path) -> str:
    """Write an example (already cut by :func:`to_example`) into ``directory``; return its file name.

    Example:
        >>> import numpy as np, pathlib, tempfile
        >>> write_example(np.zeros((2, 2)), pathlib.Path(tempfile.mkdtemp()))
        'input_example.npy'
    """
    import numpy as np
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        frame = example.set_axis([str(c) for c in example.columns], axis=1)
        try:
            frame.to_parquet(directory / "input_example.parquet", index=False)
            return "input_example.parquet"
        except (TypeError, ValueError, ImportError):  # e.g. object columns of mixed types
            (directory / "input_example.json").write_text(frame.to_json(orient="split", index=False))
            return "input_example.json"
    if hasattr(example, "toarray"):
        example = example.toarray()
    array = np.asarray(example)
    if array.dtype.kind in "biufc":
        with open(directory / "input_example.npy", "wb") as f:
            np.save(f, array, allow_pickle=False)
        return "input_example.npy"
    (directory / "input_example.json").write_text(json.dumps(array.tolist(), default=str))
    return "input_example.json"


def read_example(name: str, data: bytes) -> Any:
    """Read an example's verified bytes by its file name.

    Raises:
        IntegrityError: an unknown example format.

    Example:
        >>> read_example("input_example.json", b"[1, 2]")
        [1, 2]
    """
    if name.endswith(".parquet"):
        import pandas as pd

        return pd.read_parquet(io.BytesIO(data))
    if name.endswith(".npy"):
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
    if name.endswith(".json"):
        return json.loads(data.decode("utf-8"))
    raise IntegrityError(f"unknown input example format {name!r}")
