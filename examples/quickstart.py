"""A first look at mlops' stores: track a training run on the embedded default store.

Run it with ``make demo`` (or ``python examples/quickstart.py``). It trains a small classifier,
records its parameters, per-epoch metrics and the fitted coefficients as an artifact, reads them
back, and prints where everything went. Nothing to start first: the metadata goes to a SQLite file
and the artifacts to a folder, both under ``./mlops-data``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from mlops import config
from mlops.entities import Metric, Param, now_ms
from mlops.store import open_artifact_store, open_registry_store, open_tracking_store


def main() -> None:
    tracking_uri, artifact_root = config.tracking_uri(), config.artifact_uri()
    tracking = open_tracking_store(tracking_uri)
    experiment = tracking.get_experiment_by_name("quickstart")
    experiment_id = (
        experiment.experiment_id if experiment else tracking.create_experiment("quickstart", artifact_root)
    )
    run = tracking.create_run(
        experiment_id,
        run_name=f"sgd-{time.strftime('%H%M%S')}",
        start_time=now_ms(),
        user_id=os.environ.get("USER", ""),
    )

    X, y = make_classification(n_samples=5_000, n_features=20, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    params = {"loss": "log_loss", "alpha": 1e-4, "epochs": 20}
    tracking.log_batch(run.run_id, params=[Param(k, str(v)) for k, v in params.items()])

    model = SGDClassifier(loss="log_loss", alpha=params["alpha"], random_state=0)
    points = []
    for epoch in range(params["epochs"]):
        model.partial_fit(X_train, y_train, classes=np.unique(y))
        t = now_ms()
        points += [
            Metric("train_log_loss", log_loss(y_train, model.predict_proba(X_train)), t, epoch),
            Metric("test_accuracy", accuracy_score(y_test, model.predict(X_test)), t, epoch),
        ]
    tracking.log_batch(run.run_id, metrics=points)

    artifacts = open_artifact_store(run.artifact_uri)
    stored = artifacts.put_bytes(
        "coefficients.json",
        json.dumps({"coef": model.coef_.tolist(), "intercept": model.intercept_.tolist()}).encode(),
    )
    tracking.update_run(run.run_id, status="FINISHED", end_time=now_ms())

    registry = open_registry_store(tracking_uri)
    if not registry.search_registered_models("quickstart-sgd"):
        registry.create_registered_model("quickstart-sgd", description="made by examples/quickstart.py")
    version = registry.create_model_version(
        "quickstart-sgd", f"{run.artifact_uri}/coefficients.json", run_id=run.run_id
    )

    done = tracking.get_run(run.run_id)
    history = tracking.get_metric_history(run.run_id, "test_accuracy")
    print(f"run {done.run_name} ({done.run_id}) {done.status}")
    print(f"  params:  {dict(done.params)}")
    print("  metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(done.metrics.items())))
    print(f"  test_accuracy by epoch: {[round(m.value, 3) for m in history]}")
    print(f"  artifact: coefficients.json, {stored.size} bytes, sha256 {stored.sha256[:16]}...")
    print(f"  registered as quickstart-sgd version {version.version}")
    print(f"metadata:  {tracking_uri}")
    print(f"artifacts: {done.artifact_uri}")
    print(f"runs in this experiment so far: {len(tracking.search_runs([experiment_id]))}")


if __name__ == "__main__":
    main()
