"""Ten lines of tracking: a training loop logged with the fluent API on the embedded default store.

Run it with ``python examples/quickstart.py``; it writes to ``./mlops-data`` and prints what it logged.
``make demo`` (``python -m mlops demo``) shows the whole lifecycle instead.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

import mlops


def main() -> None:
    X, y = make_classification(n_samples=5_000, n_features=20, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    mlops.set_experiment("quickstart")
    with mlops.start_run(run_name="sgd") as run:
        mlops.log_params({"loss": "log_loss", "alpha": 1e-4, "epochs": 20})
        model = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0)
        for epoch in range(20):
            model.partial_fit(X_train, y_train, classes=np.unique(y))
            mlops.log_metric("train_log_loss", log_loss(y_train, model.predict_proba(X_train)), step=epoch)
            mlops.log_metric("test_accuracy", accuracy_score(y_test, model.predict(X_test)), step=epoch)
        mlops.log_input(X_train, name="synthetic-train")
        info = mlops.log_model(model, "model", input_example=X_test[:5])
    done = mlops.get_run(run.run_id)
    print(f"run {done.run_name} {done.status}: {dict(done.metrics)}")
    print(f"model: {info.model_uri}  (mlops.load_model reloads it, hash-checked)")
    print(f"metadata: {mlops.get_tracking_uri()}")
    print(mlops.search_runs(order_by=["metrics.test_accuracy DESC"])[["run_name", "metrics.test_accuracy"]])


if __name__ == "__main__":
    main()
