"""The credit-default story, end to end, on the embedded store: ``python -m mlops demo``.

On the real Taiwan credit data (shipped in the package): train and compare three models under
autolog (with a small hyperparameter search), register the best, build a bias report on sex, marriage
and age band with SHAP explanations, get it approved and promoted to Production through the model's
policy, batch-score a file, and serve online predictions through an A/B router. Re-running it adds to
the store. Everything it writes goes under one folder (``./mlops-data`` by default).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

__all__ = ["MODEL_NAME", "run_demo"]

MODEL_NAME = "credit-default"
EXPERIMENT = "credit-default"
AGE_BANDS = [20, 25, 35, 45, 55, 80]
AGE_LABELS = ["21-25", "26-35", "36-45", "46-55", "56+"]


def _say(message: str) -> None:
    print(message, flush=True)


def _prepare(seed: int) -> tuple[Any, Any, Any, Any]:
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from mlops.datasets import load_credit_default

    frame = load_credit_default()
    frame["age_band"] = pd.cut(frame["age"], AGE_BANDS, labels=AGE_LABELS)
    train, test = train_test_split(frame, test_size=0.2, stratify=frame["default"], random_state=seed)
    return train, test, train["default"], test["default"]


def _features(frame: Any) -> Any:
    return frame.drop(columns=["id", "default", "age_band"])


def _models(seed: int) -> dict[str, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = ["sex", "education", "marriage"]

    def prep(scale: bool) -> ColumnTransformer:
        numeric = StandardScaler() if scale else "passthrough"
        return ColumnTransformer(
            [("cat", OneHotEncoder(handle_unknown="ignore"), categorical)], remainder=numeric
        )

    logreg = GridSearchCV(
        Pipeline([("prep", prep(True)), ("clf", LogisticRegression(max_iter=300))]),
        {"clf__C": [0.05, 0.5, 5.0]},
        cv=2,
        scoring="roc_auc",
    )
    boosting = Pipeline(
        [
            ("prep", prep(False)),
            ("clf", HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, random_state=seed)),
        ]
    )
    forest = Pipeline(
        [
            ("prep", prep(False)),
            (
                "clf",
                RandomForestClassifier(
                    n_estimators=80, max_depth=10, min_samples_leaf=20, n_jobs=-1, random_state=seed
                ),
            ),
        ]
    )
    return {"logistic-regression": logreg, "gradient-boosting": boosting, "random-forest": forest}


def run_demo(directory: str | Path = "mlops-data", *, seed: int = 0) -> dict[str, Any]:
    """Run the whole story; return what it made (run ids, versions, paths) and print as it goes.

    Example:
        >>> run_demo.__doc__ is not None  # the full demo takes ~30-60 s; see ``make demo``
        True
    """
    import numpy as np
    from sklearn.metrics import roc_auc_score

    import mlops
    from mlops.fairness import bias_report
    from mlops.registry.client import RegistryClient
    from mlops.serving import BatchPredictor, Router

    started = time.perf_counter()
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    tracking_uri = f"sqlite:///{root / 'mlops.db'}"
    mlops.set_tracking_uri(tracking_uri)
    mlops.set_artifact_uri((root / "artifacts").as_uri())
    mlops.set_experiment(EXPERIMENT)
    _say(f"mlops demo: credit-card default (30,000 clients, Taiwan 2005), store in {root}")

    # 1. data ------------------------------------------------------------------------------------
    train, test, y_train, y_test = _prepare(seed)
    X_train, X_test = _features(train), _features(test)
    _say(
        f"1. data: {len(train):,} training and {len(test):,} test rows, {X_train.shape[1]} features, "
        f"{y_train.mean():.1%} defaults"
    )

    # 2. train and compare under autolog ----------------------------------------------------------
    mlops.autolog(silent=True, max_tuning_runs=3)
    run_ids: dict[str, str] = {}
    scores: dict[str, float] = {}
    for name, model in _models(seed).items():
        with mlops.start_run(run_name=name, tags={"demo": "credit-default"}) as run:
            model.fit(X_train, y_train)
            proba = model.predict_proba(X_test)[:, 1]
            scores[name] = float(roc_auc_score(y_test, proba))
            mlops.log_metric("test_roc_auc", scores[name])
            mlops.log_input(test, name="credit-test", context="evaluation")
        run_ids[name] = run.run_id
    mlops.flush()
    mlops.autolog(disable=True)
    table = mlops.get_client().search_runs(
        [mlops.get_experiment_by_name(EXPERIMENT).experiment_id],  # type: ignore[union-attr]
        "tags.demo = 'credit-default' and metrics.test_roc_auc > 0",
        order_by=["metrics.test_roc_auc DESC"],
    )
    assert not isinstance(table, list)
    shown = table[table["run_id"].isin(run_ids.values())][
        ["run_name", "metrics.test_roc_auc", "metrics.training_roc_auc", "metrics.training_fit_time_s"]
    ]
    _say("2. trained three models under autolog (with a 3-candidate grid search for logistic regression):")
    _say("   " + shown.to_string(index=False, float_format=lambda v: f"{v:.4f}").replace("\n", "\n   "))

    # 3. register the best and the runner-up --------------------------------------------------
    ranked = sorted(scores, key=lambda k: scores[k], reverse=True)
    best, second = ranked[0], ranked[1]
    champion = mlops.register_model(f"runs:/{run_ids[best]}/model", MODEL_NAME)
    challenger = mlops.register_model(f"runs:/{run_ids[second]}/model", MODEL_NAME)
    registry = RegistryClient(tracking_uri, user="data-scientist")
    _say(
        f"3. registered {MODEL_NAME} v{champion.version} ({best}, AUC {scores[best]:.4f}) and "
        f"v{challenger.version} ({second}, AUC {scores[second]:.4f})"
    )

    # 4. bias report with SHAP ------------------------------------------------------------------
    loaded = mlops.load_model(f"models:/{MODEL_NAME}/{champion.version}")
    sensitive = {"sex": test["sex"], "marriage": test["marriage"], "age_band": test["age_band"]}
    report = bias_report(
        loaded,
        X_test,
        y_test,
        sensitive_features=sensitive,
        privileged={"sex": "male", "marriage": "married", "age_band": "26-35"},
        n_boot=200,
        max_explain_rows=1000,
        random_state=seed,
    )
    with mlops.start_run(
        run_name=f"{MODEL_NAME}-v{champion.version}-bias-review",
        tags={"demo": "credit-default", "model": f"{MODEL_NAME}/{champion.version}"},
    ) as review:
        report_uri = report.log(review.run_id)
    report.attach(MODEL_NAME, champion.version)
    report_path = root / "reports" / f"{MODEL_NAME}-v{champion.version}-bias.html"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report.to_html(report_path)
    verdict = "passes" if report.passed else "fails"
    worst = report.summary_metrics()
    _say(
        f"4. bias report on sex, marriage and age band ({verdict} the default thresholds): "
        f"equalized odds difference {worst.get('fairness.equalized_odds_difference', float('nan')):.3f}, "
        f"disparate impact {worst.get('fairness.disparate_impact', float('nan')):.3f}"
    )

    # 5. policy, approval and promotion ----------------------------------------------------------
    registry.set_policy(
        MODEL_NAME,
        {"Production": {"approvals": 1, "gates": ["metrics.test_roc_auc >= 0.70", "report:bias exists"]}},
    )
    registry.request_approval(
        MODEL_NAME,
        champion.version,
        "Production",
        comment=f"test AUC {scores[best]:.4f}; bias report attached",
    )
    registry.approve(
        MODEL_NAME,
        champion.version,
        "Production",
        user="risk-officer",
        comment=f"reviewed; the report {verdict}",
    )
    registry.transition_stage(
        MODEL_NAME, champion.version, "Production", archive_existing=True, comment="demo promotion"
    )
    registry.set_alias(MODEL_NAME, "champion", champion.version)
    registry.set_alias(MODEL_NAME, "challenger", challenger.version)
    events = registry.events(MODEL_NAME)
    registry.verify_events(MODEL_NAME)
    _say(
        f"5. policy (1 approval, AUC >= 0.70, a bias report) satisfied: v{champion.version} is in "
        f"Production as @champion, v{challenger.version} is @challenger; audit log {len(events)} "
        "events, hash chain verified"
    )

    # 6. batch scoring of a file -----------------------------------------------------------------
    batch_dir = root / "batch"
    batch_dir.mkdir(exist_ok=True)
    input_path = batch_dir / "applications.parquet"
    output_path = batch_dir / "scores.parquet"
    test.drop(columns=["default", "age_band"]).to_parquet(input_path, index=False)
    batch = BatchPredictor(f"models:/{MODEL_NAME}@champion", output="predict_proba")
    result = batch.predict_file(
        str(input_path), str(output_path), keep_columns=["id"], chunk_rows=2_000, progress=False
    )
    _say(
        f"6. batch-scored {result.rows:,} applications in {result.chunks} chunks "
        f"({result.seconds:.2f} s) -> {output_path}"
    )

    # 7. online predictions through an A/B router -------------------------------------------------
    router = Router(
        {f"models:/{MODEL_NAME}@champion": 0.8, f"models:/{MODEL_NAME}@challenger": 0.2},
        sticky_key="id",
        seed=seed,
    )
    records = test.drop(columns=["default", "age_band"]).head(500).to_dict(orient="records")
    latencies = []
    for record, outcome in zip(records, y_test.head(500), strict=True):
        prediction = router.predict(record)
        latencies.append(prediction.latency_ms)
        router.record_outcome(prediction.request_id, int(outcome))
    summary = router.summary()
    shares = ", ".join(
        f"{variant.split('@')[-1]} {int(row['requests'])}"
        for variant, row in summary.iterrows()
        if row["role"] != "shadow"
    )
    outcome_rates = ", ".join(
        f"{variant.split('@')[-1]} {row['outcome_rate']:.3f}"
        for variant, row in summary.iterrows()
        if row["role"] != "shadow"
    )
    _say(
        f"7. served {len(records)} online predictions through the A/B router (sticky by client id): "
        f"{shares}; median latency {float(np.median(latencies)):.2f} ms; observed default rate "
        f"{outcome_rates}"
    )

    took = time.perf_counter() - started
    _say(f"done in {took:.1f} s. Where to look:")
    _say(f"   store:       {tracking_uri}")
    _say(f"   report:      {report_path}  (also {report_uri})")
    _say(f"   scores:      {output_path}")
    _say(f"   runs:        python -m mlops --tracking-uri {tracking_uri} runs list -e {EXPERIMENT}")
    _say(f"   audit log:   python -m mlops --tracking-uri {tracking_uri} models events {MODEL_NAME}")
    mlops.set_tracking_uri(None)
    mlops.set_artifact_uri(None)
    return {
        "runs": run_ids,
        "scores": scores,
        "champion": champion.version,
        "challenger": challenger.version,
        "report": str(report_path),
        "scores_file": str(output_path),
        "seconds": took,
        "report_passed": report.passed,
        "router": summary,
    }
