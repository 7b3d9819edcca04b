"""HTML views of entities for notebooks (``_repr_html_``): small, escaped, no scripts, no network.

Example:
    >>> from mlops.entities import Experiment
    >>> "<table" in Experiment("1", "credit", "file:///x")._repr_html_()
    True
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["entity_html", "events_html", "kv_table", "rows_table"]

_STYLE = (
    "<style>.mlops-v{font-family:system-ui,sans-serif;font-size:13px}"
    ".mlops-v table{border-collapse:collapse;margin:4px 0 10px}"
    ".mlops-v th,.mlops-v td{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}"
    ".mlops-v th{background:#f4f4f4}.mlops-v h4{margin:6px 0 2px}"
    ".mlops-v .s-FINISHED,.mlops-v .s-Production{color:#1a7f37;font-weight:600}"
    ".mlops-v .s-FAILED,.mlops-v .s-KILLED{color:#cf222e;font-weight:600}"
    ".mlops-v .s-RUNNING,.mlops-v .s-Staging{color:#9a6700;font-weight:600}</style>"
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    return html.escape(str(value))


def _time(ms: int | None) -> str:
    if not ms:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def kv_table(items: Mapping[str, Any]) -> str:
    """A two-column table of keys and values (sorted by key)."""
    if not items:
        return "<p><i>none</i></p>"
    rows = "".join(f"<tr><th>{_cell(k)}</th><td>{_cell(v)}</td></tr>" for k, v in sorted(items.items()))
    return f"<table>{rows}</table>"


def rows_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A table with one row per mapping."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _status(value: str) -> str:
    return f'<span class="s-{html.escape(value)}">{html.escape(value)}</span>'


def entity_html(entity: Any) -> str:
    """The notebook view of an Experiment, Run, RegisteredModel or ModelVersion."""
    from mlops.entities import Experiment, ModelVersion, RegisteredModel, Run

    parts = [_STYLE, '<div class="mlops-v">']
    if isinstance(entity, Run):
        parts.append(f"<h4>Run {_cell(entity.run_name)} {_status(entity.status)}</h4>")
        parts.append(
            kv_table(
                {
                    "run_id": entity.run_id,
                    "experiment_id": entity.experiment_id,
                    "started": _time(entity.start_time),
                    "ended": _time(entity.end_time),
                    "user": entity.user_id,
                    "parent": entity.parent_run_id,
                    "artifacts": entity.artifact_uri,
                }
            )
        )
        for title in ("params", "metrics", "tags"):
            values = getattr(entity, title)
            parts.append(f"<h4>{title} ({len(values)})</h4>{kv_table(values)}")
        if entity.inputs:
            parts.append(
                "<h4>inputs</h4>"
                + rows_table(
                    [
                        {
                            "name": d.name,
                            "context": d.context,
                            "rows": d.num_rows,
                            "digest": d.digest[:12],
                            "source": d.source,
                        }
                        for d in entity.inputs
                    ],
                    ["name", "context", "rows", "digest", "source"],
                )
            )
    elif isinstance(entity, Experiment):
        parts.append(f"<h4>Experiment {_cell(entity.name)}</h4>")
        parts.append(
            kv_table(
                {
                    "experiment_id": entity.experiment_id,
                    "stage": entity.lifecycle_stage,
                    "artifact_location": entity.artifact_location,
                    "created": _time(entity.creation_time),
                    **{f"tag {k}": v for k, v in entity.tags.items()},
                }
            )
        )
    elif isinstance(entity, RegisteredModel):
        parts.append(f"<h4>Registered model {_cell(entity.name)}</h4>")
        parts.append(
            kv_table(
                {
                    "description": entity.description,
                    "updated": _time(entity.last_updated_time),
                    **{f"alias {a}": f"version {n}" for a, n in entity.aliases.items()},
                    **{f"tag {k}": v for k, v in entity.tags.items()},
                }
            )
        )
    elif isinstance(entity, ModelVersion):
        parts.append(f"<h4>{_cell(entity.name)} version {entity.version} {_status(entity.stage)}</h4>")
        parts.append(
            kv_table(
                {
                    "source": entity.source,
                    "run_id": entity.run_id,
                    "status": entity.status,
                    "aliases": ", ".join(entity.aliases),
                    "user": entity.user_id,
                    "created": _time(entity.creation_time),
                    "description": entity.description,
                    **{f"tag {k}": v for k, v in entity.tags.items()},
                }
            )
        )
    else:
        parts.append(f"<pre>{html.escape(repr(entity))}</pre>")
    parts.append("</div>")
    return "".join(parts)


def events_html(events: Iterable[Any]) -> str:
    """The notebook view of an audit log (a list of Events)."""
    rows = [
        {
            "seq": e.seq,
            "time": _time(e.timestamp),
            "user": e.user_id,
            "action": e.action,
            "version": e.version,
            "old": e.old_value,
            "new": e.new_value,
            "comment": e.comment,
        }
        for e in events
    ]
    columns = ["seq", "time", "user", "action", "version", "old", "new", "comment"]
    return f'{_STYLE}<div class="mlops-v"><h4>Events ({len(rows)})</h4>{rows_table(rows, columns)}</div>'
