"""Runs as pandas DataFrames: ``search_runs`` output and ``compare_runs``.

Example:
    >>> from mlops.entities import Run
    >>> r = Run("r1", "e1", "a", "FINISHED", 0, 1000, "active", "memory://x", params={"C": "1"})
    >>> runs_to_frame([r])[["run_id", "params.C"]].values.tolist()
    [['r1', '1']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mlops.entities import Run

__all__ = ["ATTRIBUTE_COLUMNS", "compare_frame", "runs_to_frame"]

ATTRIBUTE_COLUMNS = [
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
    "user_id",
    "parent_run_id",
    "lifecycle_stage",
]


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
