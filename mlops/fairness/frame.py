"""Result objects with stable types: :class:`GroupRates` (built-in rates from counts) and
:class:`MetricFrame` (any ``metric(y_true, y_pred, **sample_params)`` per group).

Whatever the input shape — one metric or several, one sensitive feature or several — ``by_group`` is
a DataFrame, ``overall`` a Series, ``difference()``/``ratio()``/``group_min()``/``group_max()`` a
Series indexed by metric name. (Fairlearn's ``MetricFrame`` returns scalars or Series depending on how
many metrics it was given; this one does not.)
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlops.errors import InvalidInputError
from mlops.fairness._counts import CELLS, ConfusionCounts, cell_index, counts_from_index
from mlops.fairness._groups import GroupCodes, encode_groups
from mlops.fairness._rates import RATES, RateDef, ZeroDivision, rate_values, resolve_rate
from mlops.fairness._summary import summary_statistics
from mlops.fairness.aggregates import (
    Method,
    Unprivileged,
    aggregate_difference,
    aggregate_ratio,
    privileged_mask,
    reference_cells,
    safe_ratio,
    unprivileged_labels,
)
from mlops.fairness.bootstrap import (
    BootstrapResult,
    check_bootstrap_args,
    percentile_interval,
    resample_cells,
)
from mlops.fairness.validation import (
    Missing,
    Prepared,
    as_label_array,
    as_sensitive_features,
    check_zero_division,
    prepare,
)

__all__ = ["GroupRates", "MetricFrame", "group_rates"]

DEFAULT_RATES: tuple[str, ...] = tuple(RATES)


class _Grouped:
    """Shared aggregation over a ``by_group`` frame and an ``overall`` series."""

    _by_group: pd.DataFrame
    _overall: pd.Series

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per group, one column per metric (always a DataFrame)."""
        return self._by_group.copy()

    @property
    def overall(self) -> pd.Series:
        """The metrics on all rows (always a Series indexed by metric name)."""
        return self._overall.copy()

    def _metric_columns(self) -> list[str]:
        return [c for c in self._overall.index if c not in ("count", "weight")]

    def _numeric(self) -> tuple[pd.DataFrame, pd.Series]:
        cols = self._metric_columns()
        values = self._by_group[cols].apply(pd.to_numeric, errors="coerce").astype(np.float64)
        overall = pd.to_numeric(self._overall[cols], errors="coerce").astype(np.float64)
        return values, overall

    def difference(self, method: Method = "between_groups") -> pd.Series:
        """Difference per metric: ``max - min`` between groups, or ``max |group - overall|``.

        Undefined (NaN) groups are left out; non-numeric metrics give NaN.

        Raises:
            InvalidInputError: Unknown method.

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"])
            >>> float(r.difference()["selection_rate"])
            0.5
        """
        values, overall = self._numeric()
        out = aggregate_difference(values.to_numpy().T, overall.to_numpy(), method)
        return pd.Series(out, index=values.columns, name=f"difference ({method})", dtype=np.float64)

    def ratio(self, method: Method = "between_groups") -> pd.Series:
        """Ratio per metric: ``min / max`` between groups, or ``min min(group/overall, overall/group)``.

        Undefined (NaN) groups are left out; a ratio with a zero denominator is NaN.

        Raises:
            InvalidInputError: Unknown method.

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
            >>> float(r.ratio()["selection_rate"])
            0.5
        """
        values, overall = self._numeric()
        out = aggregate_ratio(values.to_numpy().T, overall.to_numpy(), method)
        return pd.Series(out, index=values.columns, name=f"ratio ({method})", dtype=np.float64)

    def group_min(self) -> pd.Series:
        """Smallest defined value per metric.

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
            >>> float(r.group_min()["selection_rate"])
            0.5
        """
        values, _ = self._numeric()
        return pd.Series(np.fmin.reduce(values.to_numpy(), axis=0), index=values.columns, name="group_min")

    def group_max(self) -> pd.Series:
        """Largest defined value per metric.

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
            >>> float(r.group_max()["selection_rate"])
            1.0
        """
        values, _ = self._numeric()
        return pd.Series(np.fmax.reduce(values.to_numpy(), axis=0), index=values.columns, name="group_max")

    def _base_dict(self) -> dict[str, Any]:
        return {
            "sensitive_features": [str(n) for n in self._by_group.index.names],
            "by_group": [
                {"group": _plain_label(g), **{str(k): _plain(v) for k, v in row.items()}}
                for g, row in self._by_group.iterrows()
            ],
            "overall": {str(k): _plain(v) for k, v in self._overall.items()},
            "difference": {str(k): _plain(v) for k, v in self.difference().items()},
            "ratio": {str(k): _plain(v) for k, v in self.ratio().items()},
        }

    def _html_tables(self) -> str:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
        agg = pd.DataFrame(
            {"overall": self._numeric()[1], "difference": self.difference(), "ratio": self.ratio()}
        )
        return (
            "<h4>By group</h4>"
            + self._by_group.to_html(float_format=fmt, na_rep="undefined")
            + "<h4>Overall and between groups</h4>"
            + agg.to_html(float_format=fmt, na_rep="undefined")
        )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _plain_label(label: Any) -> Any:
    if isinstance(label, tuple):
        return [_plain(v) for v in label]
    return _plain(label)


class GroupRates(_Grouped):
    """Built-in rates per group, derived from weighted confusion counts.

    Build it with :func:`group_rates`. ``by_group`` has the columns ``count`` (rows), ``weight`` (sum of
    weights, when weighted) and the rates; a rate whose denominator is zero is NaN (or the
    ``zero_division`` value) and listed in :attr:`undefined`.

    Example:
        >>> r = group_rates([1, 0, 1, 1], [1, 1, 0, 1], sensitive_features=["F", "F", "M", "M"])
        >>> r.by_group["false_positive_rate"].tolist()
        [1.0, nan]
    """

    def __init__(
        self,
        counts: ConfusionCounts,
        groups: GroupCodes,
        *,
        rates: tuple[str, ...] = DEFAULT_RATES,
        zero_division: ZeroDivision = math.nan,
        cell_idx: NDArray[np.int64] | None = None,
        weight: NDArray[np.float64] | None = None,
    ) -> None:
        self.counts = counts
        self.groups = groups
        self.rates = rates
        self.zero_division = zero_division
        self._cell_idx = cell_idx
        self._weight = weight
        rows = counts.rows.sum(axis=1)
        data: dict[str, Any] = {"count": rows}
        if counts.weighted:
            data["weight"] = counts.cells.sum(axis=1)
        for name in rates:
            data[name] = rate_values(counts.cells, RATES[name], zero_division)
        self._by_group = pd.DataFrame(data, index=groups.index)
        total = counts.cells.sum(axis=0)
        overall: dict[str, Any] = {"count": float(rows.sum())}
        if counts.weighted:
            overall["weight"] = float(total.sum())
        for name in rates:
            overall[name] = float(rate_values(total, RATES[name], zero_division))
        self._overall = pd.Series(overall, name="overall", dtype=np.float64)

    @property
    def confusion(self) -> pd.DataFrame:
        """Per-group (weighted) TN, FP, FN, TP.

        Example:
            >>> group_rates([1, 0], [1, 1], sensitive_features=["a", "a"]).confusion.loc["a"].tolist()
            [0.0, 1.0, 0.0, 1.0]
        """
        return pd.DataFrame(self.counts.cells, index=self.groups.index, columns=list(CELLS))

    @property
    def undefined(self) -> pd.DataFrame:
        """Every (group, rate) whose denominator is zero, with what is missing and the group's row count.

        Example:
            >>> r = group_rates([1, 1], [1, 0], sensitive_features=["a", "a"])
            >>> r.undefined[["metric", "denominator"]].values.tolist()
            [['false_positive_rate', 'negative labels'], ['true_negative_rate', 'negative labels']]
        """
        records = []
        for name in self.rates:
            rate = RATES[name]
            den = self.counts.cells[:, list(rate.denominator)].sum(axis=1)
            for g in np.flatnonzero(den <= 0).tolist():
                records.append(
                    {
                        "group": self.groups.index[g],
                        "metric": name,
                        "denominator": rate.denominator_label,
                        "count": int(self.counts.rows[g].sum()),
                        "value": float(rate_values(self.counts.cells[g], rate, self.zero_division)),
                    }
                )
        return pd.DataFrame.from_records(
            records, columns=["group", "metric", "denominator", "count", "value"]
        )

    def rate(self, name: str) -> pd.Series:
        """One rate per group (accepts aliases such as ``fpr``).

        Example:
            >>> group_rates([1, 0], [1, 1], sensitive_features=["a", "a"]).rate("fpr").tolist()
            [1.0]
        """
        return self._by_group[resolve_rate(name).name].copy()

    def compare(self, privileged: Any, *, unprivileged: Unprivileged = "pooled") -> pd.DataFrame:
        """Every rate of the unprivileged side against the privileged side (AIF360's form).

        Args:
            privileged: A group label, a dict ``{feature: value(s)}``, or a list of those (pooled).
            unprivileged: ``"pooled"`` (all other rows together, as AIF360) or ``"each"`` (every other
                group on its own).

        Returns:
            A tidy DataFrame: ``group``, ``metric``, ``value``, ``privileged_value``, ``difference``
            (unprivileged − privileged) and ``ratio`` (unprivileged / privileged).

        Raises:
            InvalidInputError: Unknown privileged group or ``unprivileged`` value.

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
            >>> row = r.compare("a").set_index("metric").loc["selection_rate"]
            >>> float(row["ratio"])
            0.5
        """
        mask = privileged_mask(self.groups.index, privileged)
        priv, unpriv = reference_cells(self.counts.cells, mask, unprivileged)
        labels = unprivileged_labels(self.groups.index, mask, unprivileged)
        records = []
        for name in self.rates:
            p = float(rate_values(priv[0], RATES[name], self.zero_division))
            u = rate_values(unpriv, RATES[name], self.zero_division)
            for k, label in enumerate(labels):
                records.append(
                    {
                        "group": label,
                        "metric": name,
                        "value": float(u[k]),
                        "privileged_value": p,
                        "difference": float(u[k] - p),
                        "ratio": float(safe_ratio(u[k], p)),
                    }
                )
        return pd.DataFrame.from_records(records)

    def four_fifths(self, *, threshold: float = 0.8) -> pd.DataFrame:
        """The four-fifths rule: each group's selection rate against the highest group's.

        Returns:
            DataFrame indexed by group: ``selection_rate``, ``impact_ratio`` (rate / highest rate) and
            ``flag`` (True when the impact ratio is below ``threshold``).

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
            >>> r.four_fifths()["flag"].tolist()
            [False, True]
        """
        sel = rate_values(self.counts.cells, RATES["selection_rate"], self.zero_division)
        ratio = safe_ratio(sel, np.fmax.reduce(sel))
        return pd.DataFrame(
            {"selection_rate": sel, "impact_ratio": ratio, "flag": ratio < threshold}, index=self.groups.index
        )

    def summary(self, privileged: Any = None, *, unprivileged: Unprivileged = "pooled") -> pd.Series:
        """Every named aggregate (see :func:`mlops.fairness._summary.summary_statistics` for the names).

        Example:
            >>> r = group_rates([1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
            >>> float(r.summary("a")["disparate_impact"])
            0.5
        """
        mask = None if privileged is None else privileged_mask(self.groups.index, privileged)
        stats = summary_statistics(
            self.counts.cells,
            self.groups.index,
            rate_names=self.rates,
            zero_division=self.zero_division,
            privileged=mask,
            unprivileged=unprivileged,
        )
        return pd.Series({k: float(v) for k, v in stats.items()}, name="summary", dtype=np.float64)

    def bootstrap(
        self,
        *,
        n_boot: int = 1000,
        ci: float = 0.95,
        random_state: int | np.random.Generator | None = None,
        privileged: Any = None,
        unprivileged: Unprivileged = "pooled",
    ) -> BootstrapResult:
        """Percentile bootstrap intervals for every rate (per group and overall) and every aggregate.

        Resampling is stratified by group and done on the confusion counts (see
        :mod:`mlops.fairness.bootstrap`).

        Args:
            n_boot: Number of resamples.
            ci: Confidence level, e.g. 0.95.
            random_state: Seed or Generator, for reproducible intervals.
            privileged: When given, also intervals for the comparisons against this group.
            unprivileged: ``"pooled"`` or ``"each"``, as in :meth:`compare`.

        Raises:
            InvalidInputError: Bad ``n_boot``, ``ci`` or privileged group.

        Example:
            >>> sf = ["a", "a", "b", "b"] * 25
            >>> r = group_rates([1, 0, 1, 0] * 25, [1, 1, 1, 0] * 25, sensitive_features=sf)
            >>> b = r.bootstrap(n_boot=200, random_state=0)
            >>> b.aggregates.loc["demographic_parity_difference", "estimate"]
            np.float64(0.5)
        """
        check_bootstrap_args(n_boot, ci)
        if self._cell_idx is None:
            raise InvalidInputError(
                "this GroupRates was built without row data; bootstrap needs group_rates(...)"
            )
        rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(random_state)
        )
        mask = None if privileged is None else privileged_mask(self.groups.index, privileged)
        samples = resample_cells(
            self._cell_idx, self.groups.n_groups, self._weight, self.counts.rows, n_boot=n_boot, rng=rng
        )
        stat_kw: dict[str, Any] = {
            "rate_names": self.rates,
            "zero_division": self.zero_division,
            "privileged": mask,
            "unprivileged": unprivileged,
        }
        estimates = summary_statistics(self.counts.cells, self.groups.index, **stat_kw)
        boots = summary_statistics(samples, self.groups.index, **stat_kw)
        names = list(estimates)
        lo, hi, nd = percentile_interval(np.stack([boots[k] for k in names], axis=1), ci)
        aggregates = pd.DataFrame(
            {"estimate": [float(estimates[k]) for k in names], "lower": lo, "upper": hi, "n_defined": nd},
            index=pd.Index(names, name="statistic"),
        )
        total = samples.sum(axis=1)
        overall_rows = {}
        group_cols: dict[tuple[str, str], Any] = {}
        for name in self.rates:
            rate = RATES[name]
            lo_o, hi_o, nd_o = percentile_interval(rate_values(total, rate, self.zero_division)[:, None], ci)
            overall_rows[name] = {
                "estimate": float(self._overall[name]),
                "lower": lo_o[0],
                "upper": hi_o[0],
                "n_defined": nd_o[0],
            }
            lo_g, hi_g, nd_g = percentile_interval(rate_values(samples, rate, self.zero_division), ci)
            group_cols[(name, "estimate")] = self._by_group[name].to_numpy()
            group_cols[(name, "lower")] = lo_g
            group_cols[(name, "upper")] = hi_g
            group_cols[(name, "n_defined")] = nd_g
        overall = pd.DataFrame.from_dict(overall_rows, orient="index")
        overall["n_defined"] = overall["n_defined"].astype(np.int64)
        by_group = pd.DataFrame(group_cols, index=self.groups.index)
        by_group.columns = pd.MultiIndex.from_tuples(list(group_cols), names=["metric", "statistic"])
        return BootstrapResult(
            by_group=by_group, overall=overall, aggregates=aggregates, n_boot=n_boot, ci=ci
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation: groups, overall, differences, ratios and undefined rates (NaN → None).

        Example:
            >>> sorted(group_rates([1, 0], [1, 1], sensitive_features=["a", "a"]).to_dict())
            ['by_group', 'difference', 'overall', 'ratio', 'sensitive_features', 'undefined']
        """
        out = self._base_dict()
        out["undefined"] = [
            {k: (_plain_label(v) if k == "group" else _plain(v)) for k, v in rec.items()}
            for rec in self.undefined.to_dict(orient="records")
        ]
        return out

    def _repr_html_(self) -> str:
        und = self.undefined
        note = ""
        if len(und):
            items = "".join(
                f"<li>{html.escape(str(r.group))}: {r.metric} undefined "
                f"(no {r.denominator}; {r.count} rows)</li>"
                for r in und.itertuples()
            )
            note = f"<h4>Undefined rates</h4><ul>{items}</ul>"
        return "<div class='mlops-fairness'>" + self._html_tables() + note + "</div>"

    def __repr__(self) -> str:
        return f"GroupRates(groups={self.groups.n_groups}, features={self.groups.names})\n{self._by_group}"


def group_rates(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    pos_label: Hashable = 1,
    sample_weight: Any = None,
    threshold: float | None = None,
    zero_division: ZeroDivision = math.nan,
    missing: Missing = "error",
    rates: tuple[str, ...] | list[str] | None = None,
) -> GroupRates:
    """Compute the built-in rates per group in one vectorized pass.

    Args:
        y_true: True labels (binary).
        y_pred: Predicted labels, or scores with ``threshold``.
        sensitive_features: One column, a DataFrame or a dict of columns; several features give
            intersectional groups.
        pos_label: The positive (favorable) label.
        sample_weight: Optional non-negative weights.
        threshold: Turns scores into labels (``score >= threshold``).
        zero_division: Value of a rate whose denominator is zero: NaN (default, "undefined"), 0 or 1, or a
            mapping rate name → value.
        missing: ``"error"`` or ``"group"`` for NaN in a sensitive feature.
        rates: Which rates to compute (names or aliases); all by default.

    Returns:
        A :class:`GroupRates`.

    Raises:
        InvalidInputError: Invalid input (see :func:`mlops.fairness.validation.prepare`).

    Example:
        >>> r = group_rates([1, 0, 1, 0], [1, 1, 0, 0], sensitive_features=["F", "F", "M", "M"])
        >>> r.by_group["selection_rate"].tolist()
        [1.0, 0.0]
    """
    check_zero_division(zero_division)
    names = DEFAULT_RATES if rates is None else tuple(resolve_rate(r).name for r in rates)
    prep = prepare(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        pos_label=pos_label,
        sample_weight=sample_weight,
        threshold=threshold,
        require_pred=True,
    )
    return _from_prepared(prep, missing=missing, zero_division=zero_division, rates=names)


def _from_prepared(
    prep: Prepared, *, missing: Missing, zero_division: ZeroDivision, rates: tuple[str, ...]
) -> GroupRates:
    groups = encode_groups(prep.features, missing=missing)
    idx = cell_index(groups.codes, prep.y_true, prep.y_pred)
    counts = counts_from_index(idx, groups.n_groups, prep.weight)
    return GroupRates(
        counts, groups, rates=rates, zero_division=zero_division, cell_idx=idx, weight=prep.weight
    )


# ---------------------------------------------------------------------------------------------- MetricFrame

MetricFn = Callable[..., Any]


class MetricFrame(_Grouped):
    """Any ``metric(y_true, y_pred, **sample_params)`` evaluated per group, like Fairlearn's ``MetricFrame``.

    ``metrics`` is one callable or a dict name → callable. ``sample_params`` is a dict of keyword arguments
    for a single metric, or (with a dict of metrics) a dict metric name → keyword arguments, as in
    Fairlearn; array-like values of the input's length are split by group, other values are passed as
    they are. When every metric is one of this package's rate functions (``selection_rate``,
    ``false_positive_rate``, ...), the frame is computed from confusion counts in one vectorized pass.

    Example:
        >>> from mlops.fairness import false_positive_rate
        >>> mf = MetricFrame(metrics={"fpr": false_positive_rate}, y_true=[0, 0, 1, 0],
        ...                  y_pred=[1, 0, 1, 0], sensitive_features=["a", "a", "b", "b"])
        >>> mf.by_group["fpr"].tolist()
        [0.5, 0.0]
    """

    def __init__(
        self,
        *,
        metrics: MetricFn | Mapping[str, MetricFn],
        y_true: Any,
        y_pred: Any,
        sensitive_features: Any,
        sample_params: Mapping[str, Any] | None = None,
        missing: Missing = "error",
    ) -> None:
        if callable(metrics):
            fns = {getattr(metrics, "__name__", "metric"): metrics}
            params = {next(iter(fns)): dict(sample_params or {})}
        elif isinstance(metrics, Mapping) and metrics and all(callable(f) for f in metrics.values()):
            fns = {str(k): v for k, v in metrics.items()}
            sp = dict(sample_params or {})
            unknown = set(sp) - set(fns)
            if unknown:
                raise InvalidInputError(
                    f"sample_params keys {sorted(unknown)} are not metric names {sorted(fns)}; "
                    f"with a dict of "
                    f"metrics, sample_params maps each metric name to its keyword arguments"
                )
            params = {k: dict(sp.get(k, {})) for k in fns}
        else:
            raise InvalidInputError("metrics must be a callable or a non-empty dict of name -> callable")
        self._fast: GroupRates | None = self._try_fast(
            fns, params, y_true, y_pred, sensitive_features, missing
        )
        if self._fast is not None:
            rate_of = {name: _BUILTIN[fn].name for name, fn in fns.items()}
            self._by_group = pd.DataFrame(
                {name: self._fast.by_group[r] for name, r in rate_of.items()}, index=self._fast.groups.index
            )
            self._overall = pd.Series(
                {name: self._fast.overall[r] for name, r in rate_of.items()}, dtype=np.float64
            )
            self._overall.name = "overall"
            return
        self._evaluate(fns, params, y_true, y_pred, sensitive_features, missing)

    @staticmethod
    def _try_fast(
        fns: Mapping[str, MetricFn],
        params: Mapping[str, dict[str, Any]],
        y_true: Any,
        y_pred: Any,
        sensitive_features: Any,
        missing: Missing,
    ) -> GroupRates | None:
        if not all(fn in _BUILTIN for fn in fns.values()):
            return None
        kw = list(params.values())
        allowed = {"sample_weight", "pos_label"}
        if any(set(p) - allowed for p in kw):
            return None
        pos = {repr(p.get("pos_label", 1)) for p in kw}
        weights = [p.get("sample_weight") for p in kw]
        if len(pos) > 1 or any(w is not weights[0] for w in weights):
            return None
        rates = tuple(dict.fromkeys(_BUILTIN[fn].name for fn in fns.values()))
        prep = prepare(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            pos_label=kw[0].get("pos_label", 1),
            sample_weight=weights[0],
        )
        return _from_prepared(prep, missing=missing, zero_division=math.nan, rates=rates)

    def _evaluate(
        self,
        fns: Mapping[str, MetricFn],
        params: Mapping[str, dict[str, Any]],
        y_true: Any,
        y_pred: Any,
        sensitive_features: Any,
        missing: Missing,
    ) -> None:
        yt = as_label_array(y_true, "y_true")
        yp = as_label_array(y_pred, "y_pred")
        features = as_sensitive_features(sensitive_features)
        n = len(yt)
        lengths = {
            "y_true": n,
            "y_pred": len(yp),
            **{f"sensitive feature {k!r}": len(v) for k, v in features},
        }
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k} has {v}" for k, v in lengths.items())
            raise InvalidInputError(
                f"inputs have different lengths: {detail}; every input needs one entry per row"
            )
        if n == 0:
            raise InvalidInputError("empty input: y_true has no rows; fairness metrics need at least one row")
        groups = encode_groups(features, missing=missing)
        order = np.argsort(groups.codes, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(groups.codes, minlength=groups.n_groups))))
        split = {k: {p: _splitter(v, n) for p, v in kw.items()} for k, kw in params.items()}
        columns: dict[str, list[Any]] = {name: [] for name in fns}
        for g in range(groups.n_groups):  # a loop over groups: each slice is taken once, no row scans
            rows = order[bounds[g] : bounds[g + 1]]
            for name, fn in fns.items():
                kw = {p: s(rows) for p, s in split[name].items()}
                columns[name].append(fn(yt[rows], yp[rows], **kw))
        self._by_group = pd.DataFrame(columns, index=groups.index)
        everything = np.arange(n)
        self._overall = pd.Series(
            {
                name: fn(yt, yp, **{p: s(everything) for p, s in split[name].items()})
                for name, fn in fns.items()
            },
            name="overall",
        )

    @property
    def rates(self) -> GroupRates | None:
        """The underlying :class:`GroupRates` when the fast path was used (bootstrap, counts), else None."""
        return self._fast

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (NaN → None).

        Example:
            >>> from mlops.fairness import selection_rate
            >>> mf = MetricFrame(metrics=selection_rate, y_true=[0, 1], y_pred=[1, 1],
            ...                  sensitive_features=["a", "b"])
            >>> mf.to_dict()["overall"]
            {'selection_rate': 1.0}
        """
        return self._base_dict()

    def _repr_html_(self) -> str:
        return "<div class='mlops-fairness'>" + self._html_tables() + "</div>"

    def __repr__(self) -> str:
        return f"MetricFrame(metrics={list(self._overall.index)})\n{self._by_group}"


def _splitter(value: Any, n: int) -> Callable[[NDArray[np.intp]], Any]:
    if value is not None and not np.isscalar(value) and hasattr(value, "__len__") and len(value) == n:
        arr = value.to_numpy() if isinstance(value, pd.Series | pd.DataFrame) else np.asarray(value)
        return lambda rows: arr[rows]
    return lambda rows: value


_BUILTIN: dict[Callable[..., Any], RateDef] = {}


def register_builtin(fn: Callable[..., Any], rate: str) -> None:
    """Mark ``fn`` as computing ``rate`` so that :class:`MetricFrame` can use the counting fast path.

    Used by :mod:`mlops.fairness.metrics` for its rate functions; ``fn`` must accept
    ``(y_true, y_pred, *, pos_label, sample_weight)`` and return exactly that rate.

    Example:
        >>> from mlops.fairness.metrics import accuracy
        >>> register_builtin(accuracy, "accuracy")
    """
    _BUILTIN[fn] = RATES[rate]
