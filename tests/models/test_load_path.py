"""What loading a model costs beyond the model itself: imports and look-ups that cold start must not pay.

A fresh interpreter loads a model from a local path, from its run and through the registry, and reports
``sys.modules``: the migration machinery (Alembic) stays unimported while the schema is current, and a
local path opens no store at all. The version check after loading reads the library's ``__version__``
instead of scanning the installed distributions.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

import mlops
from mlops import Client
from mlops.models import MANIFEST_FILE, infer_signature, load_model

X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
Y = np.array([0, 0, 1, 1])

CHILD = """
import json, sys
import mlops
rows = json.loads(sys.argv[4])
mlops.load_model(sys.argv[1]).predict(rows)
after_path = sorted(sys.modules)
for uri in sys.argv[2:4]:
    mlops.load_model(uri).predict(rows)
print(json.dumps({"path": after_path, "stores": sorted(sys.modules)}))
"""


def _loaded_modules(tmp_path: Path, path_uri: str, runs_uri: str, models_uri: str) -> dict[str, list[str]]:
    env = {
        **os.environ,
        "MLOPS_TRACKING_URI": f"sqlite:///{tmp_path / 'mlops.db'}",
        "MLOPS_ARTIFACT_URI": str(tmp_path / "artifacts"),
        "PYTHONWARNINGS": "ignore",
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path_uri, runs_uri, models_uri, json.dumps(X[:1].tolist())],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    modules: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return modules


def _under(modules: list[str], *packages: str) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def test_a_fresh_process_loads_without_the_migration_machinery(tmp_path: Path) -> None:
    model = LogisticRegression().fit(X, Y)
    mlops.save_model(model, tmp_path / "local")
    client = Client(f"sqlite:///{tmp_path / 'mlops.db'}", artifact_uri=str(tmp_path / "artifacts"))
    run = client.create_run(client.get_or_create_experiment("cold").experiment_id)
    info = client.log_model(run.run_id, model, "model")
    client.end_run(run.run_id)
    client.registry.register_model(info.model_uri, "cold", user="ann")
    client.registry.set_alias("cold", "champion", 1)
    client.close()

    modules = _loaded_modules(tmp_path, str(tmp_path / "local"), info.model_uri, "models:/cold@champion")

    # a local path needs no store: no database, no fsspec, no migrations
    assert _under(modules["path"], "sqlalchemy", "alembic", "fsspec", "mlops.store.sql") == []
    # a current SQLite schema is checked by reading one row: Alembic is never imported
    assert "mlops.store.sql.migrate" in modules["stores"]  # the check did run
    assert _under(modules["stores"], "alembic") == []


def test_the_version_check_reads_the_loaded_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_metadata_scan(name: str) -> str:
        raise AssertionError(f"importlib.metadata.version({name!r}) scans every installed distribution")

    mlops.save_model(LogisticRegression().fit(X, Y), tmp_path / "m")
    monkeypatch.setattr(importlib.metadata, "version", no_metadata_scan)
    assert load_model(str(tmp_path / "m")).predict(X).shape == (4,)

    manifest = json.loads((tmp_path / "m" / MANIFEST_FILE).read_text())
    manifest["libraries"]["scikit-learn"] = "0.20.0"
    (tmp_path / "m" / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.warns(
        UserWarning, match=f"saved with scikit-learn 0.20.0 and is loaded with {sklearn.__version__}"
    ):
        load_model(str(tmp_path / "m"))


def test_a_tensor_signature_checks_arrays_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    signature = infer_signature(X)
    assert signature.inputs.tensor is not None
    monkeypatch.setitem(sys.modules, "pandas", None)  # any `import pandas` now fails
    assert signature.validate(X[:2].tolist()).dtype == np.float64
    assert signature.validate(X.astype(np.float32)).dtype == np.float64
