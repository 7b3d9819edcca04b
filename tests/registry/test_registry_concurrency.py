"""16 processes register versions of one (not yet existing) model through ``register_model`` at once."""

from __future__ import annotations

import multiprocessing as mp
import traceback
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _register(uri: str, run_id: str, barrier: Any) -> tuple[str, Any]:
    try:
        from mlops.registry import RegistryClient

        reg = RegistryClient(uri, user="worker")
        barrier.wait()
        return "ok", reg.register_model(f"runs:/{run_id}/model", "credit").version
    except BaseException:
        return "error", traceback.format_exc()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sixteen_processes_register_versions_one_to_sixteen(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    import mlops

    uri = f"sqlite:///{tmp_path / 'mlops.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    client = mlops.Client(uri, artifact_uri="memory://concurrency")
    run = client.create_run(client.get_or_create_experiment("e").experiment_id)
    client.end_run(run.run_id)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(16)
        with ctx.Pool(16) as pool:
            results = pool.starmap(_register, [(uri, run.run_id, barrier)] * 16)
    errors = [r for status, r in results if status == "error"]
    assert errors == [], "\n".join(errors)
    assert sorted(r for _, r in results) == list(range(1, 17))
    reg = client.registry
    assert [v.version for v in reg.search_model_versions("credit")] == list(range(1, 17))
    actions = [e.action for e in reg.events("credit")]
    assert actions == ["model_created"] + ["version_created"] * 16  # one creator won, no gap
    assert reg.verify_events("credit") == 17
