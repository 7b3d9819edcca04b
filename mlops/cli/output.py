"""How the command line prints: aligned tables for people, JSON (``--json``) for programs.

Example:
    >>> print(render([{"name": "credit", "versions": 3}], as_json=False))
    name    versions
    ------  --------
    credit  3
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["jsonable", "render"]


def jsonable(value: Any) -> Any:
    """Entities, mappings, NaN and timestamps turned into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return jsonable(value.item())
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def render(rows: Sequence[Mapping[str, Any]] | Mapping[str, Any], *, as_json: bool) -> str:
    """A list of rows as an aligned text table (or one mapping as ``key: value`` lines), or as JSON."""
    if as_json:
        return json.dumps(jsonable(rows), indent=2, ensure_ascii=False)
    if isinstance(rows, Mapping):
        width = max((len(str(k)) for k in rows), default=0)
        return "\n".join(f"{str(k).ljust(width)}  {_cell(v)}" for k, v in rows.items())
    if not rows:
        return "(none)"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)
