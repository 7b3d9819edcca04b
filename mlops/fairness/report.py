"""``bias_report``: data, performance, fairness (intervals, flags), SHAP and mitigation, in one object.

Every rate, difference, ratio and interval comes from :func:`mlops.fairness.group_rates` and its
bootstrap; the report only arranges them, judges them against thresholds and renders them. Each
sensitive attribute gets its own section (pass ``intersectional=True`` to treat several columns as one
attribute with intersectional groups). See ``docs/bias-report.md``.

Example:
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=400), "sex": rng.choice(["f", "m"], 400)})
    >>> y = (X["x"] + rng.normal(size=400) > 0).astype(int)
    >>> model = LogisticRegression().fit(X[["x"]], y)
    >>> rep = bias_report(model, X[["x"]], y, sensitive_features=X["sex"], privileged="m",
    ...                   explain=False, n_boot=50)
    >>> rep.passed, rep.fairness("sex").loc["disparate_impact", "status"]
    (True, 'pass')
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import re
import warnings
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness._model import ModelHandle, Scored, resolve_model, score
from mlops.fairness.aggregates import privileged_mask
from mlops.fairness.bootstrap import BootstrapResult
from mlops.fairness.explain import GroupShap, ShapValues
from mlops.fairness.frame import GroupRates, group_rates
from mlops.fairness.mitigation import ThresholdMitigation, group_thresholds
from mlops.fairness.pretraining import class_imbalance, difference_in_proportions_of_labels
from mlops.fairness.validation import as_sensitive_features

__all__ = ["DEFAULT_THRESHOLDS", "PERFORMANCE_RATES", "SCHEMA_ID", "BiasReport", "bias_report"]

SCHEMA_ID = "mlops.bias_report/1"
PERFORMANCE_RATES = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "precision",
    "accuracy",
)
# kind "difference": |value| <= pass passes, > fail fails; kind "ratio": min(v, 1/v) >= pass passes, < fail
# fails; in between, or when the confidence interval reaches past the pass limit, it warns.
DEFAULT_THRESHOLDS: dict[str, dict[str, Any]] = {
    "equalized_odds_difference": {"kind": "difference", "pass": 0.10, "fail": 0.20},
    "equalized_odds_ratio": {"kind": "ratio", "pass": 0.80, "fail": 0.60},
    "demographic_parity_difference": {"kind": "difference", "pass": 0.10, "fail": 0.20},
    "demographic_parity_ratio": {"kind": "ratio", "pass": 0.80, "fail": 0.60},
    "disparate_impact": {"kind": "ratio", "pass": 0.80, "fail": 0.80},
    "four_fifths_rule": {"kind": "ratio", "pass": 0.80, "fail": 0.80},
}
# the bootstrap statistic that gives each metric its interval
_BOOT_NAME = {
    "equalized_odds_difference": "equalized_odds_difference",
    "equalized_odds_ratio": "equalized_odds_ratio",
    "demographic_parity_difference": "demographic_parity_difference",
    "demographic_parity_ratio": "demographic_parity_ratio",
    "disparate_impact": "disparate_impact",
    "four_fifths_rule": "selection_rate_ratio",  # min_g SR_g / max_h SR_h
}
_DESCRIPTION = {
    "equalized_odds_difference": "largest gap between groups in TPR or FPR",
    "equalized_odds_ratio": "smallest between-group ratio of TPR or FPR",
    "demographic_parity_difference": "largest gap between groups in selection rate",
    "demographic_parity_ratio": "lowest / highest group selection rate",
    "disparate_impact": "selection rate of the unprivileged side / privileged side",
    "four_fifths_rule": "each group's selection rate / the highest group's (lowest shown)",
}
_MAX_AGNOSTIC_ROWS = 500
_METRIC_KEY = re.compile(r"[^\w\-.]+")


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _label(label: Any) -> str:
    if isinstance(label, tuple):
        return ", ".join(str(v) for v in label)
    return str(label)


def check_thresholds(thresholds: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Merge user thresholds over :data:`DEFAULT_THRESHOLDS`, validating names and limits.

    Raises:
        InvalidInputError: An unknown metric or key, a non-numeric limit, or a fail limit laxer than
            the pass limit.

    Example:
        >>> check_thresholds({"equalized_odds_difference": {"pass": 0.05}})["equalized_odds_difference"]
        {'kind': 'difference', 'pass': 0.05, 'fail': 0.2}
    """
    out = copy.deepcopy(DEFAULT_THRESHOLDS)
    for name, spec in (thresholds or {}).items():
        if name not in out:
            raise InvalidInputError(f"thresholds: unknown metric {name!r}; known: {sorted(out)}")
        if not isinstance(spec, Mapping) or set(spec) - {"pass", "fail"}:
            raise InvalidInputError(
                f"thresholds[{name!r}] must be a dict with 'pass' and/or 'fail' limits, got {spec!r}"
            )
        for key, value in spec.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidInputError(f"thresholds[{name!r}][{key!r}] must be a number, got {value!r}")
            out[name][key] = float(value)
        t = out[name]
        lax = t["fail"] < t["pass"] if t["kind"] == "difference" else t["fail"] > t["pass"]
        if lax:
            raise InvalidInputError(
                f"thresholds[{name!r}]: the fail limit {t['fail']} is stricter than "
                f"the pass limit {t['pass']}"
            )
    return out


def _badness(kind: str, value: float) -> float:
    """How far from parity, on the scale the limits use (difference: |v|; ratio: min(v, 1/v))."""
    if kind == "difference":
        return abs(value)
    if value <= 0:
        return 0.0
    return min(value, 1.0 / value)


def judge(
    kind: str, estimate: float | None, lower: float | None, upper: float | None, limits: Mapping[str, Any]
) -> str:
    """``"pass"``, ``"warn"``, ``"fail"`` or ``"undefined"`` for one metric against its limits.

    Fail: the estimate is beyond the fail limit. Warn: beyond the pass limit, or the confidence
    interval reaches beyond it. Pass: the estimate and the whole interval are within the pass limit.

    Example:
        >>> judge("difference", 0.05, 0.02, 0.12, {"pass": 0.1, "fail": 0.2})
        'warn'
        >>> judge("ratio", 0.7, None, None, {"pass": 0.8, "fail": 0.8})
        'fail'
    """
    if estimate is None or not math.isfinite(estimate):
        return "undefined"

    def worse(v: float, limit: float) -> bool:
        b = _badness(kind, v)
        return b > limit if kind == "difference" else b < limit

    if worse(estimate, limits["fail"]):
        return "fail"
    if worse(estimate, limits["pass"]):
        return "warn"
    for bound in (lower, upper):
        if bound is not None and math.isfinite(bound) and worse(bound, limits["pass"]):
            return "warn"
    return "pass"


class BiasReport:
    """A bias report: build it with :func:`bias_report`.

    The content is :meth:`to_dict` (schema ``mlops/fairness/bias_report.schema.json``); the objects it
    was computed from are kept for inspection: :attr:`rates` (a :class:`GroupRates` per attribute),
    :attr:`intervals` (a :class:`BootstrapResult` per attribute), :attr:`shap` (:class:`ShapValues`),
    :attr:`group_shap` and :attr:`mitigations`.

    Example:
        >>> rep = BiasReport.from_dict({"schema": SCHEMA_ID, "passed": True, "attributes": []})
        >>> rep.passed
        True
    """

    def __init__(
        self,
        data: dict[str, Any],
        *,
        rates: Mapping[str, GroupRates] | None = None,
        intervals: Mapping[str, BootstrapResult] | None = None,
        shap: ShapValues | None = None,
        group_shap: Mapping[str, GroupShap] | None = None,
        mitigations: Mapping[str, ThresholdMitigation] | None = None,
        scored: Scored | None = None,
        handle: ModelHandle | None = None,
        background: Any = None,
    ) -> None:
        self._data = data
        self.rates: dict[str, GroupRates] = dict(rates or {})
        self.intervals: dict[str, BootstrapResult] = dict(intervals or {})
        self.shap = shap
        self.group_shap: dict[str, GroupShap] = dict(group_shap or {})
        self.mitigations: dict[str, ThresholdMitigation] = dict(mitigations or {})
        self.scored = scored
        self._handle = handle
        self._background = background
        self._logged: tuple[Any, str, str] | None = None  # (client, run_id, uri)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BiasReport:
        """Rebuild a report (for rendering) from :meth:`to_dict` output or its JSON.

        Example:
            >>> BiasReport.from_dict({"schema": SCHEMA_ID, "passed": False, "attributes": []}).passed
            False
        """
        return cls(copy.deepcopy(dict(data)))

    # ------------------------------------------------------------------ reading
    @property
    def passed(self) -> bool:
        """True when no fairness metric of any attribute has the status ``"fail"``."""
        return bool(self._data.get("passed"))

    @property
    def attributes(self) -> list[str]:
        """The names of the sensitive attributes, one section each."""
        return [a["name"] for a in self._data.get("attributes", [])]

    def _attribute(self, name: str) -> dict[str, Any]:
        for a in self._data.get("attributes", []):
            if a["name"] == name:
                return dict(a)
        raise InvalidInputError(f"no attribute {name!r} in this report; it has {self.attributes}")

    def fairness(self, attribute: str) -> pd.DataFrame:
        """The fairness summary of one attribute: estimate, interval, status and limits per metric.

        Raises:
            InvalidInputError: Unknown attribute.
        """
        rows = self._attribute(attribute)["fairness"]
        return pd.DataFrame(rows).set_index("metric")

    def performance(self, attribute: str) -> pd.DataFrame:
        """Rates per group of one attribute with their intervals (columns ``<rate>``, ``<rate>_lower``, ...).

        Raises:
            InvalidInputError: Unknown attribute.
        """
        records = []
        for g in self._attribute(attribute)["performance"]:
            row: dict[str, Any] = {"group": g["group"], "count": g["count"]}
            for rate in PERFORMANCE_RATES:
                cell = g[rate]
                row[rate] = cell["estimate"]
                row[f"{rate}_lower"] = cell["lower"]
                row[f"{rate}_upper"] = cell["upper"]
            records.append(row)
        return pd.DataFrame(records).set_index("group")

    def summary_metrics(self) -> dict[str, float]:
        """The figures :meth:`log` records as run metrics.

        ``fairness.<metric>`` is the worst value over the attributes (largest difference, ratio
        farthest from 1); ``fairness.<attribute>.<metric>`` each attribute's; ``fairness.passed`` is
        1 or 0. Undefined values are left out.

        Example:
            >>> BiasReport.from_dict({"passed": True, "attributes": []}).summary_metrics()
            {'fairness.passed': 1.0}
        """
        out: dict[str, float] = {}
        worst: dict[str, tuple[float, float]] = {}
        for attr in self._data.get("attributes", []):
            key = _METRIC_KEY.sub("_", attr["name"]).strip("_") or "attribute"
            for m in attr["fairness"]:
                v = m["estimate"]
                if v is None:
                    continue
                out[f"fairness.{key}.{m['metric']}"] = float(v)
                bad = _badness(m["kind"], v)
                rank = bad if m["kind"] == "difference" else -bad
                if m["metric"] not in worst or rank > worst[m["metric"]][0]:
                    worst[m["metric"]] = (rank, float(v))
        summary = {f"fairness.{k}": v for k, (_, v) in worst.items()}
        return {**summary, **out, "fairness.passed": 1.0 if self.passed else 0.0}

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-ready Python (NaN and infinities → None).

        The layout is the JSON Schema shipped as ``mlops/fairness/bias_report.schema.json`` (see
        :func:`mlops.fairness.schema.validate`).

        Example:
            >>> rep = BiasReport.from_dict({"schema": SCHEMA_ID, "passed": True, "attributes": []})
            >>> rep.to_dict()["schema"]
            'mlops.bias_report/1'
        """
        return copy.deepcopy(self._data)

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
        """The report as JSON text; also written to ``path`` when given.

        Example:
            >>> BiasReport.from_dict({"passed": True, "attributes": []}).to_json(indent=None)
            '{"passed": true, "attributes": []}'
        """
        text = json.dumps(self._data, indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A complete, self-contained HTML page (inline CSS, charts as embedded SVG images, no scripts).

        Args:
            path: Where to write it (optional); the HTML is returned either way.

        Example:
            >>> html = BiasReport.from_dict({"passed": True, "attributes": []}).to_html()
            >>> html.startswith("<!DOCTYPE html>"), "http" in html.split("<body")[1]
            (True, False)
        """
        from mlops.fairness.render import report_html

        text = report_html(self._data, standalone=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_markdown(self) -> str:
        """The report as Markdown tables (no charts).

        Example:
            >>> print(BiasReport.from_dict({"passed": True, "attributes": []}).to_markdown().splitlines()[0])
            # Bias report: PASS
        """
        from mlops.fairness.render import report_markdown

        return report_markdown(self._data)

    def _repr_html_(self) -> str:
        from mlops.fairness.render import report_html

        return report_html(self._data, standalone=False)

    def __repr__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        rows = (self._data.get("data") or {}).get("n_rows")
        return f"BiasReport({verdict}, attributes={self.attributes}, rows={rows})"

    def explain_prediction(self, row: Any) -> Any:
        """Explain one row's prediction with this report's model and background data.

        Raises:
            InvalidInputError: The report was rebuilt from a dict (it has no model).
            MissingDependencyError: shap is not installed.
        """
        from mlops.fairness.explain import explain_prediction

        if self._handle is None:
            raise InvalidInputError("this report has no model (it was rebuilt from a dict)")
        return explain_prediction(self._handle, row, background=self._background)

    # ------------------------------------------------------------------ tracking and registry
    def log(
        self,
        run: Any = None,
        *,
        client: Any = None,
        artifact_path: str = "reports/bias",
    ) -> str:
        """Store the report in a run: HTML and JSON artifacts, summary figures as metrics.

        Writes ``<artifact_path>/bias_report.html`` and ``<artifact_path>/bias_report.json``, logs
        :meth:`summary_metrics` (when the run is still open; a finished run gets the artifacts and a
        warning) and sets the run tags ``mlops.report.bias`` (the HTML's URI) and
        ``mlops.report.bias.passed``.

        Args:
            run: An ``ActiveRun``, a run id, or None for the active run.
            client: The tracking client for a run id (default: the fluent API's client).
            artifact_path: Folder in the run's artifacts.

        Returns:
            The report's URI, ``runs:/<run_id>/<artifact_path>/bias_report.html``.

        Raises:
            InvalidInputError: No run given and none active.

        Example:
            >>> import mlops
            >>> rep = BiasReport.from_dict({"passed": True, "attributes": []})
            >>> with mlops.start_run() as run:
            ...     uri = rep.log()
            >>> uri == f"runs:/{run.run_id}/reports/bias/bias_report.html"
            True
        """
        from mlops.tracking.fluent import ActiveRun, active_run, get_client

        if run is None:
            run = active_run()
            if run is None:
                raise InvalidInputError("no active run: start one (mlops.start_run()) or pass run=<run id>")
        if isinstance(run, ActiveRun):
            client = client or run._client
            run_id = run.run_id
        elif isinstance(run, str):
            run_id = run
        else:
            raise InvalidInputError(f"run must be an ActiveRun, a run id or None, not {type(run).__name__}")
        client = client or get_client()
        folder = artifact_path.strip("/")
        html_file, json_file = f"{folder}/bias_report.html", f"{folder}/bias_report.json"
        client.log_text(run_id, self.to_html(), html_file)
        client.log_text(run_id, self.to_json(), json_file)
        uri = f"runs:/{run_id}/{html_file}"
        if client.get_run(run_id).status == "RUNNING":
            client.log_metrics(run_id, self.summary_metrics())
        else:
            warnings.warn(
                f"run {run_id} has ended: the bias report's artifacts were stored, its metrics were not",
                stacklevel=2,
            )
        client.set_tags(
            run_id, {"mlops.report.bias": uri, "mlops.report.bias.passed": str(self.passed).lower()}
        )
        self._logged = (client, run_id, uri)
        return uri

    def attach(
        self,
        name: str,
        version: int | str,
        *,
        client: Any = None,
        report: str = "bias",
        user: str | None = None,
    ) -> str:
        """Link the report to a model version (the registry's ``attach_report`` contract).

        Sets the version tags ``mlops.report.<report>`` (the report's URI) and
        ``mlops.report.<report>.passed`` (``"true"``/``"false"``), which the promotion gate
        ``report:bias passes`` reads. A report not yet logged is first logged to the version's source
        run.

        Args:
            name: Registered model name.
            version: Version number.
            client: Tracking client whose registry to use (default: the one the report was logged
                with, else the fluent API's).
            report: Report name in the tags.
            user: Who attached it (audit log).

        Returns:
            The report's URI.

        Raises:
            InvalidInputError: The report was never logged and the version has no source run.
            NotFoundError: No such model version.

        Example:
            >>> import mlops
            >>> rep = BiasReport.from_dict({"passed": True, "attributes": []})
            >>> with mlops.start_run() as run:
            ...     _ = rep.log()
            >>> v = mlops.register_model(f"runs:/{run.run_id}/model", "bias-doc")
            >>> _ = rep.attach("bias-doc", v.version)
            >>> mlops.get_client().registry.lineage("bias-doc", v.version).reports["bias"].passed
            True
        """
        from mlops.tracking.fluent import get_client

        if client is None:
            client = self._logged[0] if self._logged is not None else get_client()
        registry = client.registry
        if self._logged is None:
            mv = registry.get_model_version(name, version)
            if not mv.run_id:
                raise InvalidInputError(
                    f"model {name!r} version {version} has no source run to store the report in; "
                    "call report.log(run) first"
                )
            self.log(mv.run_id, client=client)
        assert self._logged is not None
        uri = self._logged[2]
        registry.attach_report(name, version, report, uri, passed=self.passed, user=user)
        return uri


# ====================================================================================== building


def _columns(sensitive_features: Any, X: Any) -> list[tuple[str, Any]]:
    """Named sensitive columns; strings name columns of ``X``."""

    def pick(item: Any) -> Any:
        if isinstance(item, str):
            if not isinstance(X, pd.DataFrame) or item not in X.columns:
                raise InvalidInputError(
                    f"sensitive feature {item!r} is not a column of X; pass the column itself (a Series)"
                )
            return X[item]
        return item

    if isinstance(sensitive_features, str):
        return [(sensitive_features, pick(sensitive_features))]
    if isinstance(sensitive_features, list) and any(isinstance(i, str) for i in sensitive_features):
        cols = [pick(i) for i in sensitive_features]
        names = [i if isinstance(i, str) else getattr(i, "name", None) for i in sensitive_features]
        return [
            (str(n) if n is not None else f"sensitive_feature_{k}", c)
            for k, (n, c) in enumerate(zip(names, cols, strict=True))
        ]
    return as_sensitive_features(sensitive_features)


def _privileged_for(privileged: Any, name: str, n_attributes: int) -> Any:
    if privileged is None:
        return None
    if isinstance(privileged, Mapping) and n_attributes > 1:
        return privileged.get(name)
    if isinstance(privileged, Mapping) and name in privileged:
        return privileged[name]
    if n_attributes > 1:
        raise InvalidInputError(
            "with several sensitive attributes, privileged must be a dict {attribute: privileged value(s)}"
        )
    return privileged


def _interval(boot: BootstrapResult | None, stat: str) -> tuple[Any, Any]:
    if boot is None or stat not in boot.aggregates.index:
        return None, None
    row = boot.aggregates.loc[stat]
    return _plain(float(row["lower"])), _plain(float(row["upper"]))


def _attribute_section(
    name: str,
    column: Any,
    y: NDArray[np.bool_],
    scored: Scored,
    *,
    privileged: Any,
    limits: Mapping[str, Mapping[str, Any]],
    n_boot: int,
    ci: float,
    random_state: int,
    mitigation_rate: str | None,
    threshold: float,
) -> tuple[dict[str, Any], GroupRates, BootstrapResult | None, ThresholdMitigation | None, Any]:
    if isinstance(column, pd.DataFrame):
        sf: Any = column
    elif isinstance(column, pd.Series):
        sf = column.rename(name)
    else:
        sf = pd.Series(np.asarray(column), name=name)
    r = group_rates(y, scored.y_pred, sensitive_features=sf)
    priv_mask = None if privileged is None else privileged_mask(r.groups.index, privileged)
    boot = None
    if n_boot > 0:
        boot = r.bootstrap(n_boot=n_boot, ci=ci, random_state=random_state, privileged=privileged)
    by = r.by_group
    groups = [
        {
            "group": _label(g),
            "count": int(by.loc[g, "count"]),
            "positive_labels": round(float(r.confusion.loc[g, ["fn", "tp"]].sum())),
            "base_rate": _plain(float(by.loc[g, "base_rate"])),
            "share": _plain(float(by.loc[g, "count"]) / len(y)),
            "privileged": bool(priv_mask[k]) if priv_mask is not None else False,
        }
        for k, g in enumerate(by.index)
    ]
    pre: dict[str, Any] = {"class_imbalance": None, "difference_in_proportions_of_labels": None}
    if privileged is not None:
        pre["class_imbalance"] = _plain(class_imbalance(sf, privileged=privileged))
        pre["difference_in_proportions_of_labels"] = _plain(
            difference_in_proportions_of_labels(y, sensitive_features=sf, privileged=privileged)
        )
    performance = []
    for g in by.index:
        entry: dict[str, Any] = {"group": _label(g), "count": int(by.loc[g, "count"])}
        for rate in PERFORMANCE_RATES:
            est = _plain(float(by.loc[g, rate]))
            lo = hi = None
            if boot is not None:
                lo = _plain(float(boot.by_group.loc[g, (rate, "lower")]))
                hi = _plain(float(boot.by_group.loc[g, (rate, "upper")]))
            entry[rate] = {"estimate": est, "lower": lo, "upper": hi}
        performance.append(entry)
    summary = r.summary(privileged) if privileged is not None else r.summary()
    four = r.four_fifths(threshold=float(limits["four_fifths_rule"]["pass"]))
    fairness = []
    for metric, spec in limits.items():
        stat = _BOOT_NAME[metric]
        note = None
        value: float | None
        if metric == "disparate_impact" and privileged is None:
            value = None
            note = "needs privileged= (the reference group)"
        elif metric == "four_fifths_rule":
            ratios = four["impact_ratio"].to_numpy(dtype=np.float64)
            value = float(np.nanmin(ratios)) if np.isfinite(ratios).any() else math.nan
            flagged = [_label(g) for g in four.index[four["flag"].to_numpy(dtype=bool)]]
            note = f"below {spec['pass']:g}: {', '.join(flagged)}" if flagged else None
        else:
            value = float(summary[stat])
        est = _plain(value) if value is not None else None
        lo, hi = _interval(boot, stat) if est is not None else (None, None)
        status = "not applicable" if value is None else judge(spec["kind"], est, lo, hi, spec)
        fairness.append(
            {
                "metric": metric,
                "description": _DESCRIPTION[metric],
                "estimate": est,
                "lower": lo,
                "upper": hi,
                "status": status,
                "kind": spec["kind"],
                "pass": spec["pass"],
                "fail": spec["fail"],
                "note": note,
            }
        )
    mitigation = None
    mit_dict = None
    if mitigation_rate is not None and scored.scores is not None:
        mitigation = group_thresholds(
            y,
            scored.scores,
            sensitive_features=sf,
            rate=mitigation_rate,
            threshold=threshold,
            privileged=privileged,
        )
        mit_dict = mitigation.to_dict()
    section = {
        "name": name,
        "privileged": None if priv_mask is None else [_label(g) for g in r.groups.index[priv_mask]],
        "groups": groups,
        "pretraining": pre,
        "performance": performance,
        "fairness": fairness,
        "passed": not any(f["status"] == "fail" for f in fairness),
        "explanations": None,
        "mitigation": mit_dict,
    }
    return section, r, boot, mitigation, priv_mask


def _explanations_section(gs: GroupShap, names: list[str], top: int) -> dict[str, Any]:
    groups = []
    for k, g in enumerate(gs.groups):
        contrib = gs.contributions[k]
        order = np.argsort(-np.abs(np.nan_to_num(contrib)), kind="stable")
        groups.append(
            {
                "group": g,
                "n_explained": int(gs.n_explained[k]),
                "mean_output": _plain(float(gs.mean_output[k])),
                "gap": _plain(float(gs.gap[k])),
                "base_difference": _plain(float(gs.base_difference[k])),
                "residual": _plain(float(gs.residual[k])),
                "contributions": [
                    {
                        "feature": names[j],
                        "contribution": _plain(float(contrib[j])),
                        "mean_shap": _plain(float(gs.mean_shap[k, j])),
                        "mean_abs_shap": _plain(float(gs.mean_abs_shap[k, j])),
                    }
                    for j in order[:top]
                ],
                "other_features_contribution": _plain(float(np.nansum(contrib[order[top:]]))),
            }
        )
    return {"reference": gs.reference, "reference_output": _plain(gs.reference_output), "groups": groups}


def bias_report(
    model: Any,
    X: Any,
    y: Any,
    *,
    sensitive_features: Any,
    privileged: Any = None,
    threshold: float = 0.5,
    explain: bool = True,
    n_boot: int = 1000,
    max_explain_rows: int = 2000,
    random_state: int = 0,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    mitigation: str | None = "false_positive_rate",
    intersectional: bool = False,
    pos_label: Hashable = 1,
    ci: float = 0.95,
    background_size: int = 100,
    top_features: int = 10,
) -> BiasReport:
    """Build a bias report for a binary classifier on labelled data.

    Args:
        model: A fitted scikit-learn estimator or Pipeline, an ``mlops`` ``LoadedModel``, or a model URI
            (loaded with :func:`mlops.load_model`).
        X: The rows to score, as the model takes them.
        y: The true labels (binary).
        sensitive_features: Column name(s) of ``X``, a Series, a DataFrame, a dict of columns, or a list
            of names and Series. Each becomes its own section, unless ``intersectional=True``.
        privileged: The privileged group: a value (one attribute) or a dict ``{attribute: value(s)}``.
            Needed for disparate impact and the pre-training measures; the SHAP gaps are then measured
            against it (else against all rows).
        threshold: Scores at or above it are positive.
        explain: Compute SHAP explanations (needs ``mlops[explain]``).
        n_boot: Bootstrap resamples for the intervals (0: no intervals).
        max_explain_rows: At most this many rows are explained (a stratified sample, weighted back);
            the model-agnostic explainer takes at most 500.
        random_state: Seed for the bootstrap, the sample and the explainer.
        thresholds: Overrides of :data:`DEFAULT_THRESHOLDS`, e.g. ``{"equalized_odds_difference":
            {"pass": 0.05, "fail": 0.1}}``.
        mitigation: The rate per-group thresholds equalize (``"false_positive_rate"``,
            ``"true_positive_rate"``, ``"selection_rate"``), or None for no mitigation section.
        intersectional: Treat all sensitive columns as one attribute with intersectional groups.
        pos_label: The positive class of ``y`` (and the model's column of ``predict_proba``).
        ci: Confidence level of the intervals.
        background_size: Background rows for linear and model-agnostic explainers.
        top_features: Features listed per group in the gap decomposition.

    Returns:
        A :class:`BiasReport`.

    Raises:
        InvalidInputError: Bad labels, sensitive features, privileged group, thresholds or options.
        MissingDependencyError: ``explain=True`` without shap installed.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> rng = np.random.default_rng(1)
        >>> X = pd.DataFrame({"a": rng.normal(size=300), "g": rng.choice(["x", "y"], 300)})
        >>> y = (X["a"] > 0).astype(int)
        >>> rep = bias_report(DecisionTreeClassifier(max_depth=2).fit(X[["a"]], y), X[["a"]], y,
        ...                   sensitive_features=X["g"], explain=False, n_boot=20)
        >>> rep.performance("g")["accuracy"].tolist()
        [1.0, 1.0]
    """
    from mlops.fairness.mitigation import MITIGATION_RATES

    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or n_boot < 0:
        raise InvalidInputError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not isinstance(max_explain_rows, int) or max_explain_rows < 1:
        raise InvalidInputError(f"max_explain_rows must be a positive integer, got {max_explain_rows!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise InvalidInputError(f"threshold must be a finite number, got {threshold!r}")
    if mitigation is not None:
        from mlops.fairness._rates import resolve_rate

        mitigation = resolve_rate(mitigation).name
        if mitigation not in MITIGATION_RATES:
            raise InvalidInputError(
                f"mitigation must be one of {list(MITIGATION_RATES)} or None, got {mitigation!r}"
            )
    limits = check_thresholds(thresholds)
    if explain:
        from mlops.fairness.explain import import_shap

        import_shap()  # fail fast, before any work
    handle = resolve_model(model)
    y_arr = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    values = pd.unique(y_arr)
    if len(y_arr) == 0:
        raise InvalidInputError("empty input: y has no rows")
    if len(values) > 2 or pos_label not in set(values.tolist()):
        raise InvalidInputError(
            f"y must be binary and contain pos_label={pos_label!r}; "
            f"found values {sorted(map(str, values))[:5]}"
        )
    y_bool = np.asarray(y_arr == pos_label, dtype=bool)
    n = len(y_bool)
    if hasattr(X, "shape") and X.shape[0] != n:
        raise InvalidInputError(f"X has {X.shape[0]} rows but y has {n}")
    scored = score(handle, X, threshold=threshold, pos_label=pos_label)
    cols = _columns(sensitive_features, X)
    if intersectional and len(cols) > 1:
        frame = pd.DataFrame(
            {k: (v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)) for k, v in cols}
        )
        attrs: list[tuple[str, Any]] = [(" × ".join(frame.columns), frame)]
        priv_of = {attrs[0][0]: privileged}
    else:
        attrs = cols
        priv_of = {name: _privileged_for(privileged, name, len(cols)) for name, _ in cols}
    sections, rates, intervals, mitigations, masks = [], {}, {}, {}, {}
    for name, column in attrs:
        if len(column) != n:
            raise InvalidInputError(f"sensitive feature {name!r} has {len(column)} rows but y has {n}")
        section, r, boot, mit, mask = _attribute_section(
            name,
            column,
            y_bool,
            scored,
            privileged=priv_of[name],
            limits=limits,
            n_boot=n_boot,
            ci=ci,
            random_state=random_state,
            mitigation_rate=mitigation,
            threshold=threshold,
        )
        sections.append(section)
        rates[name], masks[name] = r, mask
        if boot is not None:
            intervals[name] = boot
        if mit is not None:
            mitigations[name] = mit
    overall_boot = next(iter(intervals.values()), None)
    any_rates = rates[attrs[0][0]]
    overall = {}
    for rate in PERFORMANCE_RATES:
        lo = hi = None
        if overall_boot is not None:
            lo = _plain(float(overall_boot.overall.at[rate, "lower"]))  # type: ignore[arg-type]
            hi = _plain(float(overall_boot.overall.at[rate, "upper"]))  # type: ignore[arg-type]
        overall[rate] = {"estimate": _plain(float(any_rates.overall[rate])), "lower": lo, "upper": hi}

    shap_result: ShapValues | None = None
    group_shaps: dict[str, GroupShap] = {}
    explanations = None
    if explain:
        shap_result, group_shaps, explanations = _explain(
            handle,
            X,
            rates,
            masks,
            sections,
            max_explain_rows=max_explain_rows,
            background_size=background_size,
            pos_label=pos_label,
            random_state=random_state,
            top_features=top_features,
        )
    import mlops

    data: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mlops_version": mlops.__version__,
        "passed": all(s["passed"] for s in sections),
        "model": {
            "description": handle.description,
            "source": handle.source,
            "scoring": scored.method,
            "threshold": float(threshold),
            "pos_label": _plain(pos_label)
            if isinstance(pos_label, int | float | str | bool | np.generic)
            else str(pos_label),
        },
        "data": {"n_rows": n, "positive_rate": _plain(float(y_bool.mean()))},
        "settings": {
            "n_boot": n_boot,
            "ci": ci,
            "bootstrap": "stratified percentile bootstrap by group" if n_boot else None,
            "random_state": random_state,
            "thresholds": limits,
            "mitigation_rate": mitigation,
            "intersectional": bool(intersectional and len(cols) > 1),
        },
        "overall": overall,
        "attributes": sections,
        "explanations": explanations,
    }
    return BiasReport(
        data,
        rates=rates,
        intervals=intervals,
        shap=shap_result,
        group_shap=group_shaps,
        mitigations=mitigations,
        scored=scored,
        handle=handle,
        background=X,
    )


def _explain(
    handle: ModelHandle,
    X: Any,
    rates: Mapping[str, GroupRates],
    masks: Mapping[str, Any],
    sections: list[dict[str, Any]],
    *,
    max_explain_rows: int,
    background_size: int,
    pos_label: Hashable,
    random_state: int,
    top_features: int,
) -> tuple[ShapValues, dict[str, GroupShap], dict[str, Any]]:
    from mlops.fairness.explain import explain_rows, explainer_for, group_shap, stratified_sample

    ex = explainer_for(
        handle, background=X, pos_label=pos_label, background_size=background_size, random_state=random_state
    )
    budget = max_explain_rows if ex.kind != "permutation" else min(max_explain_rows, _MAX_AGNOSTIC_ROWS)
    stacked = np.stack([r.groups.codes for r in rates.values()], axis=1)
    _, strata = np.unique(stacked, axis=0, return_inverse=True)
    rng = np.random.default_rng(random_state)
    rows, weights = stratified_sample(strata.reshape(-1).astype(np.intp), budget, rng)
    sv = explain_rows(ex, X, rows, weights)
    n = len(strata)
    strata_names = " × ".join(rates)
    sampling = (
        f"all {n:,} rows"
        if len(rows) == n
        else f"stratified sample of {len(rows):,} of {n:,} rows (strata: {strata_names}; "
        f"each stratum gets at least min(size, {budget // (2 * max(1, int(strata.max()) + 1))}) rows; "
        "means weighted back to all rows)"
    )
    group_shaps = {}
    for section in sections:
        name = section["name"]
        r = rates[name]
        mask = masks[name]
        ref = "all explained rows" if mask is None else "privileged: " + ", ".join(section["privileged"])
        gs = group_shap(sv, r.groups.codes[rows], [_label(g) for g in r.groups.index], mask, ref)
        group_shaps[name] = gs
        section["explanations"] = _explanations_section(gs, sv.feature_names, top_features)
    importance = sv.global_importance()
    explanations = {
        "explainer": sv.explainer,
        "explained_model": sv.explained_model,
        "output_space": sv.output_space,
        "model_output": sv.model_output,
        "rows_explained": len(rows),
        "rows_total": n,
        "sampling": sampling,
        "background_rows": sv.background_rows,
        "n_permutations": sv.n_permutations,
        "max_additivity_error": _plain(sv.max_additivity_error),
        "notes": list(sv.notes),
        "global_importance": [
            {"feature": str(k), "mean_abs_shap": _plain(float(v))} for k, v in importance.items()
        ],
    }
    return sv, group_shaps, explanations
