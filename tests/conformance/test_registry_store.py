"""The RegistryStore contract, run against every implementation (see ``_metadata_stores.py``)."""

from __future__ import annotations

import pytest

from mlops.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlops.store import RegistryStore


def _actions(store: RegistryStore, name: str) -> list[str]:
    return [e.action for e in store.list_events(name)]


def test_create_get_search_models(registry_store: RegistryStore) -> None:
    m = registry_store.create_registered_model(
        "credit", description="d", tags={"team": "risk"}, user_id="ann"
    )
    assert (m.name, m.description, dict(m.tags), dict(m.aliases)) == ("credit", "d", {"team": "risk"}, {})
    assert registry_store.get_registered_model("credit") == m
    registry_store.create_registered_model("credit_v2")
    registry_store.create_registered_model("Churn")
    assert [x.name for x in registry_store.search_registered_models()] == ["Churn", "credit", "credit_v2"]
    assert [x.name for x in registry_store.search_registered_models("credit%")] == ["credit", "credit_v2"]
    assert [x.name for x in registry_store.search_registered_models("credit_v_")] == ["credit_v2"]
    assert [x.name for x in registry_store.search_registered_models("churn")] == []  # case-sensitive
    with pytest.raises(AlreadyExistsError):
        registry_store.create_registered_model("credit")
    with pytest.raises(NotFoundError):
        registry_store.get_registered_model("missing")


def test_versions_are_numbered_from_one(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    v1 = registry_store.create_model_version("m", "runs:/r1/model", run_id="r1", tags={"a": "b"}, user_id="u")
    v2 = registry_store.create_model_version("m", "runs:/r2/model")
    assert (v1.version, v1.source, v1.run_id, v1.stage, dict(v1.tags), v1.user_id) == (
        1,
        "runs:/r1/model",
        "r1",
        "None",
        {"a": "b"},
        "u",
    )
    assert v2.version == 2
    registry_store.delete_model_version("m", 2)
    assert registry_store.create_model_version("m", "x").version == 3  # numbers are never reused
    assert [v.version for v in registry_store.search_model_versions("m")] == [1, 3]
    assert [v.version for v in registry_store.search_model_versions(run_id="r1")] == [1]
    with pytest.raises(NotFoundError):
        registry_store.create_model_version("missing", "x")
    with pytest.raises(NotFoundError):
        registry_store.get_model_version("m", 2)
    with pytest.raises(NotFoundError):
        registry_store.get_model_version("missing", 1)


def test_stage_transitions_and_archive_existing(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    for _ in range(3):
        registry_store.create_model_version("m", "s")
    registry_store.update_model_version("m", 1, stage="Production")
    registry_store.update_model_version("m", 2, stage="Production")
    assert [v.version for v in registry_store.search_model_versions("m", stage="Production")] == [1, 2]
    registry_store.update_model_version(
        "m", 3, stage="Production", archive_existing=True, user_id="bo", comment="release"
    )
    stages = {v.version: v.stage for v in registry_store.search_model_versions("m")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    moves = [
        (e.version, e.old_value, e.new_value, e.user_id, e.comment)
        for e in registry_store.list_events("m")
        if e.action == "version_stage_changed"
    ][-3:]
    assert moves == [
        (1, "Production", "Archived", "bo", "release"),
        (2, "Production", "Archived", "bo", "release"),
        (3, "None", "Production", "bo", "release"),
    ]
    with pytest.raises(InvalidInputError):
        registry_store.update_model_version("m", 1, stage="Prod")
    with pytest.raises(InvalidInputError):
        registry_store.search_model_versions("m", stage="prod")


def test_aliases_move_atomically(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    registry_store.create_model_version("m", "a")
    registry_store.create_model_version("m", "b")
    registry_store.set_alias("m", "champion", 1)
    registry_store.set_alias("m", "champion", 2)
    assert registry_store.get_version_by_alias("m", "champion").version == 2
    assert registry_store.get_model_version("m", 1).aliases == ()
    assert registry_store.get_model_version("m", 2).aliases == ("champion",)
    assert dict(registry_store.get_registered_model("m").aliases) == {"champion": 2}
    registry_store.set_alias("m", "champion", None)
    with pytest.raises(NotFoundError):
        registry_store.get_version_by_alias("m", "champion")
    with pytest.raises(NotFoundError):
        registry_store.set_alias("m", "champion", None)
    with pytest.raises(NotFoundError):
        registry_store.set_alias("m", "x", 9)
    alias_events = [
        (e.action, e.old_value, e.new_value)
        for e in registry_store.list_events("m")
        if e.action.startswith("alias")
    ]
    assert alias_events == [
        ("alias_set", None, "champion=1"),
        ("alias_set", "champion=1", "champion=2"),
        ("alias_deleted", "champion=2", None),
    ]


def test_deleting_a_version_removes_its_aliases(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    registry_store.create_model_version("m", "a")
    registry_store.set_alias("m", "champion", 1)
    registry_store.delete_model_version("m", 1)
    assert dict(registry_store.get_registered_model("m").aliases) == {}


def test_update_model_rename_description_tags_policy(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("old", tags={"a": "1"})
    registry_store.create_model_version("old", "s")
    registry_store.create_registered_model("taken")
    with pytest.raises(AlreadyExistsError):
        registry_store.update_registered_model("old", new_name="taken")
    m = registry_store.update_registered_model(
        "old",
        new_name="new",
        description="desc",
        tags={"a": None, "b": "2"},
        policy={"Production": {"approvals": 2}},
    )
    assert (m.name, m.description, dict(m.tags)) == ("new", "desc", {"b": "2"})
    assert dict(m.policy) == {"Production": {"approvals": 2}}
    assert registry_store.get_model_version("new", 1).name == "new"
    with pytest.raises(NotFoundError):
        registry_store.get_registered_model("old")
    assert _actions(registry_store, "new")[-5:] == [
        "model_description_set",
        "model_policy_set",
        "model_tag_deleted",
        "model_tag_set",
        "model_renamed",
    ]


def test_version_updates(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    registry_store.create_model_version("m", "s")
    v = registry_store.update_model_version("m", 1, description="d", status="FAILED", tags={"k": "v"})
    assert (v.description, v.status, dict(v.tags)) == ("d", "FAILED", {"k": "v"})
    v = registry_store.update_model_version("m", 1, tags={"k": None})
    assert dict(v.tags) == {}
    with pytest.raises(NotFoundError):
        registry_store.update_model_version("m", 7, description="x")


def test_approvals(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    registry_store.create_model_version("m", "s")
    registry_store.create_model_version("m", "t")
    req = registry_store.add_approval("m", 1, "Production", "request", user_id="ann", comment="please")
    ok = registry_store.add_approval("m", 1, "Production", "approve", user_id="bob")
    registry_store.add_approval("m", 2, "Staging", "reject", user_id="bob")
    assert (req.action, req.user_id, req.comment, req.stage) == ("request", "ann", "please", "Production")
    assert ok.approval_id > req.approval_id
    assert [a.action for a in registry_store.list_approvals("m", 1)] == ["request", "approve"]
    assert len(registry_store.list_approvals("m")) == 3
    with pytest.raises(InvalidInputError):
        registry_store.add_approval("m", 1, "Production", "maybe")
    with pytest.raises(NotFoundError):
        registry_store.add_approval("m", 9, "Production", "request")
    with pytest.raises(NotFoundError):
        registry_store.list_approvals("missing")
    assert _actions(registry_store, "m")[-3:] == ["approval_request", "approval_approve", "approval_reject"]


def test_events_form_a_gap_free_hash_chain(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m", user_id="ann")
    registry_store.create_model_version("m", "s", user_id="ann")
    registry_store.update_model_version("m", 1, stage="Staging", user_id="bob", comment="go")
    registry_store.set_alias("m", "champion", 1)
    events = registry_store.list_events("m")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    prev = ""
    for e in events:
        assert e.prev_hash == prev and e.hash == e.compute_hash()
        prev = e.hash
    assert [e.seq for e in registry_store.list_events("m", since_seq=2)] == list(range(3, len(events) + 1))


def test_failed_mutation_leaves_no_event(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    before = registry_store.list_events("m")
    with pytest.raises(NotFoundError):
        registry_store.set_alias("m", "champion", 5)
    with pytest.raises(NotFoundError):
        registry_store.update_model_version("m", 5, stage="Staging")
    with pytest.raises(AlreadyExistsError):
        registry_store.create_registered_model("m")
    assert registry_store.list_events("m") == before


def test_delete_model_keeps_its_log_and_frees_the_name(registry_store: RegistryStore) -> None:
    registry_store.create_registered_model("m")
    registry_store.create_model_version("m", "s")
    registry_store.delete_registered_model("m", user_id="ann", comment="retired")
    with pytest.raises(NotFoundError):
        registry_store.get_registered_model("m")
    assert registry_store.search_model_versions("m") == []
    log = registry_store.list_events("m")
    assert log[-1].action == "model_deleted" and log[-1].comment == "retired"
    registry_store.create_registered_model("m")
    assert registry_store.create_model_version("m", "s").version == 1
    assert _actions(registry_store, "m") == ["model_created", "version_created"]
    with pytest.raises(NotFoundError):
        registry_store.list_events("never-existed")
    with pytest.raises(NotFoundError):
        registry_store.delete_registered_model("never-existed")
