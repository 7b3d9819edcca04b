"""RegistryClient end to end on SQLite and PostgreSQL: lifecycle, approvals, gates, events, audit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

import mlops
from mlops.entities import Metric
from mlops.errors import (
    AlreadyExistsError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    MlopsError,
    NotFoundError,
)
from mlops.registry import RegistryClient

PROD_POLICY = {"Production": {"approvals": 2, "gates": ["metrics.auc >= 0.75", "report:bias passes"]}}


@pytest.fixture
def client(sql_uri: str) -> mlops.Client:
    return mlops.Client(sql_uri, artifact_uri="memory://registry-tests")


@pytest.fixture
def reg(client: mlops.Client) -> RegistryClient:
    return client.registry


def _run(client: mlops.Client, auc: float) -> str:
    run = client.create_run(client.get_or_create_experiment("credit").experiment_id)
    client.log_metric(run.run_id, "auc", auc, synchronous=True)
    client.log_input(run.run_id, pd.DataFrame({"x": [1, 2, 3]}), name="train", source="s3://data/train")
    client.end_run(run.run_id)
    return run.run_id


def _count(reg: RegistryClient, name: str) -> int:
    return len(reg.events(name))


# ---------------------------------------------------------------------- models and versions
def test_models_crud_search_and_tags(reg: RegistryClient) -> None:
    reg.create_registered_model("credit", tags={"team": "risk"}, description="PD", user="ann")
    reg.create_registered_model("credit-eu", user="bo")
    reg.create_registered_model("churn", tags={"team": "growth"})
    assert [m.name for m in reg.search_registered_models("credit%")] == ["credit", "credit-eu"]
    assert [m.name for m in reg.search_registered_models(tags={"team": "risk"})] == ["credit"]
    reg.set_registered_model_tag("credit", "tier", 1)
    reg.delete_registered_model_tag("credit", "team")
    assert dict(reg.get_registered_model("credit").tags) == {"tier": "1"}
    assert reg.update_registered_model("credit", "probability of default").description.startswith("prob")
    reg.rename_registered_model("credit", "credit-default")
    with pytest.raises(NotFoundError):
        reg.get_registered_model("credit")
    with pytest.raises(AlreadyExistsError):
        reg.rename_registered_model("credit-default", "churn")
    with pytest.raises(AlreadyExistsError):
        reg.create_registered_model("churn")
    for bad in ("a/b", "a@b", " x", "", "x\n"):
        with pytest.raises(InvalidInputError):
            reg.create_registered_model(bad)
    reg.delete_registered_model("churn")
    assert [m.name for m in reg.search_registered_models()] == ["credit-default", "credit-eu"]


def test_register_model_from_a_run_links_lineage(client: mlops.Client, reg: RegistryClient) -> None:
    run_id = _run(client, 0.8)
    mv = reg.register_model(f"runs:/{run_id}/model", "credit", tags={"algo": "lr"}, description="first")
    assert (mv.version, mv.source, mv.run_id, mv.status, mv.stage) == (
        1,
        f"runs:/{run_id}/model",
        run_id,
        "READY",
        "None",
    )
    reg.attach_report("credit", 1, "bias", f"runs:/{run_id}/bias.html", passed=False)
    found = reg.lineage("credit", 1)
    assert found.run is not None and found.run.run_id == run_id
    assert [(d.name, d.source) for d in found.datasets] == [("train", "s3://data/train")]
    assert found.reports["bias"].passed is False
    assert reg.search_model_versions(run_id=run_id)[0].version == 1
    # a copy from a models:/ URI keeps the source and the run
    copy = reg.register_model("models:/credit/1", "credit-copy")
    assert (copy.source, copy.run_id) == (mv.source, run_id)
    with pytest.raises(NotFoundError, match="not in the tracking store"):
        reg.register_model("runs:/0123456789abcdef/model", "credit")
    with pytest.raises(InvalidInputError):
        reg.register_model("runs:/", "credit")
    assert [v.version for v in reg.search_model_versions("credit")] == [1]  # nothing half-made


def test_register_a_local_path_stores_it_absolute(
    reg: RegistryClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert reg.register_model("model-dir", "m").source == (tmp_path / "model-dir").resolve().as_posix()


def test_versions_update_status_tags_and_delete(reg: RegistryClient) -> None:
    reg.register_model("s3://b/1", "m")
    reg.register_model("s3://b/2", "m")
    reg.update_model_version("m", "2", "better", status="PENDING_REGISTRATION")
    reg.set_model_version_tag("m", 2, "k", "v")
    mv = reg.get_model_version("m", 2)
    assert (mv.description, mv.status, dict(mv.tags)) == ("better", "PENDING_REGISTRATION", {"k": "v"})
    with pytest.raises(InvalidInputError):
        reg.update_model_version("m", 2, status="DONE")
    for bad in (0, -1, True, "x", 1.5):
        with pytest.raises(InvalidInputError):
            reg.get_model_version("m", bad)  # type: ignore[arg-type]
    reg.delete_model_version("m", 1)
    assert [(v.version, v.stage) for v in reg.get_latest_versions("m")] == [(2, "None")]


# ---------------------------------------------------------------------- stages and aliases
def test_stages_and_aliases(reg: RegistryClient) -> None:
    for i in range(3):
        reg.register_model(f"s3://b/{i}", "m")
    reg.transition_stage("m", 1, "Production")
    reg.transition_stage("m", 2, "Production")
    reg.transition_stage("m", 3, "Production", archive_existing=True, comment="release 3")
    stages = {v.version: v.stage for v in reg.search_model_versions("m")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    with pytest.raises(InvalidInputError):
        reg.transition_stage("m", 3, "Prod")
    reg.set_alias("m", "champion", 3)
    reg.set_alias("m", "champion", 2)  # moves
    assert reg.get_version_by_alias("m", "champion").version == 2
    assert reg.get_model_version("m", 2).aliases == ("champion",)
    for bad in ("latest", "v3", "a b", "", "x@y"):
        with pytest.raises(InvalidInputError):
            reg.set_alias("m", bad, 1)
    reg.delete_alias("m", "champion")
    with pytest.raises(NotFoundError):
        reg.delete_alias("m", "champion")
    with pytest.raises(NotFoundError):
        reg.set_alias("m", "champion", 9)


# ---------------------------------------------------------------------- approvals and gates
def test_policy_blocks_until_approvals_and_gates_then_consumes_the_approval(
    client: mlops.Client, reg: RegistryClient
) -> None:
    run_id = _run(client, 0.7)
    reg.register_model(f"runs:/{run_id}/model", "credit", user="cy")
    reg.set_policy("credit", PROD_POLICY, user="lead")

    def blocked(*fragments: str) -> None:
        before, stage = _count(reg, "credit"), reg.get_model_version("credit", 1).stage
        with pytest.raises(ConflictError) as caught:
            reg.transition_stage("credit", 1, "Production", user="cy")
        for fragment in fragments:
            assert fragment in str(caught.value)
        assert _count(reg, "credit") == before  # a refused move leaves no event
        assert reg.get_model_version("credit", 1).stage == stage  # and no change

    blocked("needs 2 approvals from distinct users, has 0", "metrics.auc = 0.7", "no 'bias' report")
    reg.request_approval("credit", 1, "Production", user="cy", comment="AUC ok?")
    with pytest.raises(ConflictError, match="cy requested this approval and may not approve it"):
        reg.approve("credit", 1, "Production", user="cy")
    assert reg.approve("credit", 1, "Production", user="ann").status == "PendingApproval"
    with pytest.raises(ConflictError, match="already approved"):
        reg.approve("credit", 1, "Production", user="ann")
    blocked("needs 2 approvals from distinct users, has 1 (ann)")
    state = reg.approve("credit", 1, "Production", user="bo", comment="fine")
    assert (state.status, state.approved_by, state.requested_by) == ("Approved", ("ann", "bo"), "cy")
    blocked("metrics.auc = 0.7 on run", "report")
    assert "needs" not in " ".join(reg.check_transition("credit", 1, "Production"))

    # fix the gates: a better metric on the run and a passing bias report
    client.resume_run(run_id)
    client.log_metric(run_id, "auc", 0.8, step=1, synchronous=True)
    client.end_run(run_id)
    reg.attach_report("credit", 1, "bias", "runs:/x/bias.html", passed=True)
    assert reg.check_transition("credit", 1, "Production") == []
    mv = reg.transition_stage("credit", 1, "Production", user="cy", comment="go")
    assert mv.stage == "Production"
    assert reg.approval_status("credit", 1, "Production").status is None  # consumed by the move
    reg.transition_stage("credit", 1, "Staging", user="cy")
    blocked("needs 2 approvals from distinct users, has 0")  # re-promotion needs a new approval


def test_reject_cancel_and_self_approval_policy(reg: RegistryClient) -> None:
    reg.register_model("s3://b/m", "m")
    reg.set_policy("m", {"Staging": {"approvals": 1, "allow_self_approval": True}})
    reg.request_approval("m", 1, "Staging", user="ann")
    with pytest.raises(ConflictError, match="already has an open approval request"):
        reg.request_approval("m", 1, "Staging", user="bo")
    assert reg.approve("m", 1, "Staging", user="ann").status == "Approved"  # allowed by this policy
    with pytest.raises(ConflictError, match="withdraw it"):
        reg.reject("m", 1, "Staging", user="ann")
    assert reg.reject("m", 1, "Staging", user="bo", comment="no").status == "Rejected"
    with pytest.raises(ConflictError, match="rejected by bo"):
        reg.transition_stage("m", 1, "Staging")
    with pytest.raises(ConflictError, match="it was rejected"):
        reg.approve("m", 1, "Staging", user="cy")
    reg.request_approval("m", 1, "Staging", user="ann")
    with pytest.raises(ConflictError, match="only ann"):
        reg.cancel_approval_request("m", 1, "Staging", user="bo")
    assert reg.cancel_approval_request("m", 1, "Staging", user="ann").status is None
    actions = [(a.action, a.user_id) for a in reg.list_approvals("m", 1)]
    assert actions == [
        ("request", "ann"),
        ("approve", "ann"),
        ("reject", "bo"),
        ("request", "ann"),
        ("cancel", "ann"),
    ]


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ({"Prod": {}}, "stage must be one of"),
        ({"Production": {"approvals": "2"}}, "'approvals' must be an integer"),
        ({"Production": {"approvals": True}}, "'approvals' must be an integer"),
        ({"Production": {"quorum": 2}}, "unknown key"),
        ({"Production": {"gates": "metrics.auc > 1"}}, "'gates' must be a list"),
        ({"Production": {"gates": ["metrics.auc >>> 1"]}}, "invalid gate"),
        ({"Production": {"gates": ["report:bias ok"]}}, "report gate reads"),
        ({"Production": {"allow_self_approval": "yes"}}, "true or false"),
    ],
)
def test_bad_policies_are_refused_without_an_event(
    reg: RegistryClient, policy: dict[str, Any], fragment: str
) -> None:
    reg.create_registered_model("m")
    with pytest.raises(InvalidInputError, match=fragment):
        reg.set_policy("m", policy)
    assert [e.action for e in reg.events("m")] == ["model_created"]


# ---------------------------------------------------------------------- events
def test_every_mutating_call_leaves_exactly_one_event_per_change(reg: RegistryClient) -> None:
    steps: list[tuple[str, object, int]] = []

    def step(label: str, call: object, events: int) -> None:
        steps.append((label, call, events))

    step("create", lambda: reg.create_registered_model("m", tags={"a": "1"}), 2)
    step("register", lambda: reg.register_model("s3://b/1", "m", tags={"x": "1", "y": "2"}), 3)
    step("register 2", lambda: reg.register_model("s3://b/2", "m"), 1)
    step("describe model", lambda: reg.update_registered_model("m", "d"), 1)
    step("same description", lambda: reg.update_registered_model("m", "d"), 0)
    step("model tag", lambda: reg.set_registered_model_tag("m", "a", "2"), 1)
    step("version tag", lambda: reg.set_model_version_tag("m", 1, "x", "3"), 1)
    step("policy", lambda: reg.set_policy("m", {"Staging": {"approvals": 1}}), 1)
    step("same policy", lambda: reg.set_policy("m", {"staging": {"approvals": 1}}), 0)
    step("request", lambda: reg.request_approval("m", 1, "Staging", user="ann"), 1)
    step("approve", lambda: reg.approve("m", 1, "Staging", user="bo"), 1)
    step("stage", lambda: reg.transition_stage("m", 1, "Staging"), 1)
    step("same stage", lambda: reg.transition_stage("m", 1, "Staging"), 0)
    step("archive existing", lambda: reg.transition_stage("m", 2, "Production"), 1)
    step("alias", lambda: reg.set_alias("m", "champion", 1), 1)
    step("same alias", lambda: reg.set_alias("m", "champion", 1), 0)
    step("report", lambda: reg.attach_report("m", 1, "bias", "runs:/r/b.html", passed=True), 2)
    step("delete alias", lambda: reg.delete_alias("m", "champion"), 1)
    step("delete version", lambda: reg.delete_model_version("m", 2), 1)
    step("rename", lambda: reg.rename_registered_model("m", "m2"), 1)
    failing: list[tuple[str, object]] = [
        ("blocked stage", lambda: reg.transition_stage("m2", 1, "Staging")),
        ("missing version", lambda: reg.transition_stage("m2", 7, "Archived")),
        ("bad stage", lambda: reg.transition_stage("m2", 1, "Live")),
        ("bad tag", lambda: reg.set_model_version_tag("m2", 1, "../x", "v")),
        ("bad policy", lambda: reg.set_policy("m2", {"Staging": {"approvals": -1}})),
        ("approve without request", lambda: reg.approve("m2", 1, "Production", user="bo")),
        ("alias to missing version", lambda: reg.set_alias("m2", "champion", 2)),
        ("rename to a bad name", lambda: reg.rename_registered_model("m2", "a/b")),
        ("register bad uri", lambda: reg.register_model("runs:/", "m2")),
    ]
    total = 0
    name = "m"
    for label, call, events in steps:
        call()  # type: ignore[operator]
        name = "m2" if label == "rename" else name
        total += events
        assert _count(reg, name) == total, label
    reg.transition_stage("m2", 1, "None")  # leave Staging so the policy applies again
    total += 1
    for label, call in failing:
        with pytest.raises(MlopsError):
            call()  # type: ignore[operator]
        assert _count(reg, "m2") == total, label
    assert reg.verify_events("m2") == total


def test_events_name_the_acting_user(reg: RegistryClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_USER", "env-user")
    plain = RegistryClient(reg.registry_uri, store=reg.store)
    plain.register_model("s3://b/m", "m")  # the environment's user
    bound = RegistryClient(reg.registry_uri, store=reg.store, user="client-user")
    bound.set_alias("m", "champion", 1)  # the client's user
    bound.transition_stage("m", 1, "Staging", user="call-user", comment="why")  # the call's user
    assert [(e.action, e.user_id) for e in reg.events("m")] == [
        ("model_created", "env-user"),
        ("version_created", "env-user"),
        ("alias_set", "client-user"),
        ("version_stage_changed", "call-user"),
    ]
    assert reg.events("m")[-1].comment == "why"


def test_tampering_with_a_stored_event_is_detected_and_named(reg: RegistryClient) -> None:
    reg.register_model("s3://b/1", "m")
    reg.register_model("s3://b/2", "m")
    reg.transition_stage("m", 1, "Production")
    reg.set_alias("m", "champion", 1)
    assert reg.verify_events("m") == 5
    from mlops.store.sql.models import SqlEvent

    db = reg.store.db  # type: ignore[attr-defined]
    with db.engine.begin() as conn:  # rewrite history: version 2 went to Production, not version 1
        conn.execute(sa.update(SqlEvent).where(SqlEvent.seq == 4).values(version=2))
    with pytest.raises(IntegrityError, match=r"event seq 4 \(version_stage_changed\)"):
        reg.verify_events("m")
    with db.engine.begin() as conn:  # a careful forger also fixes that event's hash: the next one breaks
        row = conn.execute(sa.select(SqlEvent).where(SqlEvent.seq == 4)).one()
        forged = reg.events("m")[3]
        conn.execute(sa.update(SqlEvent).where(SqlEvent.seq == 4).values(hash=forged.compute_hash()))
        assert row.version == 2
    with pytest.raises(IntegrityError, match=r"event seq 5 \(alias_set\)"):
        reg.verify_events("m")
    with db.engine.begin() as conn:  # deleting an event leaves a gap
        conn.execute(sa.delete(SqlEvent).where(SqlEvent.seq == 2))
    with pytest.raises(IntegrityError, match=r"event seq 3 .*expected seq 2"):
        reg.verify_events("m")


def test_history_reconstructs_stages_and_aliases_at_a_time(reg: RegistryClient) -> None:
    def tick() -> int:
        time.sleep(0.003)
        t = int(time.time() * 1000)
        time.sleep(0.003)
        return t

    t0 = tick()
    reg.register_model("s3://b/1", "m")
    reg.register_model("s3://b/2", "m")
    reg.transition_stage("m", 1, "Production")
    reg.set_alias("m", "champion", 1)
    t1 = tick()
    reg.transition_stage("m", 2, "Production", archive_existing=True)
    reg.set_alias("m", "champion", 2)
    t2 = tick()
    reg.delete_model_version("m", 2)
    t3 = tick()
    assert not reg.history("m", at=t0).exists
    s1, s2, s3 = (reg.history("m", at=t) for t in (t1, t2, t3))
    assert (s1.in_stage("Production"), dict(s1.aliases)) == ([1], {"champion": 1})
    assert (s2.in_stage("Production"), s2.in_stage("Archived"), dict(s2.aliases)) == (
        [2],
        [1],
        {"champion": 2},
    )
    assert (dict(s3.versions), dict(s3.aliases)) == ({1: "Archived"}, {})
    reg.delete_registered_model("m")
    assert not reg.history("m", at=time.time() * 1000).exists
    assert reg.history("m", at=t2).in_stage("Production") == [2]  # the log outlives the model


# ---------------------------------------------------------------------- public API
def test_client_registry_and_fluent_register_model(sql_uri: str) -> None:
    client = mlops.Client(sql_uri, artifact_uri="memory://fluent-registry")
    assert client.registry is client.registry
    assert client.registry.registry_uri == client.tracking_uri
    mlops.set_tracking_uri(sql_uri)
    mlops.set_artifact_uri("memory://fluent-registry")
    try:
        with mlops.start_run() as run:
            mlops.log_metric("auc", 0.9)
        mv = mlops.register_model(f"runs:/{run.run_id}/model", "credit")
        assert (mv.version, mv.run_id) == (1, run.run_id)
        assert mlops.registry.resolve_models_uri("models:/credit/1") == f"runs:/{run.run_id}/model"
        assert client.registry.get_model_version("credit", 1).run_id == run.run_id
    finally:
        mlops.set_tracking_uri(None)
        mlops.set_artifact_uri(None)
    _ = Metric  # re-exported entity used by other tests
