"""Render a bias report (its :meth:`~mlops.fairness.report.BiasReport.to_dict` form) as HTML or Markdown.

Rendering works from the plain dict only, so a report read back from its JSON renders the same.
The HTML is self-contained: one inline stylesheet, charts drawn here as SVG and embedded as
``data:`` images, no scripts, no fonts or anything else fetched from a network. Charts need no
plotting library.

Example:
    >>> html = report_html({"passed": True, "attributes": []}, standalone=False)
    >>> html.startswith("<div class='mlops-bias'>")
    True
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["bar_chart_svg", "local_explanation_html", "report_html", "report_markdown", "signed_bar_svg"]

COLORS = {
    "pass": "#1a7f37",
    "warn": "#b7791f",
    "fail": "#c53030",
    "undefined": "#718096",
    "not applicable": "#718096",
}
_RATE_LABELS = {
    "selection_rate": "Selection rate",
    "true_positive_rate": "TPR",
    "false_positive_rate": "FPR",
    "false_negative_rate": "FNR",
    "precision": "Precision",
    "accuracy": "Accuracy",
}
_CHART_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate")

_CSS = """
.mlops-bias{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px;color:#1a202c;
 max-width:1200px;line-height:1.4}
.mlops-bias h1{font-size:22px;margin:8px 0}.mlops-bias h2{font-size:18px;margin:22px 0 6px;
 border-bottom:2px solid #e2e8f0;padding-bottom:3px}.mlops-bias h3{font-size:14px;margin:14px 0 4px}
.mlops-bias table{border-collapse:collapse;margin:4px 0 8px}
.mlops-bias th,.mlops-bias td{border:1px solid #e2e8f0;
 padding:3px 7px;text-align:right;vertical-align:top}.mlops-bias th{background:#f7fafc;text-align:center}
.mlops-bias td.l,.mlops-bias th.l{text-align:left}.mlops-bias .badge{display:inline-block;padding:1px 8px;
 border-radius:9px;color:#fff;font-weight:600;font-size:12px}.mlops-bias .big{font-size:16px;padding:3px 14px}
.mlops-bias .muted{color:#718096}.mlops-bias .ci{color:#718096;font-size:11px}
.mlops-bias .note{font-size:12px;
 color:#4a5568;margin:2px 0}.mlops-bias img{max-width:100%;display:block;margin:4px 0}
.mlops-bias .grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
"""


def _esc(v: Any) -> str:
    return html.escape(str(v))


def _num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{float(v):.{digits}f}"


def _ci(lo: Any, hi: Any) -> str:
    if lo is None or hi is None:
        return ""
    return f"[{_num(lo)}, {_num(hi)}]"


def _badge(status: str, big: bool = False) -> str:
    color = COLORS.get(status, "#718096")
    cls = "badge big" if big else "badge"
    return f"<span class='{cls}' style='background:{color}'>{_esc(status.upper())}</span>"


def _img(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"<img alt='{_esc(alt)}' src='data:image/svg+xml;base64,{data}'>"


def _svg_text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 11,
    anchor: str = "start",
    weight: str = "normal",
    color: str = "#1a202c",
) -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' font-weight='{weight}' "
        f"fill='{color}' font-family='Helvetica,Arial,sans-serif'>{_esc(text)}</text>"
    )


def _svg_open(width: int, height: int) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>"
    )


def bar_chart_svg(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    lower: Sequence[float | None] | None = None,
    upper: Sequence[float | None] | None = None,
    *,
    xmax: float | None = None,
    width: int = 300,
    label_width: int = 110,
    color: str = "#3182ce",
) -> str:
    """A horizontal bar chart with optional interval whiskers, as an SVG document.

    Example:
        >>> svg = bar_chart_svg("FPR", ["a", "b"], [0.1, 0.2], [0.05, 0.15], [0.15, 0.25])
        >>> svg.startswith("<svg") and svg.count("<rect") >= 2
        True
    """
    bar_h, gap, top = 16, 6, 24
    height = top + len(labels) * (bar_h + gap) + 22
    finite = [v for v in [*values, *(upper or [])] if v is not None and math.isfinite(v)]
    scale_max = xmax if xmax is not None else max([*finite, 1e-12]) * 1.1
    plot_w = width - label_width - 50
    parts = [
        _svg_open(width, height),
        f"<rect width='{width}' height='{height}' fill='white'/>",
        _svg_text(4, 15, title, size=12, weight="bold"),
    ]
    x0 = label_width
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar_h + gap)
        parts.append(_svg_text(x0 - 6, y + bar_h - 4, lab[:18], anchor="end"))
        if v is None or not math.isfinite(v):
            parts.append(_svg_text(x0 + 4, y + bar_h - 4, "undefined", color="#718096"))
            continue
        w = max(0.0, min(v, scale_max)) / scale_max * plot_w
        parts.append(
            f"<rect x='{x0}' y='{y}' width='{w:.1f}' height='{bar_h}' fill='{color}' opacity='0.85'/>"
        )
        lo = lower[i] if lower else None
        hi = upper[i] if upper else None
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            xl = x0 + max(0.0, min(lo, scale_max)) / scale_max * plot_w
            xh = x0 + max(0.0, min(hi, scale_max)) / scale_max * plot_w
            ym = y + bar_h / 2
            parts.append(
                f"<path d='M{xl:.1f},{ym:.1f}H{xh:.1f}M{xl:.1f},{ym - 5:.1f}V{ym + 5:.1f}"
                f"M{xh:.1f},{ym - 5:.1f}V{ym + 5:.1f}' stroke='#1a202c' stroke-width='1.3' fill='none'/>"
            )
            tx = max(xh, x0 + w) + 4
        else:
            tx = x0 + w + 4
        parts.append(_svg_text(tx, y + bar_h - 4, f"{v:.3f}", size=10, color="#4a5568"))
    axis_y = top + len(labels) * (bar_h + gap)
    parts.append(f"<line x1='{x0}' y1='{axis_y}' x2='{x0 + plot_w}' y2='{axis_y}' stroke='#a0aec0'/>")
    for frac in (0.0, 0.5, 1.0):
        x = x0 + frac * plot_w
        parts.append(
            _svg_text(x, axis_y + 13, f"{frac * scale_max:.2g}", size=9, anchor="middle", color="#718096")
        )
    parts.append("</svg>")
    return "".join(parts)


def signed_bar_svg(
    title: str, labels: Sequence[str], values: Sequence[float], *, width: int = 560, label_width: int = 200
) -> str:
    """A horizontal bar chart of signed values around a zero line (red positive, blue negative).

    Example:
        >>> "<svg" in signed_bar_svg("gap", ["a", "b"], [0.2, -0.1])
        True
    """
    bar_h, gap, top = 15, 5, 24
    height = top + max(1, len(labels)) * (bar_h + gap) + 10
    m = max([abs(v) for v in values if math.isfinite(v)] + [1e-12])
    plot_w = width - label_width - 10
    zero = label_width + plot_w / 2
    parts = [
        _svg_open(width, height),
        f"<rect width='{width}' height='{height}' fill='white'/>",
        _svg_text(4, 15, title, size=12, weight="bold"),
    ]
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar_h + gap)
        parts.append(_svg_text(label_width - 6, y + bar_h - 4, lab[:32], anchor="end"))
        if not math.isfinite(v):
            continue
        w = abs(v) / m * (plot_w / 2 - 55)  # leave room for the value's text on either side
        x = zero if v >= 0 else zero - w
        color = "#e53e3e" if v >= 0 else "#3182ce"
        parts.append(
            f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{bar_h}' fill='{color}' opacity='0.85'/>"
        )
        tx, anchor = (zero + w + 4, "start") if v >= 0 else (zero - w - 4, "end")
        parts.append(_svg_text(tx, y + bar_h - 4, f"{v:+.4f}", size=10, anchor=anchor, color="#4a5568"))
    parts.append(f"<line x1='{zero:.1f}' y1='{top - 4}' x2='{zero:.1f}' y2='{height - 6}' stroke='#4a5568'/>")
    parts.append("</svg>")
    return "".join(parts)


def _rates_chart(attr: dict[str, Any]) -> str:
    labels = [g["group"] for g in attr["performance"]]
    panels = []
    for rate in _CHART_RATES:
        cells = [g[rate] for g in attr["performance"]]
        panels.append(
            _img(
                bar_chart_svg(
                    f"{_RATE_LABELS[rate]} by group",
                    labels,
                    [c["estimate"] for c in cells],
                    [c["lower"] for c in cells],
                    [c["upper"] for c in cells],
                    xmax=1.0,
                ),
                f"{rate} of {attr['name']}",
            )
        )
    return "<div class='grid'>" + "".join(panels) + "</div>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    head = "".join(f"<th class='l'>{h}</th>" if i < left else f"<th>{h}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td class='l'>{c}</td>" if i < left else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _limit_text(m: dict[str, Any]) -> str:
    if m["kind"] == "difference":
        return f"pass ≤ {m['pass']:g}, fail &gt; {m['fail']:g}"
    return f"pass ≥ {m['pass']:g}, fail &lt; {m['fail']:g} (or 1/x)"


def _attribute_html(attr: dict[str, Any]) -> str:
    out = [f"<h2>{_esc(attr['name'])} {_badge('pass' if attr['passed'] else 'fail')}</h2>"]
    if attr.get("privileged"):
        out.append(
            f"<p class='note'>Privileged (reference) group: <b>{_esc(', '.join(attr['privileged']))}</b></p>"
        )
    out.append("<h3>Fairness</h3>")
    rows = []
    for m in attr["fairness"]:
        rows.append(
            [
                f"<b>{_esc(m['metric'])}</b><br><span class='muted'>{_esc(m['description'])}</span>",
                _num(m["estimate"]),
                f"<span class='ci'>{_ci(m['lower'], m['upper'])}</span>",
                _badge(m["status"]),
                _limit_text(m),
                _esc(m["note"] or ""),
            ]
        )
    out.append(_table(["metric", "value", "interval", "flag", "limits", "note"], rows))
    out.append("<h3>Data</h3>")
    rows = [
        [
            _esc(g["group"]) + (" ★" if g["privileged"] else ""),
            _num(g["count"]),
            _num(g["share"]),
            _num(g["positive_labels"]),
            _num(g["base_rate"]),
        ]
        for g in attr["groups"]
    ]
    out.append(_table(["group", "rows", "share", "positive labels", "base rate"], rows))
    pre = attr["pretraining"]
    if pre["class_imbalance"] is not None:
        out.append(
            f"<p class='note'>Pre-training: class imbalance {_num(pre['class_imbalance'])}, difference in "
            f"proportions of labels {_num(pre['difference_in_proportions_of_labels'])} "
            "(privileged − others)</p>"
        )
    out.append("<h3>Performance by group</h3>")
    rows = []
    for g in attr["performance"]:
        cells = [_esc(g["group"]), _num(g["count"])]
        for rate in _RATE_LABELS:
            c = g[rate]
            cells.append(f"{_num(c['estimate'])}<br><span class='ci'>{_ci(c['lower'], c['upper'])}</span>")
        rows.append(cells)
    out.append(_table(["group", "rows", *_RATE_LABELS.values()], rows))
    out.append(_rates_chart(attr))
    ex = attr.get("explanations")
    if ex:
        out.append(_gap_html(attr["name"], ex))
    mit = attr.get("mitigation")
    if mit:
        out.append(_mitigation_html(mit))
    return "".join(out)


def _gap_html(name: str, ex: dict[str, Any]) -> str:
    out = [
        "<h3>What drives the gaps in model output (SHAP)</h3>",
        f"<p class='note'>Gap = mean model output of the group − that of the reference "
        f"({_esc(ex['reference'])}, mean {_num(ex['reference_output'], 4)}) = difference of base values + "
        "Σ per-feature differences of mean SHAP + residual.</p>",
    ]
    rows = []
    for g in ex["groups"]:
        top = ", ".join(
            f"{_esc(c['feature'])} {c['contribution']:+.3f}"
            for c in g["contributions"][:3]
            if c["contribution"] is not None
        )
        rows.append(
            [
                _esc(g["group"]),
                _num(g["n_explained"]),
                _num(g["mean_output"], 4),
                _num(g["gap"], 4),
                _num(g["base_difference"], 4),
                top,
                "–" if g["residual"] is None else f"{g['residual']:.1e}",
            ]
        )
    out.append(
        _table(
            ["group", "explained rows", "mean output", "gap", "base diff.", "top contributions", "residual"],
            rows,
        )
    )
    candidates = [g for g in ex["groups"] if g["gap"] is not None]
    if candidates:
        g = max(candidates, key=lambda g: abs(g["gap"]))
        if abs(g["gap"]) > 0:
            labels = [c["feature"] for c in g["contributions"]] + ["(other features)"]
            values = [c["contribution"] or 0.0 for c in g["contributions"]] + [
                g["other_features_contribution"] or 0.0
            ]
            out.append(
                _img(
                    signed_bar_svg(
                        f"{name} = {g['group']}: gap {g['gap']:+.4f}, per feature", labels, values
                    ),
                    f"gap decomposition for {g['group']}",
                )
            )
    return "".join(out)


def _mitigation_html(mit: dict[str, Any]) -> str:
    rate = _RATE_LABELS.get(mit["rate"], mit["rate"])
    out = [
        f"<h3>Mitigation: per-group thresholds equalizing {_esc(rate)}</h3>",
        f"<p class='note'>Target {_esc(rate)} {_num(mit['target'])} (the overall value at threshold "
        f"{mit['threshold']:g}). Fitted on these rows: validate on held-out data; a per-group threshold uses "
        "the sensitive attribute at decision time.</p>",
    ]
    rows = [
        [
            _esc(g["group"]),
            _num(g["threshold"]),
            f"{_num(g['rate_before'])} → {_num(g['rate_after'])}",
            f"{_num(g['selection_rate_before'])} → {_num(g['selection_rate_after'])}",
            f"{_num(g['accuracy_before'])} → {_num(g['accuracy_after'])}",
        ]
        for g in mit["by_group"]
    ]
    out.append(_table(["group", "threshold", rate, "selection rate", "accuracy"], rows))
    rows = [
        [_esc(k), _num(v["before"], 4), _num(v["after"], 4), _num(v["change"], 4)]
        for k, v in mit["summary"].items()
    ]
    out.append(_table(["", "before", "after", "change"], rows))
    return "".join(out)


def _explanations_html(ex: dict[str, Any]) -> str:
    imp = ex["global_importance"][:15]
    out = [
        "<h2>Explanations (SHAP)</h2>",
        f"<p class='note'><b>{_esc(ex['explainer'])}</b> on {_esc(ex['explained_model'])}; output explained: "
        f"{_esc(ex['output_space'])} ({_esc(ex['model_output'])}). Rows: {_esc(ex['sampling'])}."
        + (f" Background: {ex['background_rows']} rows." if ex.get("background_rows") else "")
        + (f" Permutations per row: {ex['n_permutations']}." if ex.get("n_permutations") else "")
        + f" Largest additivity error: {ex['max_additivity_error']:.1e}.</p>",
    ]
    for note in ex.get("notes") or []:
        out.append(f"<p class='note'>Note: {_esc(note)}</p>")
    if imp:
        out.append(
            _img(
                bar_chart_svg(
                    "Mean |SHAP| per feature (top 15)",
                    [i["feature"] for i in imp],
                    [i["mean_abs_shap"] for i in imp],
                    width=620,
                    label_width=220,
                    color="#805ad5",
                ),
                "global SHAP importance",
            )
        )
    return "".join(out)


def report_html(data: dict[str, Any], *, standalone: bool) -> str:
    """HTML for a report dict: a full page (``standalone``) or a fragment for Jupyter.

    Example:
        >>> "PASS" in report_html({"passed": True, "attributes": []}, standalone=True)
        True
    """
    model = data.get("model") or {}
    settings = data.get("settings") or {}
    d = data.get("data") or {}
    parts = [
        f"<h1>Bias report {_badge('pass' if data.get('passed') else 'fail', big=True)}</h1>",
    ]
    meta = []
    if model:
        meta.append(
            (
                "Model",
                _esc(model.get("description"))
                + (f" <span class='muted'>({_esc(model['source'])})</span>" if model.get("source") else ""),
            )
        )
        meta.append(("Scoring", _esc(model.get("scoring"))))
    if d:
        meta.append(("Rows", f"{_num(d.get('n_rows'))}; positive rate {_num(d.get('positive_rate'))}"))
    if settings.get("n_boot"):
        meta.append(
            (
                "Intervals",
                f"{settings['ci']:.0%} {_esc(settings.get('bootstrap'))}, "
                f"{settings['n_boot']:,} resamples, seed {settings.get('random_state')}",
            )
        )
    if data.get("created"):
        meta.append(("Created", f"{_esc(data['created'])} by mlops {_esc(data.get('mlops_version'))}"))
    if meta:
        parts.append(_table(["", ""], [[f"<b>{k}</b>", v] for k, v in meta], left=2))
    attrs = data.get("attributes") or []
    if attrs:
        metrics = [m["metric"] for m in attrs[0]["fairness"]]
        rows = []
        for a in attrs:
            cells = [f"<b>{_esc(a['name'])}</b>"]
            for m in a["fairness"]:
                cells.append(f"{_num(m['estimate'])} {_badge(m['status'])}")
            rows.append(cells)
        parts.append("<h2>Summary</h2>")
        parts.append(_table(["attribute", *[_esc(m) for m in metrics]], rows))
        overall = data.get("overall") or {}
        if overall:
            parts.append(
                "<p class='note'>Overall: "
                + ", ".join(f"{_RATE_LABELS[k]} {_num(v['estimate'])}" for k, v in overall.items())
                + "</p>"
            )
    for a in attrs:
        parts.append(_attribute_html(a))
    if data.get("explanations"):
        parts.append(_explanations_html(data["explanations"]))
    body = "<div class='mlops-bias'>" + f"<style>{_CSS}</style>" + "".join(parts) + "</div>"
    if not standalone:
        return body
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        "<title>Bias report</title></head><body>" + body + "</body></html>\n"
    )


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def report_markdown(data: dict[str, Any]) -> str:
    """Markdown for a report dict: summary, then per attribute fairness, data, performance, SHAP gaps.

    Example:
        >>> report_markdown({"passed": False, "attributes": []}).splitlines()[0]
        '# Bias report: FAIL'
    """
    out = [f"# Bias report: {'PASS' if data.get('passed') else 'FAIL'}", ""]
    model, d = data.get("model") or {}, data.get("data") or {}
    if model:
        out.append(
            f"Model: {model.get('description')}; scoring: `{model.get('scoring')}`; rows: {d.get('n_rows')}"
        )
        out.append("")
    for a in data.get("attributes") or []:
        out += [f"## {a['name']}: {'PASS' if a['passed'] else 'FAIL'}", ""]
        out.append(
            _md_table(
                ["metric", "value", "interval", "flag", "note"],
                [
                    [
                        m["metric"],
                        _num(m["estimate"]),
                        _ci(m["lower"], m["upper"]),
                        m["status"].upper(),
                        m["note"] or "",
                    ]
                    for m in a["fairness"]
                ],
            )
        )
        out.append("")
        out.append(
            _md_table(
                ["group", "rows", "base rate", *_RATE_LABELS.values()],
                [
                    [g["group"], _num(g["count"]), _num(b["base_rate"])]
                    + [
                        f"{_num(g[r]['estimate'])} {_ci(g[r]['lower'], g[r]['upper'])}".strip()
                        for r in _RATE_LABELS
                    ]
                    for g, b in zip(a["performance"], a["groups"], strict=True)
                ],
            )
        )
        out.append("")
        ex = a.get("explanations")
        if ex:
            out.append(f"SHAP gap vs {ex['reference']}:")
            out.append("")
            out.append(
                _md_table(
                    ["group", "gap", "top contributions", "residual"],
                    [
                        [
                            g["group"],
                            _num(g["gap"], 4),
                            ", ".join(
                                f"{c['feature']} {c['contribution']:+.3f}"
                                for c in g["contributions"][:3]
                                if c["contribution"] is not None
                            ),
                            "–" if g["residual"] is None else f"{g['residual']:.1e}",
                        ]
                        for g in ex["groups"]
                    ],
                )
            )
            out.append("")
        mit = a.get("mitigation")
        if mit:
            out.append(f"Mitigation (equalize {mit['rate']}):")
            out.append("")
            out.append(
                _md_table(
                    ["", "before", "after"],
                    [[k, _num(v["before"], 4), _num(v["after"], 4)] for k, v in mit["summary"].items()],
                )
            )
            out.append("")
    ex = data.get("explanations")
    if ex:
        out += [
            "## Explanations",
            "",
            f"{ex['explainer']} on {ex['explained_model']} ({ex['output_space']}); {ex['sampling']}.",
            "",
        ]
        out.append(
            _md_table(
                ["feature", "mean abs SHAP"],
                [[i["feature"], _num(i["mean_abs_shap"], 4)] for i in ex["global_importance"][:15]],
            )
        )
        out.append("")
    return "\n".join(out)


def local_explanation_html(exp: Any) -> str:
    """HTML for a :class:`~mlops.fairness.explain.LocalExplanation` (a signed bar chart and a table).

    Example:
        >>> import pandas as pd
        >>> from mlops.fairness.explain import LocalExplanation
        >>> e = LocalExplanation(pd.Series({"a": 0.5}), pd.Series({"a": 2.0}), 0.1, 0.6, "log-odds", "x")
        >>> "<img" in local_explanation_html(e)
        True
    """
    top = exp.contributions.iloc[:15]
    chart = signed_bar_svg(
        f"output {exp.output:.4f} = base {exp.base_value:.4f} + contributions ({exp.output_space})",
        [
            f"{k} = {exp.feature_values[k]:.4g}" if isinstance(exp.feature_values[k], int | float) else str(k)
            for k in top.index
        ],
        [float(v) for v in top.to_numpy()],
    )
    return f"<div class='mlops-bias'><style>{_CSS}</style>{_img(chart, 'local explanation')}</div>"
