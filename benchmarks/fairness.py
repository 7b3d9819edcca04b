"""Fairness benchmarks F1–F4 (see ``BENCHMARKS.md``): mlops against Fairlearn, side by side.

Run from the repository root::

    python -m benchmarks.fairness              # all workloads
    python -m benchmarks.fairness F1 F3        # some of them
    python -m benchmarks.fairness --repeat 5

Every workload runs in a fresh subprocess (so peak RSS is that workload's own), once for mlops and, when
``fairlearn`` is importable, once for Fairlearn. Fairlearn takes minutes at 10 million rows, so it runs
on a smaller ``n`` (and, for F4, fewer resamples) and its time is scaled linearly to the workload's
size; the JSON says so (``fairlearn_n``, ``fairlearn_scale``). Values are checked against Fairlearn on
the same rows (``max_abs_diff``). One JSON line per workload is printed.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

WORKLOADS: dict[str, dict[str, Any]] = {
    "F1": {
        "n": 10_000_000,
        "features": 1,
        "what": "MetricFrame {FPR, FNR, selection rate}, 4 string groups",
        "target_s": 2.0,
        "target_rss_mb": 1536,
        "fairlearn_n": 500_000,
    },
    "F2": {
        "n": 10_000_000,
        "features": 2,
        "what": "same, two features (4 x 3 intersectional groups)",
        "target_s": 3.0,
        "fairlearn_n": 500_000,
    },
    "F3": {
        "n": 10_000_000,
        "features": 1,
        "what": "equalized odds difference alone",
        "target_s": 1.0,
        "fairlearn_n": 500_000,
    },
    "F4": {
        "n": 1_000_000,
        "features": 1,
        "what": "bootstrap CI (1,000 resamples) of equalized odds difference",
        "target_s": 10.0,
        "n_boot": 1000,
        "fairlearn_n": 100_000,
        "fairlearn_n_boot": 5,
    },
}


def make_data(n: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, pd.Series]]:
    """Synthetic labels, predictions and string sensitive features (pandas ``str`` columns)."""
    rng = np.random.default_rng(seed)
    g1 = rng.integers(0, 4, n)
    y_true = (rng.random(n) < 0.2 + 0.05 * g1).astype(np.int8)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true).astype(np.int8)
    names = np.array(["group_a", "group_b", "group_c", "group_d"], dtype=object)
    sf = {"race": pd.Series(names[g1], dtype="str", name="race")}
    if features > 1:
        bands = np.array(["young", "middle", "old"], dtype=object)
        sf["age"] = pd.Series(bands[rng.integers(0, 3, n)], dtype="str", name="age")
    return y_true, y_pred, sf


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _sensitive(sf: dict[str, pd.Series]) -> Any:
    return sf["race"] if len(sf) == 1 else pd.DataFrame(sf)


def run_mlops(wid: str, repeat: int) -> dict[str, Any]:
    import mlops.fairness as mf

    spec = WORKLOADS[wid]
    y_true, y_pred, sf = make_data(spec["n"], spec["features"])
    sens = _sensitive(sf)
    rss_data = _rss_mb()
    times = []
    value: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        if wid in ("F1", "F2"):
            frame = mf.MetricFrame(
                metrics={
                    "fpr": mf.false_positive_rate,
                    "fnr": mf.false_negative_rate,
                    "sel": mf.selection_rate,
                },
                y_true=y_true,
                y_pred=y_pred,
                sensitive_features=sens,
            )
            value = frame.by_group.to_numpy().ravel().tolist()
        elif wid == "F3":
            value = mf.equalized_odds_difference(y_true, y_pred, sensitive_features=sens)
        else:
            rates = mf.group_rates(y_true, y_pred, sensitive_features=sens, rates=["tpr", "fpr"])
            boot = rates.bootstrap(n_boot=spec["n_boot"], random_state=0)
            row = boot.aggregates.loc["equalized_odds_difference"]
            value = [float(row["estimate"]), float(row["lower"]), float(row["upper"])]
        times.append(time.perf_counter() - t0)
    return {
        "seconds": statistics.median(times),
        "all_seconds": times,
        "peak_rss_mb": _rss_mb(),
        "rss_after_data_mb": rss_data,
        "value": value,
    }


def run_fairlearn(wid: str) -> dict[str, Any]:
    import fairlearn
    import fairlearn.metrics as fm

    import mlops.fairness as mf

    spec = WORKLOADS[wid]
    n = spec["fairlearn_n"]
    y_true, y_pred, sf = make_data(spec["n"], spec["features"])
    y_true, y_pred = y_true[:n], y_pred[:n]
    sf = {k: v.iloc[:n].reset_index(drop=True) for k, v in sf.items()}
    sens = _sensitive(sf)
    t0 = time.perf_counter()
    diff = float("nan")
    if wid in ("F1", "F2"):
        frame = fm.MetricFrame(
            metrics={"fpr": fm.false_positive_rate, "fnr": fm.false_negative_rate, "sel": fm.selection_rate},
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sens,
        )
        seconds = time.perf_counter() - t0
        ours = mf.MetricFrame(
            metrics={"fpr": mf.false_positive_rate, "fnr": mf.false_negative_rate, "sel": mf.selection_rate},
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sens,
        )
        diff = float(
            np.max(np.abs(frame.by_group.to_numpy(dtype=float) - ours.by_group.to_numpy(dtype=float)))
        )
        scale = spec["n"] / n
    elif wid == "F3":
        theirs = fm.equalized_odds_difference(y_true, y_pred, sensitive_features=sens)
        seconds = time.perf_counter() - t0
        diff = abs(theirs - mf.equalized_odds_difference(y_true, y_pred, sensitive_features=sens))
        scale = spec["n"] / n
    else:
        k = spec["fairlearn_n_boot"]
        fm.MetricFrame(
            metrics={"tpr": fm.true_positive_rate, "fpr": fm.false_positive_rate},
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sens,
            n_boot=k,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        ).difference()
        seconds = time.perf_counter() - t0
        scale = (spec["n"] / n) * (spec["n_boot"] / (k + 1))  # k resamples plus the point estimate
    return {
        "fairlearn_version": fairlearn.__version__,
        "fairlearn_n": n,
        "fairlearn_measured_seconds": seconds,
        "fairlearn_scale": scale,
        "fairlearn_seconds_scaled": seconds * scale,
        "max_abs_diff": diff,
        "fairlearn_peak_rss_mb": _rss_mb(),
    }


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.fairness", "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _has_fairlearn() -> bool:
    try:
        import fairlearn  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        kind, wid = argv[1], argv[2]
        result = run_mlops(wid, int(argv[3])) if kind == "mlops" else run_fairlearn(wid)
        print(json.dumps(result))
        return
    repeat = 3
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    chosen = [a for a in argv if a in WORKLOADS] or list(WORKLOADS)
    with_fairlearn = _has_fairlearn()
    for wid in chosen:
        spec = WORKLOADS[wid]
        ours = _child(["mlops", wid, str(repeat)])
        line: dict[str, Any] = {
            "workload": wid,
            "what": spec["what"],
            "n": spec["n"],
            "repeat": repeat,
            "target_seconds": spec["target_s"],
        }
        line.update(
            {
                f"mlops_{k}" if k in ("seconds", "peak_rss_mb", "all_seconds") else k: v
                for k, v in ours.items()
                if k != "value"
            }
        )
        if "target_rss_mb" in spec:
            line["target_peak_rss_mb"] = spec["target_rss_mb"]
        if with_fairlearn:
            theirs = _child(["fairlearn", wid])
            line.update(theirs)
            if "fairlearn_seconds_scaled" in theirs and "mlops_seconds" in line:
                line["ratio_fairlearn_over_mlops"] = (
                    theirs["fairlearn_seconds_scaled"] / line["mlops_seconds"]
                )
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
