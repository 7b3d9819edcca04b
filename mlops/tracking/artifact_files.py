"""Turn in-memory objects into the bytes of an artifact file, by the file's extension.

Example:
    >>> dict_bytes({"a": 1}, "config.json")
    b'{\\n  "a": 1\\n}'
"""

from __future__ import annotations

import io
import json
from pathlib import PurePosixPath
from typing import Any

from mlops.errors import InvalidInputError, MissingDependencyError

__all__ = ["dict_bytes", "figure_bytes", "table_bytes"]


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def dict_bytes(data: Any, name: str) -> bytes:
    """JSON (``.json``) or YAML (``.yaml``/``.yml``) for a dict or list.

    Raises:
        InvalidInputError: another extension, or data JSON cannot represent.
    """
    suffix = _suffix(name)
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as e:
            raise MissingDependencyError("log_dict to a YAML file needs PyYAML: pip install pyyaml") from e
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")
    if suffix != ".json":
        raise InvalidInputError(f"log_dict writes .json, .yaml or .yml files, not {name!r}")
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True).encode("utf-8")
    except TypeError as e:
        raise InvalidInputError(f"log_dict: {name!r} is not JSON-serializable: {e}") from e


def figure_bytes(figure: Any, name: str) -> bytes:
    """The figure (anything with matplotlib's ``savefig``) rendered in the file's format.

    Raises:
        InvalidInputError: ``figure`` has no ``savefig``, or the format is unknown to it.
    """
    savefig = getattr(figure, "savefig", None)
    if savefig is None:
        raise InvalidInputError(f"log_figure needs a matplotlib Figure, not {type(figure).__name__}")
    suffix = _suffix(name).lstrip(".")
    if not suffix:
        raise InvalidInputError(f"log_figure: {name!r} needs an extension such as .png or .svg")
    buffer = io.BytesIO()
    try:
        savefig(buffer, format=suffix, bbox_inches="tight")
    except ValueError as e:
        raise InvalidInputError(f"log_figure: cannot save as {suffix!r}: {e}") from e
    return buffer.getvalue()


def table_bytes(table: Any, name: str) -> bytes:
    """A DataFrame (or a dict of columns) as ``.json`` (split orient), ``.csv`` or ``.parquet``.

    Raises:
        InvalidInputError: another extension, or data that is not tabular.
    """
    import pandas as pd

    try:
        frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    except (ValueError, TypeError) as e:
        raise InvalidInputError(f"log_table needs a DataFrame or a dict of columns: {e}") from e
    suffix = _suffix(name)
    if suffix == ".json":
        return frame.to_json(orient="split", index=False).encode("utf-8")
    if suffix == ".csv":
        return frame.to_csv(index=False).encode("utf-8")
    if suffix == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise InvalidInputError(f"log_table writes .json, .csv or .parquet files, not {name!r}")
