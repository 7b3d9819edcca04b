"""mlops.Client: experiments, runs, logging, artifacts, inputs and search, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops import Client
from mlops.entities import Metric, Param
from mlops.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlops.tracking.client import TAG_NOTE, TAG_PARENT
from mlops.tracking.frames import runs_to_frame


@pytest.fixture
def client(metadata_uri: str, metadata_options: dict[str, Any], tmp_path: Path) -> Iterator[Client]:
    c = Client(metadata_uri, artifact_uri=(tmp_path / "artifacts").as_uri(), storage_options=metadata_options)
    yield c
    c.close()


@pytest.fixture
def exp(client: Client) -> str:
    return client.get_or_create_experiment("exp").experiment_id


def test_experiment_lifecycle(client: Client) -> None:
    exp_id = client.create_experiment("credit", tags={"team": "risk"})
    assert client.get_experiment(exp_id).artifact_location.startswith(client.artifact_uri)
    with pytest.raises(AlreadyExistsError):
        client.create_experiment("credit")
    assert client.get_or_create_experiment("credit").experiment_id == exp_id
    client.rename_experiment(exp_id, "credit-v2")
    assert client.get_experiment_by_name("credit-v2") is not None
    client.set_experiment_tags(exp_id, {"team": None, "owner": "ann"})
    assert dict(client.get_experiment(exp_id).tags) == {"owner": "ann"}
    client.delete_experiment(exp_id)
    assert client.search_experiments() == []
    with pytest.raises(InvalidInputError, match="restore"):
        client.get_or_create_experiment("credit-v2")
    client.restore_experiment(exp_id)
    assert [e.name for e in client.search_experiments()] == ["credit-v2"]


def test_purge_frees_the_name(client: Client) -> None:
    exp_id = client.create_experiment("temp")
    run = client.create_run(exp_id)
    client.log_metric(run.run_id, "m", 1.0)
    client.purge_experiment(exp_id)  # deletes first when still active
    with pytest.raises(NotFoundError):
        client.get_run(run.run_id)
    assert client.create_experiment("temp") != exp_id


def test_bad_names(client: Client) -> None:
    for bad in ("", "   ", "a\nb", "x" * 300, 5):
        with pytest.raises(InvalidInputError):
            client.create_experiment(bad)  # type: ignore[arg-type]


def test_run_records_context_and_description(client: Client, exp: str) -> None:
    parent = client.create_run(exp, run_name="parent", description="the baseline")
    child = client.create_run(exp, parent_run_id=parent.run_id)
    assert parent.tags[TAG_NOTE] == "the baseline"
    assert parent.tags["mlops.user"] == parent.user_id != ""
    assert child.parent_run_id == parent.run_id and child.tags[TAG_PARENT] == parent.run_id
    assert child.run_name  # a generated, readable name


def test_run_user_follows_the_environment(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """The account lookup is cached per process, but never across a change of the login variables."""
    import re

    exp = client.create_experiment("users")
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME", "MLOPS_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USER", "alice")
    assert client.create_run(exp).user_id == "alice"
    monkeypatch.setenv("LOGNAME", "bob")  # getpass reads LOGNAME first
    assert client.create_run(exp).user_id == "bob"
    monkeypatch.setenv("MLOPS_USER", "carol")
    run = client.create_run(exp)
    assert run.user_id == run.tags["mlops.user"] == "carol"
    names = {client.create_run(exp).run_name for _ in range(50)}
    assert all(re.fullmatch(r"[a-z]+-[a-z]+-\d{3}", n) for n in names) and len(names) > 40


def test_run_records_source_file_and_git_state(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = tmp_path / "repo"
    repo.mkdir()
    script = repo / "train.py"
    script.write_text(
        "import sys, mlops\n"
        "client = mlops.Client(sys.argv[1], artifact_uri=sys.argv[2])\n"
        "run = client.create_run(client.get_or_create_experiment('e').experiment_id)\n"
        "print(run.run_id)\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    uri = f"sqlite:///{tmp_path / 'm.db'}"

    def run_script() -> dict[str, str]:
        out = subprocess.run(
            [sys.executable, str(script), uri, tmp_path.as_uri()],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        ).stdout.strip()
        return dict(Client(uri, artifact_uri=tmp_path.as_uri()).get_run(out).tags)

    clean = run_script()
    assert clean["mlops.source.name"] == str(script.resolve())
    assert clean["mlops.source.git.commit"] == head
    assert clean["mlops.source.git.dirty"] == "false"
    script.write_text(script.read_text() + "# edited\n")
    assert run_script()["mlops.source.git.dirty"] == "true"


def test_log_and_read_back(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    client.log_param(run.run_id, "C", 0.1)
    client.log_params(run.run_id, {"penalty": "l2", "max_iter": 100})
    for step in range(5):
        client.log_metric(run.run_id, "loss", 1.0 / (step + 1), step=step)
    client.log_metrics(run.run_id, {"auc": 0.8, "f1": 0.7}, step=3)
    client.set_tag(run.run_id, "team", "risk")
    client.set_tags(run.run_id, {"a": 1, "b": 2})
    client.delete_tag(run.run_id, "b")
    got = client.get_run(run.run_id)  # flushes the buffer first
    assert dict(got.params) == {"C": "0.1", "penalty": "l2", "max_iter": "100"}
    assert dict(got.metrics) == {"loss": 0.2, "auc": 0.8, "f1": 0.7}
    assert got.tags["team"] == "risk" and got.tags["a"] == "1" and "b" not in got.tags
    assert [m.step for m in client.get_metric_history(run.run_id, "loss")] == [0, 1, 2, 3, 4]


def test_param_conflict_names_both_values(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    client.log_param(run.run_id, "C", 1)
    client.log_param(run.run_id, "C", "1")  # same string value: fine
    with pytest.raises(InvalidInputError, match=r"'1'.*'2'"):
        client.log_param(run.run_id, "C", 2)


@pytest.mark.parametrize(
    ("key", "value", "step", "match"),
    [
        ("bad key!", 1.0, 0, "may only contain"),
        ("../up", 1.0, 0, "path segments"),
        ("", 1.0, 0, "1 to 250"),
        ("k", "high", 0, "real number"),
        ("k", None, 0, "real number"),
        ("k", True, 0, "real number"),
        ("k", 1.0, -1, "step"),
        ("k", 1.0, 1.5, "step"),
        ("k", 1.0, True, "step"),
        ("k", 1.0, 2**63, "2\\*\\*63"),  # steps are 64-bit
    ],
)
def test_metric_validation(
    client: Client, exp: str, key: object, value: object, step: object, match: str
) -> None:
    run = client.create_run(exp)
    with pytest.raises(InvalidInputError, match=match):
        client.log_metric(run.run_id, key, value, step=step)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=match):
        client.log_batch(run.run_id, metrics=[Metric(key, value, 1, step)])  # type: ignore[arg-type]
    assert client.get_run(run.run_id).metrics == {}


def test_64_bit_steps_and_timestamps(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    top = 2**63 - 1
    client.log_metric(run.run_id, "k", 1.0, step=top, timestamp=top)
    with pytest.raises(InvalidInputError, match="timestamp"):
        client.log_metric(run.run_id, "k", 2.0, step=1, timestamp=top + 1)
    client.flush()
    (point,) = client.get_metric_history(run.run_id, "k")
    assert (point.step, point.timestamp, point.value) == (top, top, 1.0)


def test_value_size_limits(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    with pytest.raises(InvalidInputError, match="limit is 8000"):
        client.log_param(run.run_id, "big", "x" * 8001)
    with pytest.raises(InvalidInputError, match="NUL"):
        client.set_tag(run.run_id, "t", "a\x00b")
    with pytest.raises(InvalidInputError, match="no value"):
        client.create_run(exp, tags={"t": None})


def test_nan_inf_and_numpy_values(client: Client, exp: str) -> None:
    import numpy as np

    run = client.create_run(exp)
    client.log_metric(run.run_id, "nan", float("nan"))
    client.log_metric(run.run_id, "inf", np.float32("inf"), step=np.int64(2))
    client.log_metric(run.run_id, "int", np.int16(7))
    metrics = client.get_run(run.run_id).metrics
    assert math.isnan(metrics["nan"]) and metrics["inf"] == math.inf and metrics["int"] == 7.0


def test_ended_run_refuses_metrics_immediately(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    client.log_metric(run.run_id, "m", 1.0)
    ended = client.end_run(run.run_id)
    assert ended.status == "FINISHED" and ended.end_time is not None
    assert ended.metrics["m"] == 1.0  # end_run flushed the buffer
    with pytest.raises(InvalidInputError, match="FINISHED"):
        client.log_metric(run.run_id, "m", 2.0)
    with pytest.raises(InvalidInputError, match="FINISHED"):
        client.log_param(run.run_id, "p", 1)
    client.set_tag(run.run_id, "note", "tags after the end are fine")
    with pytest.raises(InvalidInputError, match="FINISHED, FAILED or KILLED"):
        client.end_run(run.run_id, status="DONE")


def test_resume_run(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    client.end_run(run.run_id, status="FAILED")
    resumed = client.resume_run(run.run_id)
    assert resumed.status == "RUNNING"
    client.log_metric(run.run_id, "m", 3.0)
    assert client.end_run(run.run_id).metrics["m"] == 3.0


def test_delete_restore_purge_run(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    client.delete_run(run.run_id)
    assert client.search_runs([exp], output_format="list") == []
    with pytest.raises(InvalidInputError, match="deleted"):
        client.log_metric(run.run_id, "m", 1.0)
    client.restore_run(run.run_id)
    assert [r.run_id for r in client.search_runs([exp], output_format="list")] == [run.run_id]
    client.purge_run(run.run_id)
    with pytest.raises(NotFoundError):
        client.get_run(run.run_id)


def test_synchronous_mode_writes_through(
    metadata_uri: str, metadata_options: dict[str, Any], tmp_path: Path
) -> None:
    client = Client(
        metadata_uri, artifact_uri=tmp_path.as_uri(), synchronous=True, storage_options=metadata_options
    )
    run = client.create_run(client.get_or_create_experiment("s").experiment_id)
    client.log_metric(run.run_id, "m", 1.0)
    assert client._writer.pending == 0
    assert client.store.get_run(run.run_id).metrics["m"] == 1.0  # visible without any flush
    client.close()


def test_large_batch_in_one_call(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    points = [Metric(f"k{i % 10}", float(i), 1, i // 10) for i in range(200_000)]
    client.log_batch(run.run_id, metrics=points, params=[Param("p", "1")], tags={"t": "v"})
    client.flush()
    assert len(client.get_metric_history(run.run_id, "k3")) == 20_000


def test_artifacts(client: Client, exp: str, tmp_path: Path) -> None:
    run = client.create_run(exp)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    info = client.log_artifact(run.run_id, src / "a.txt", "files")
    assert info.path == "files/a.txt" and info.size == 1 and info.sha256 is not None
    client.log_artifacts(run.run_id, src, "tree")
    client.log_dict(run.run_id, {"x": [1, 2]}, "config.json")
    client.log_text(run.run_id, "héllo", "notes/readme.txt")
    client.log_table(run.run_id, pd.DataFrame({"a": [1, 2]}), "table.parquet")
    listed = [a.path for a in client.list_artifacts(run.run_id)]
    assert listed == [
        "config.json",
        "files/a.txt",
        "notes/readme.txt",
        "table.parquet",
        "tree/a.txt",
        "tree/sub/b.txt",
    ]
    store = client.artifact_store(run.run_id)
    assert json.loads(store.get_bytes("config.json")) == {"x": [1, 2]}
    assert store.get_bytes("notes/readme.txt").decode() == "héllo"
    assert pd.read_parquet(store.open_read("table.parquet"))["a"].tolist() == [1, 2]
    out = client.download_artifacts(run.run_id, "tree", tmp_path / "out")
    assert (out / "sub" / "b.txt").read_text() == "B"
    with pytest.raises(InvalidInputError):
        client.log_artifact(run.run_id, src, "x")  # a folder
    with pytest.raises(InvalidInputError):
        client.log_text(run.run_id, "x", "../escape.txt")
    with pytest.raises(InvalidInputError):
        client.log_dict(run.run_id, {"x": 1}, "config.txt")


def test_log_figure(client: Client, exp: str) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = client.create_run(exp)
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    info = client.log_figure(run.run_id, fig, "plot.png")
    plt.close(fig)
    assert client.artifact_store(run.run_id).get_bytes("plot.png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert info.size > 100
    with pytest.raises(InvalidInputError):
        client.log_figure(run.run_id, object(), "plot.png")


def test_log_input(client: Client, exp: str) -> None:
    run = client.create_run(exp)
    frame = pd.DataFrame({"age": [30, None], "sex": ["m", "f"]})
    client.log_input(run.run_id, frame, name="credit", source="file:///data/credit.csv")
    client.log_input(run.run_id, frame, name="credit", source="file:///data/credit.csv")  # idempotent
    (d,) = client.get_run(run.run_id).inputs
    assert (d.name, d.num_rows, d.source, d.context) == ("credit", 2, "file:///data/credit.csv", "training")
    schema = json.loads(d.schema)
    assert schema["columns"][0] == {"name": "age", "dtype": "float64", "nullable": True}
    changed = frame.assign(age=[31, None])
    client.log_input(run.run_id, changed, name="credit")
    assert len(client.get_run(run.run_id).inputs) == 2  # different content, different digest
    with pytest.raises(InvalidInputError):
        client.log_input(run.run_id, 5)


def test_search_runs_frame(client: Client, exp: str) -> None:
    ids = []
    for i, (c, auc) in enumerate([("0.1", 0.9), ("1.0", 0.7), ("10", 0.8)]):
        run = client.create_run(
            exp, run_name=f"r{i}", tags={"team": "risk" if i else "ops"}, start_time=1000 + i
        )
        client.log_param(run.run_id, "C", c)
        client.log_metric(run.run_id, "auc", auc)
        client.end_run(run.run_id)
        ids.append(run.run_id)
    frame = client.search_runs([exp], "metrics.auc > 0.75", order_by=["metrics.auc DESC"])
    assert isinstance(frame, pd.DataFrame)
    assert frame["run_name"].tolist() == ["r0", "r2"]
    assert frame["metrics.auc"].tolist() == [0.9, 0.8]
    assert frame["params.C"].tolist() == ["0.1", "10"]
    assert {"run_id", "experiment_id", "status", "start_time", "end_time", "tags.team"} <= set(frame.columns)
    assert str(frame["start_time"].dtype).startswith("datetime64")
    runs = client.search_runs([exp], "metrics.auc > 0.75", order_by="metrics.auc DESC", output_format="list")
    pd.testing.assert_frame_equal(frame, runs_to_frame(runs), check_exact=True)  # the frame of the Runs
    assert client.search_runs([exp], max_results=1, output_format="list")[0].run_name == "r2"  # newest first
    with pytest.raises(InvalidInputError, match="output_format"):
        client.search_runs([exp], output_format="dict")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="at character 13"):
        client.search_runs([exp], "metrics.auc >")
    empty = client.search_runs([exp], "params.C = 'nope'")
    assert isinstance(empty, pd.DataFrame) and len(empty) == 0 and "run_id" in empty.columns


def test_compare_runs(client: Client, exp: str) -> None:
    a, b = client.create_run(exp, run_name="a"), client.create_run(exp, run_name="b")
    client.log_params(a.run_id, {"C": 1, "solver": "lbfgs"})
    client.log_params(b.run_id, {"C": 2, "solver": "lbfgs"})
    client.log_metric(a.run_id, "auc", 0.8)
    frame = client.compare_runs([a.run_id, b.run_id])
    assert list(frame.columns) == [f"a ({a.run_id[:8]})", f"b ({b.run_id[:8]})"]
    assert frame.index.tolist()[:2] == ["params.C", "metrics.auc"]  # differing rows first
    assert frame.loc["params.solver"].tolist() == ["lbfgs", "lbfgs"]


def test_mark_dead_runs(
    client: Client, exp: str, metadata_uri: str, metadata_options: dict[str, Any]
) -> None:
    other = Client(metadata_uri, artifact_uri=client.artifact_uri, storage_options=metadata_options)
    run = other.create_run(exp, start_time=1)
    other.close()  # its process "dies": no more heartbeats
    other.store.update_run(run.run_id, heartbeat_time=1)  # and that was long ago
    mine = client.create_run(exp)
    assert client.mark_dead_runs(stale_after_s=60) == [run.run_id]
    assert client.get_run(run.run_id).status == "KILLED"
    assert client.get_run(mine.run_id).status == "RUNNING"
