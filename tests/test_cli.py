"""The command line, on a real SQLite store: tables, --json, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops import Client
from mlops.cli import main


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, Client, list[str]]:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    client = Client(uri, artifact_uri=(tmp_path / "artifacts").as_uri())
    exp = client.create_experiment("credit")
    ids = []
    for i, auc in enumerate((0.71, 0.83)):
        run = client.create_run(exp, run_name=f"r{i}", start_time=1000 + i)
        client.log_params(run.run_id, {"C": i})
        client.log_metric(run.run_id, "auc", auc)
        client.log_text(run.run_id, "model", "model/model.txt")
        client.end_run(run.run_id)
        ids.append(run.run_id)
    return uri, client, ids


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_experiments_and_runs(
    store: tuple[str, Client, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    uri, _, ids = store
    code, out, _ = _run(capsys, "--tracking-uri", uri, "experiments")
    assert code == 0 and "credit" in out and "experiment_id" in out
    code, out, _ = _run(
        capsys, "--tracking-uri", uri, "runs", "search", "-e", "credit", "-f", "metrics.auc > 0.8"
    )
    assert code == 0 and ids[1] in out and ids[0] not in out
    code, out, _ = _run(
        capsys,
        "--tracking-uri",
        uri,
        "--json",
        "runs",
        "list",
        "-o",
        "metrics.auc ASC",
        "-c",
        "run_name,metrics.auc",
    )
    assert json.loads(out) == [
        {"run_name": "r0", "metrics.auc": 0.71},
        {"run_name": "r1", "metrics.auc": 0.83},
    ]
    code, out, _ = _run(capsys, "--tracking-uri", uri, "runs", "show", ids[0])
    assert "params:" in out and "auc" in out
    code, out, _ = _run(capsys, "--tracking-uri", uri, "--json", "runs", "show", ids[0])
    assert json.loads(out)["params"] == {"C": "0"}
    code, out, _ = _run(capsys, "--tracking-uri", uri, "runs", "compare", *ids)
    assert "params.C" in out and "metrics.auc" in out


def test_errors_exit_1_with_a_message(
    store: tuple[str, Client, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    uri, _, _ = store
    code, _, err = _run(capsys, "--tracking-uri", uri, "runs", "search", "-f", "metrics.auc >")
    assert code == 1 and "mlops: error: Invalid filter at character" in err
    code, _, err = _run(capsys, "--tracking-uri", uri, "runs", "list", "-e", "nope")
    assert code == 1 and "no experiment named 'nope'" in err
    code, _, err = _run(capsys, "--tracking-uri", uri, "runs", "show", "f" * 32)
    assert code == 1 and "no run" in err
    with pytest.raises(SystemExit) as bad_usage:
        main(["runs"])
    assert bad_usage.value.code == 2


def test_registry_workflow(store: tuple[str, Client, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    uri, client, ids = store
    registry = client.registry
    registry.register_model(f"runs:/{ids[1]}/model", "credit")
    registry.set_policy("credit", {"Production": {"approvals": 1}})
    base = ["--tracking-uri", uri]
    code, _, err = _run(capsys, *base, "models", "--user", "ann", "transition", "credit", "1", "Production")
    assert code == 1 and "approval" in err
    assert _run(capsys, *base, "models", "--user", "ann", "request", "credit", "1", "Production")[0] == 0
    code, _, err = _run(capsys, *base, "models", "--user", "ann", "approve", "credit", "1", "Production")
    assert code == 1 and "may not approve it" in err
    code, out, _ = _run(capsys, *base, "models", "--user", "bob", "approve", "credit", "1", "Production")
    assert code == 0 and "Approved" in out
    code, out, _ = _run(capsys, *base, "models", "--user", "ann", "transition", "credit", "1", "Production")
    assert code == 0 and "Production" in out
    assert _run(capsys, *base, "models", "alias", "credit", "champion", "1")[0] == 0
    code, out, _ = _run(capsys, *base, "--json", "models", "versions", "credit")
    assert json.loads(out)[0]["aliases"] == "champion" and json.loads(out)[0]["stage"] == "Production"
    code, out, _ = _run(capsys, *base, "models", "list")
    assert "champion=v1" in out
    code, out, _ = _run(capsys, *base, "--json", "models", "events", "credit")
    actions = [e["action"] for e in json.loads(out)]
    assert actions[:2] == ["model_created", "version_created"] and "alias_set" in actions
    assert _run(capsys, *base, "models", "alias", "credit", "champion", "--delete")[0] == 0
    code, _, err = _run(capsys, *base, "report", "credit", "1")
    assert code == 1 and "no bias report" in err


def test_report_writes_the_attached_html(
    store: tuple[str, Client, list[str]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    uri, client, ids = store
    client.log_text(ids[1], "<!DOCTYPE html><p>report</p>", "reports/bias/bias_report.html")
    registry = client.registry
    registry.register_model(f"runs:/{ids[1]}/model", "credit")
    registry.attach_report("credit", 1, "bias", f"runs:/{ids[1]}/reports/bias/bias_report.html", passed=False)
    out_file = tmp_path / "r.html"
    code, out, _ = _run(capsys, "--tracking-uri", uri, "report", "credit", "1", "--out", str(out_file))
    assert code == 0 and "(fails)" in out
    assert out_file.read_text() == "<!DOCTYPE html><p>report</p>"


def test_gc_marks_dead_runs_and_purges_deleted(
    store: tuple[str, Client, list[str]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    uri, client, ids = store
    exp = client.get_experiment_by_name("credit")
    assert exp is not None
    dead = Client(uri, artifact_uri=client.artifact_uri)
    stuck = dead.create_run(exp.experiment_id, start_time=1)
    dead.close()
    dead.store.update_run(stuck.run_id, heartbeat_time=1)
    client.delete_run(ids[0])
    artifact_dir = Path(client.get_run(ids[0]).artifact_uri.removeprefix("file://"))
    assert any(artifact_dir.rglob("model.txt"))
    code, out, _ = _run(capsys, "--tracking-uri", uri, "--json", "gc", "--purge-deleted")
    assert code == 0
    summary = json.loads(out)
    assert summary["runs_marked_killed"] == [stuck.run_id] and summary["runs_purged"] == [ids[0]]
    assert client.get_run(stuck.run_id).status == "KILLED"
    assert not any(artifact_dir.rglob("model.txt"))
    assert client.get_run(ids[1]).status == "FINISHED"


def test_python_dash_m_entry_point(store: tuple[str, Client, list[str]]) -> None:
    uri, _, _ = store
    done = subprocess.run(
        [sys.executable, "-m", "mlops", "--tracking-uri", uri, "--json", "experiments"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout)[0]["name"] == "credit"
