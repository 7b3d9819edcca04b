"""The fluent API: run stacks per thread and per asyncio task, context-manager semantics, defaults."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import mlops
from mlops.errors import InvalidInputError


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    mlops.set_tracking_uri(f"sqlite:///{tmp_path / 'mlops.db'}")
    mlops.set_artifact_uri((tmp_path / "artifacts").as_uri())
    yield tmp_path
    while mlops.active_run():
        mlops.end_run()
    mlops.set_tracking_uri(None)
    mlops.set_artifact_uri(None)


def test_with_block_finishes_the_run() -> None:
    mlops.set_experiment("e")
    with mlops.start_run(run_name="train", tags={"team": "risk"}, description="first") as run:
        assert mlops.active_run() is run
        mlops.log_param("C", 0.1)
        mlops.log_params({"penalty": "l2"})
        mlops.log_metric("loss", 0.5, step=1)
        mlops.log_metrics({"auc": 0.8, "f1": 0.6})
        mlops.set_tag("stage", "dev")
        mlops.set_tags({"owner": "ann"})
    assert mlops.active_run() is None
    got = mlops.get_run(run.run_id)
    assert got.status == "FINISHED" and got.end_time is not None
    assert dict(got.params) == {"C": "0.1", "penalty": "l2"}
    assert dict(got.metrics) == {"loss": 0.5, "auc": 0.8, "f1": 0.6}
    assert got.tags["team"] == "risk" and got.tags["stage"] == "dev" and got.tags["owner"] == "ann"
    assert got.tags["mlops.note.content"] == "first"
    assert [m.value for m in mlops.get_metric_history(run.run_id, "loss")] == [0.5]


def test_exception_fails_the_run_and_propagates() -> None:
    with pytest.raises(ZeroDivisionError), mlops.start_run() as run:
        mlops.log_metric("before", 1.0)
        _ = 1 / 0
    got = mlops.get_run(run.run_id)
    assert got.status == "FAILED" and got.metrics["before"] == 1.0
    assert mlops.active_run() is None


def test_keyboard_interrupt_kills_the_run() -> None:
    with pytest.raises(KeyboardInterrupt), mlops.start_run() as run:
        raise KeyboardInterrupt
    assert mlops.get_run(run.run_id).status == "KILLED"


def test_nested_runs() -> None:
    with mlops.start_run() as parent:
        with pytest.raises(InvalidInputError, match="nested=True"):
            mlops.start_run()
        with mlops.start_run(nested=True) as child:
            mlops.log_metric("inner", 1.0)
            assert mlops.active_run() is child
        assert mlops.active_run() is parent
    assert mlops.get_run(child.run_id).parent_run_id == parent.run_id
    assert mlops.get_run(child.run_id).experiment_id == parent.experiment_id


def test_log_without_a_run_starts_one_in_the_default_experiment() -> None:
    mlops.log_metric("x", 1.0)
    run = mlops.active_run()
    assert run is not None
    mlops.end_run()
    assert mlops.get_client().get_experiment(run.experiment_id).name == "Default"
    assert mlops.get_run(run.run_id).status == "FINISHED"
    mlops.end_run()  # no active run: a no-op


def test_end_run_with_status_and_resume() -> None:
    run = mlops.start_run()
    mlops.end_run(status="KILLED")
    assert mlops.get_run(run.run_id).status == "KILLED"
    with mlops.start_run(run_id=run.run_id, tags={"resumed": "yes"}):
        mlops.log_metric("after", 2.0)
    got = mlops.get_run(run.run_id)
    assert got.status == "FINISHED" and got.metrics["after"] == 2.0 and got.tags["resumed"] == "yes"


def test_set_experiment() -> None:
    exp = mlops.set_experiment("credit")
    with mlops.start_run() as run:
        pass
    assert run.experiment_id == exp.experiment_id
    assert mlops.set_experiment(experiment_id=exp.experiment_id).name == "credit"
    with pytest.raises(InvalidInputError, match="exactly one"):
        mlops.set_experiment()
    with pytest.raises(InvalidInputError, match="exactly one"):
        mlops.set_experiment("a", experiment_id="b")
    assert mlops.get_experiment_by_name("credit") is not None


def test_each_thread_has_its_own_run_stack() -> None:
    mlops.set_experiment("threads")
    barrier = threading.Barrier(4)
    seen: dict[int, str] = {}
    errors: list[BaseException] = []

    def train(i: int) -> None:
        try:
            assert mlops.active_run() is None  # a new thread starts with no active run
            with mlops.start_run(run_name=f"t{i}") as run:
                barrier.wait()  # every thread has a run open at once
                for step in range(50):
                    mlops.log_metric("loss", float(i), step=step)
                assert mlops.active_run() is run
                seen[i] = run.run_id
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    with mlops.start_run() as main_run:
        threads = [threading.Thread(target=train, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert mlops.active_run() is main_run
    assert errors == []
    for i, run_id in seen.items():
        history = mlops.get_metric_history(run_id, "loss")
        assert len(history) == 50 and {m.value for m in history} == {float(i)}


def test_each_asyncio_task_has_its_own_run_stack() -> None:
    mlops.set_experiment("tasks")

    async def train(i: int) -> str:
        with mlops.start_run(run_name=f"task{i}") as run:
            for step in range(10):
                mlops.log_metric("v", float(i), step=step)
                await asyncio.sleep(0)  # interleave with the other tasks
            assert mlops.active_run() is run
            return run.run_id

    async def main() -> list[str]:
        return await asyncio.gather(*(train(i) for i in range(3)))

    run_ids = asyncio.run(main())
    assert mlops.active_run() is None
    for i, run_id in enumerate(run_ids):
        assert {m.value for m in mlops.get_metric_history(run_id, "v")} == {float(i)}


def test_artifacts_and_inputs_through_the_fluent_api(store: Path) -> None:
    (store / "notes.txt").write_text("hello")
    with mlops.start_run() as run:
        mlops.log_artifact(store / "notes.txt")
        mlops.log_dict({"a": 1}, "cfg.json")
        mlops.log_text("t", "t.txt")
        mlops.log_table(pd.DataFrame({"a": [1]}), "t.csv")
        mlops.log_input(pd.DataFrame({"a": [1, 2]}), name="train")
        assert mlops.get_artifact_uri().endswith(f"{run.run_id}/artifacts")
        assert mlops.get_artifact_uri("cfg.json").endswith("artifacts/cfg.json")
    paths = [a.path for a in mlops.get_client().list_artifacts(run.run_id)]
    assert paths == ["cfg.json", "notes.txt", "t.csv", "t.txt"]
    assert mlops.get_run(run.run_id).inputs[0].name == "train"


def test_search_and_compare_default_to_the_active_experiment() -> None:
    mlops.set_experiment("other")
    with mlops.start_run():
        mlops.log_metric("auc", 0.1)
    mlops.set_experiment("main")
    ids = []
    for auc in (0.9, 0.6):
        with mlops.start_run() as run:
            mlops.log_metric("auc", auc)
            ids.append(run.run_id)
    frame = mlops.search_runs(filter_string="metrics.auc > 0.5", order_by="metrics.auc DESC")
    assert frame["metrics.auc"].tolist() == [0.9, 0.6]
    both = mlops.search_runs(experiment_names=["main", "other"])
    assert len(both) == 3
    with pytest.raises(InvalidInputError, match="no experiment named 'nope'"):
        mlops.search_runs(experiment_names=["nope"])
    assert mlops.compare_runs(ids).shape == (1, 2)


def test_set_tracking_uri_switches_stores(tmp_path: Path) -> None:
    with mlops.start_run() as run:
        pass
    mlops.set_tracking_uri(f"sqlite:///{tmp_path / 'second.db'}")
    assert mlops.get_tracking_uri().endswith("second.db")
    with pytest.raises(mlops.errors.NotFoundError):
        mlops.get_run(run.run_id)


def test_default_location_is_mlops_data_under_the_working_directory(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLOPS_ARTIFACT_URI", raising=False)
    mlops.set_tracking_uri(None)
    mlops.set_artifact_uri(None)
    with mlops.start_run():
        mlops.log_metric("m", 1.0)
    assert (store / "mlops-data" / "mlops.db").exists()
    assert mlops.get_tracking_uri() == f"sqlite:///{store / 'mlops-data' / 'mlops.db'}"


def test_environment_variables_pick_the_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_TRACKING_URI", f"sqlite:///{store / 'env.db'}")
    monkeypatch.setenv("MLOPS_ARTIFACT_URI", (store / "env-artifacts").as_uri())
    mlops.set_tracking_uri(None)
    mlops.set_artifact_uri(None)
    with mlops.start_run():
        mlops.log_text("x", "x.txt")
    assert (store / "env.db").exists() and any((store / "env-artifacts").rglob("x.txt"))
