"""Runs as pandas DataFrames: ``search_runs`` output and ``compare_runs``.

``search_runs`` builds its frame from a :class:`~mlops.store.tracking.RunTable` (:func:`table_to_frame`),
which stores fill without making ``Run`` objects; :func:`runs_to_frame` gives the same frame from
``Run`` objects.

Example:
    >>> from mlops.entities import Run
    >>> r = Run("r1", "e1", "a", "FINISHED", 0, 1000, "active", "memory://x", params={"C": "1"})
    >>> runs_to_frame([r])[["run_id", "params.C"]].values.tolist()
    [['r1', '1']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlops.entities import Run
from mlops.store.tracking import RUN_TABLE_ATTRIBUTES, RunTable

__all__ = ["ATTRIBUTE_COLUMNS", "compare_frame", "runs_to_frame", "table_to_frame"]

ATTRIBUTE_COLUMNS = list(RUN_TABLE_ATTRIBUTES)


def _times(values: list[int | None]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="Int64"), unit="ms", utc=True)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: attributes, then ``params.*``, ``metrics.*`` (latest value) and ``tags.*``,
    each group sorted by key. Times are UTC timestamps; a missing param, metric or tag is NaN/None.
    """
    data: dict[str, Any] = {c: [getattr(r, c) for r in runs] for c in ATTRIBUTE_COLUMNS}
    data["start_time"] = _times([r.start_time for r in runs])
    data["end_time"] = _times([r.end_time for r in runs])
    for prefix, attr in (("params", "params"), ("metrics", "metrics"), ("tags", "tags")):
        keys = sorted({k for r in runs for k in getattr(r, attr)})
        for key in keys:
            column = [getattr(r, attr).get(key) for r in runs]
            data[f"{prefix}.{key}"] = pd.Series(column, dtype="float64") if prefix == "metrics" else column
    frame = pd.DataFrame(data)
    return frame


def table_to_frame(table: RunTable) -> pd.DataFrame:
    """The frame of :func:`runs_to_frame`, identical (columns, order, dtypes, values), from a table.

    Each ``params``/``metrics``/``tags`` column is one numpy array with its values scattered into
    their rows, or, when every run has the key (the common case), the values as they are; pandas
    then infers each column's dtype exactly as for the lists ``runs_to_frame`` builds. A missing
    value is NaN in a metric (float64) column, as ``pd.Series([..., None], dtype="float64")`` makes
    it, and None in the others, as in a list.

    Example:
        >>> r = Run("r1", "e1", "a", "FINISHED", 0, 1000, "active", "memory://x", metrics={"auc": 0.5})
        >>> table_to_frame(RunTable.from_runs([r]))[["run_name", "metrics.auc"]].values.tolist()
        [['a', 0.5]]
    """
    columns = table.columns
    data: dict[str, Any] = {c: list(columns[c]) for c in ATTRIBUTE_COLUMNS}
    data["start_time"] = _times(data["start_time"])
    data["end_time"] = _times(data["end_time"])
    size = len(data["run_id"])
    every_row = list(range(size))
    for prefix, keyed in (("params", table.params), ("metrics", table.metrics), ("tags", table.tags)):
        for key in sorted(keyed):
            sparse = keyed[key]
            rows = sparse.rows
            if isinstance(rows, range):
                dense = rows == range(size)
            else:
                dense = len(rows) == size and list(rows) == every_row  # every run, in order
            if prefix == "metrics":
                values = np.asarray(sparse.values, dtype=np.float64)  # a NaN given as None: NaN
                if dense:
                    column: Any = values
                else:
                    column = np.full(size, np.nan)
                    column[np.asarray(sparse.rows, dtype=np.intp)] = values
            elif dense:  # a list, as runs_to_frame gives pandas: no object array in between
                column = list(sparse.values)
            else:
                column = np.full(size, None, dtype=object)
                column[np.asarray(sparse.rows, dtype=np.intp)] = np.asarray(sparse.values, dtype=object)
            data[f"{prefix}.{key}"] = column
    return pd.DataFrame(data)


def compare_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Params and metrics of several runs side by side: one row per ``params.*``/``metrics.*`` key,
    one column per run (named ``run_name (run_id[:8])``); rows whose values differ come first.
    """
    columns = [f"{r.run_name} ({r.run_id[:8]})" for r in runs]
    rows: dict[str, list[Any]] = {}
    for prefix, attr in (("params", "params"), ("metrics", "metrics")):
        for key in sorted({k for r in runs for k in getattr(r, attr)}):
            rows[f"{prefix}.{key}"] = [getattr(r, attr).get(key) for r in runs]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    if frame.empty:
        return frame
    differs = pd.Series(
        [len({repr(x) for x in row}) > 1 for row in frame.itertuples(index=False)], index=frame.index
    )
    return pd.concat([frame[differs], frame[~differs]])
