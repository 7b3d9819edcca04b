"""The registry store on an object store: one create-only log of registry changes, folded in memory.

Every mutating call appends one record to ``registry/log/`` (see :mod:`mlops.store.objectstore.index`)
with a create-only write. The record holds the request (operation, arguments, time, user); folding it
into the state validates it and computes the effects: the next version number, stage moves, alias
moves and the model's hash-chained events. Because an append only succeeds on top of exactly the state
it was validated against, version numbers are 1, 2, 3, ... with no gap or clash however many processes
create versions at once, an alias is never on two versions, the event chain of a model cannot fork,
and a call that raises stores nothing (neither the change nor its event).

Example:
    >>> store = ObjectRegistryStore("memory://doc-objreg")
    >>> store.create_registered_model("credit").name
    'credit'
    >>> store.create_model_version("credit", "runs:/abc/model").version
    1
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlops.entities import Approval, Event, ModelVersion, RegisteredModel, now_ms
from mlops.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlops.query.evaluate import like_to_regex
from mlops.store.objectstore._fs import ObjectFS
from mlops.store.objectstore.index import Log
from mlops.store.objectstore.layout import REGISTRY_LOG, meta_uri
from mlops.store.registry import RegistryStore, check_approval_action, check_stage

__all__ = ["ObjectRegistryStore"]

State = dict[str, Any]


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _copy_model(m: dict[str, Any]) -> dict[str, Any]:
    """A copy that a change may edit freely (events and approvals are append-only: shallow lists)."""
    c = dict(m)
    c["tags"], c["aliases"], c["policy"] = dict(m["tags"]), dict(m["aliases"]), dict(m["policy"])
    c["versions"] = {k: {**v, "tags": dict(v["tags"])} for k, v in m["versions"].items()}
    c["events"], c["approvals"] = list(m["events"]), list(m["approvals"])
    return c


class _Tx:
    """One change to a copy of a model; appends hash-chained events."""

    def __init__(self, model: dict[str, Any], record: dict[str, Any]) -> None:
        self.m = model
        self.now: int = record["now"]
        self.user: str = record.get("user", "")
        self.comment: str = record.get("comment", "")
        self.events = 0

    def event(self, action: str, *, version: int | None = None, old: Any = None, new: Any = None) -> None:
        events = self.m["events"]
        e = Event(
            seq=len(events) + 1,
            name=self.m["name"],
            action=action,
            timestamp=self.now,
            user_id=self.user,
            version=version,
            old_value=_text(old),
            new_value=_text(new),
            comment=self.comment,
            prev_hash=events[-1]["hash"] if events else "",
        )
        events.append({**e.payload(), "hash": e.compute_hash()})
        self.events += 1

    def tags(self, target: dict[str, str], tags: Mapping[str, str | None], prefix: str, version: Any) -> None:
        for key, value in tags.items():
            old = target.get(key)
            if value is None:
                if old is None:
                    continue
                del target[key]
                self.event(f"{prefix}_deleted", version=version, old={key: old})
            elif old != value:
                target[key] = value
                self.event(
                    f"{prefix}_set",
                    version=version,
                    old=None if old is None else {key: old},
                    new={key: value},
                )

    def version(self, number: int) -> dict[str, Any]:
        found = self.m["versions"].get(str(number))
        if found is None:
            raise NotFoundError(f"model {self.m['name']!r} has no version {number}")
        return dict(found)


def _live(state: State, name: str) -> dict[str, Any]:
    mid = state.get("live", {}).get(name)
    if mid is None:
        raise NotFoundError(f"no registered model named {name!r}")
    model: dict[str, Any] = state["models"][mid]
    return model


def apply(state: State, r: dict[str, Any], n: int) -> tuple[Any, bool]:
    """Validate registry record ``r`` against ``state``, then fold it in; see :data:`~.index.Apply`."""
    state.setdefault("models", {})
    state.setdefault("live", {})
    state.setdefault("by_name", {})
    op, name = r["op"], r["name"]
    if op == "create_model":
        if name in state["live"]:
            raise AlreadyExistsError(f"a registered model named {name!r} already exists")
        model = {
            "id": str(n),
            "name": name,
            "deleted": False,
            "deleted_at": None,
            "description": r["description"],
            "creation_time": r["now"],
            "last_updated_time": r["now"],
            "tags": {},
            "policy": {},
            "aliases": {},
            "next_version": 1,
            "versions": {},
            "events": [],
            "approvals": [],
        }
        tx = _Tx(model, r)
        tx.event("model_created", new=name)
        for key, value in r["tags"].items():
            model["tags"][key] = value
            tx.event("model_tag_set", old=None, new={key: value})
        state["models"][str(n)] = model
        state["live"][name] = str(n)
        state["by_name"].setdefault(name, []).append(str(n))
        return None, True
    tx = _Tx(_copy_model(_live(state, name)), r)
    m = tx.m
    result: Any = None
    new_name: str | None = None
    if op == "update_model":
        if r.get("description") is not None and r["description"] != m["description"]:
            tx.event("model_description_set", old=m["description"], new=r["description"])
            m["description"] = r["description"]
        if r.get("policy") is not None:
            old_doc, doc = json.dumps(m["policy"], sort_keys=True), json.dumps(r["policy"], sort_keys=True)
            if doc != old_doc:
                tx.event("model_policy_set", old=old_doc, new=doc)
                m["policy"] = dict(r["policy"])
        tx.tags(m["tags"], r.get("tags") or {}, "model_tag", None)
        if r.get("new_name") is not None and r["new_name"] != name:
            new_name = r["new_name"]
            if new_name in state["live"]:
                raise AlreadyExistsError(f"a registered model named {new_name!r} already exists")
            m["name"] = new_name
            tx.event("model_renamed", old=name, new=new_name)
    elif op == "delete_model":
        m["versions"], m["aliases"], m["tags"] = {}, {}, {}
        m["deleted"], m["deleted_at"] = True, n
        tx.event("model_deleted", old=name)
    elif op == "create_version":
        result = version = m["next_version"]
        m["next_version"] = version + 1
        m["versions"][str(version)] = {
            "version": version,
            "source": r["source"],
            "run_id": r["run_id"],
            "stage": "None",
            "status": "READY",
            "description": r["description"],
            "user_id": tx.user,
            "creation_time": tx.now,
            "last_updated_time": tx.now,
            "tags": {},
        }
        tx.event("version_created", version=version, new=r["source"])
        tx.tags(m["versions"][str(version)]["tags"], r["tags"], "version_tag", version)
    elif op == "update_version":
        _update_version(tx, r)
    elif op == "delete_version":
        row = tx.version(r["version"])
        m["aliases"] = {a: v for a, v in m["aliases"].items() if v != r["version"]}
        del m["versions"][str(r["version"])]
        tx.event("version_deleted", version=r["version"], old=row["source"])
    elif op == "set_alias":
        alias, version, current = r["alias"], r["version"], m["aliases"].get(r["alias"])
        if version is None:
            if current is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            del m["aliases"][alias]
            tx.event("alias_deleted", version=current, old=f"{alias}={current}")
        else:
            tx.version(version)
            if current != version:
                m["aliases"][alias] = version
                old = None if current is None else f"{alias}={current}"
                tx.event("alias_set", version=version, old=old, new=f"{alias}={version}")
    elif op == "add_approval":
        tx.version(r["version"])
        result = {
            "approval_id": state.get("approval_seq", 0) + 1,
            "version": r["version"],
            "stage": r["stage"],
            "action": r["action"],
            "user_id": tx.user,
            "timestamp": tx.now,
            "comment": tx.comment,
        }
        m["approvals"].append(result)
        tx.event(f"approval_{r['action']}", version=r["version"], new=r["stage"])
    else:
        raise InvalidInputError(f"unknown registry operation {op!r}")
    if not tx.events:
        return result, False
    # Every check passed: install the changed copy (nothing above touched the shared state).
    m["last_updated_time"] = tx.now
    state["models"][m["id"]] = m
    if op == "add_approval":
        state["approval_seq"] = result["approval_id"]
    if op == "delete_model":
        del state["live"][name]
    if new_name is not None:
        del state["live"][name]
        state["live"][new_name] = m["id"]
        state["by_name"].setdefault(new_name, []).append(m["id"])
    return result, True


def _update_version(tx: _Tx, r: dict[str, Any]) -> None:
    m, version = tx.m, r["version"]
    row = tx.version(version)
    versions = m["versions"]

    def set_version(v: int, **values: Any) -> None:
        versions[str(v)].update(last_updated_time=tx.now, **values)

    stage = r.get("stage")
    if stage is not None and stage != row["stage"]:
        if r.get("archive_existing") and stage != "Archived":
            others = sorted(int(k) for k, v in versions.items() if v["stage"] == stage and int(k) != version)
            for other in others:
                set_version(other, stage="Archived")
                tx.event("version_stage_changed", version=other, old=stage, new="Archived")
        set_version(version, stage=stage)
        tx.event("version_stage_changed", version=version, old=row["stage"], new=stage)
    if r.get("description") is not None and r["description"] != row["description"]:
        set_version(version, description=r["description"])
        tx.event("version_description_set", version=version, old=row["description"], new=r["description"])
    if r.get("status") is not None and r["status"] != row["status"]:
        set_version(version, status=r["status"])
        tx.event("version_status_set", version=version, old=row["status"], new=r["status"])
    before = tx.events
    tx.tags(versions[str(version)]["tags"], r.get("tags") or {}, "version_tag", version)
    if tx.events > before:
        versions[str(version)]["last_updated_time"] = tx.now


def _model_entity(m: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=m["name"],
        description=m["description"],
        creation_time=m["creation_time"],
        last_updated_time=m["last_updated_time"],
        tags=m["tags"],
        aliases=m["aliases"],
        policy=m["policy"],
    )


def _version_entity(m: dict[str, Any], v: dict[str, Any]) -> ModelVersion:
    aliases = tuple(a for a, num in m["aliases"].items() if num == v["version"])
    return ModelVersion(
        name=m["name"],
        version=v["version"],
        source=v["source"],
        run_id=v["run_id"],
        stage=v["stage"],
        status=v["status"],
        description=v["description"],
        user_id=v["user_id"],
        creation_time=v["creation_time"],
        last_updated_time=v["last_updated_time"],
        tags=v["tags"],
        aliases=aliases,
    )


class ObjectRegistryStore(RegistryStore):
    """Registry store on a local folder, ``memory://``, ``s3://`` or ``gs://`` (no database).

    Args:
        uri: the store root; metadata lives under ``<uri>/.mlops/meta-v1/registry/``.
        **storage_options: fsspec options (``endpoint_url``, ``key``, ``secret``, ``token``, ...).

    Writes serialize over the whole registry (one log); reads fold only the records this process has
    not seen. See ``docs/objectstore.md`` for guarantees and limits.

    Example:
        >>> store = ObjectRegistryStore("memory://doc-objreg-class")
        >>> _ = store.create_registered_model("m"); _ = store.create_model_version("m", "s")
        >>> store.set_alias("m", "champion", 1)
        >>> store.get_version_by_alias("m", "champion").version
        1
    """

    def __init__(self, uri: str, **storage_options: Any) -> None:
        self.uri = uri
        self._fs = ObjectFS(meta_uri(uri), **storage_options)
        self._log = Log(self._fs, REGISTRY_LOG, apply, snapshot_every=16)

    def __repr__(self) -> str:
        return f"ObjectRegistryStore({self.uri!r})"

    def _commit(self, op: str, name: str, *, user_id: str = "", comment: str = "", **args: Any) -> Any:
        record = {"op": op, "name": name, "user": user_id, "comment": comment, "now": now_ms(), **args}
        return self._log.commit(record)

    # ================================================================== registered models
    def create_registered_model(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        user_id: str = "",
    ) -> RegisteredModel:
        self._commit("create_model", name, user_id=user_id, description=description, tags=dict(tags or {}))
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._log.read(lambda s: _model_entity(_live(s, name)))

    def search_registered_models(self, name_like: str | None = None) -> list[RegisteredModel]:
        pattern = None if name_like is None else like_to_regex(name_like)

        def search(s: State) -> list[RegisteredModel]:
            names = sorted(n for n in s.get("live", {}) if pattern is None or pattern.fullmatch(n))
            return [_model_entity(_live(s, n)) for n in names]

        return self._log.read(search)

    def update_registered_model(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        policy: Mapping[str, Any] | None = None,
        user_id: str = "",
        comment: str = "",
    ) -> RegisteredModel:
        self._commit(
            "update_model",
            name,
            user_id=user_id,
            comment=comment,
            new_name=new_name,
            description=description,
            tags=dict(tags or {}),
            policy=None if policy is None else dict(policy),
        )
        return self.get_registered_model(new_name or name)

    def delete_registered_model(self, name: str, *, user_id: str = "", comment: str = "") -> None:
        self._commit("delete_model", name, user_id=user_id, comment=comment)

    # ================================================================== versions
    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        user_id: str = "",
    ) -> ModelVersion:
        version = self._commit(
            "create_version",
            name,
            user_id=user_id,
            source=source,
            run_id=run_id,
            description=description,
            tags=dict(tags or {}),
        )
        return self.get_model_version(name, version)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        def get(s: State) -> ModelVersion:
            m = _live(s, name)
            v = m["versions"].get(str(version))
            if v is None:
                raise NotFoundError(f"model {name!r} has no version {version}")
            return _version_entity(m, v)

        return self._log.read(get)

    def search_model_versions(
        self, name: str | None = None, *, stage: str | None = None, run_id: str | None = None
    ) -> list[ModelVersion]:
        if stage is not None:
            check_stage(stage)

        def search(s: State) -> list[ModelVersion]:
            found = []
            for model_name in sorted(s.get("live", {})):
                if name is not None and model_name != name:
                    continue
                m = _live(s, model_name)
                for v in sorted(m["versions"].values(), key=lambda v: v["version"]):
                    if (stage is None or v["stage"] == stage) and (run_id is None or v["run_id"] == run_id):
                        found.append(_version_entity(m, v))
            return found

        return self._log.read(search)

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        stage: str | None = None,
        archive_existing: bool = False,
        description: str | None = None,
        status: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        user_id: str = "",
        comment: str = "",
    ) -> ModelVersion:
        if stage is not None:
            check_stage(stage)
        self._commit(
            "update_version",
            name,
            user_id=user_id,
            comment=comment,
            version=version,
            stage=stage,
            archive_existing=archive_existing,
            description=description,
            status=status,
            tags=dict(tags or {}),
        )
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int, *, user_id: str = "", comment: str = "") -> None:
        self._commit("delete_version", name, user_id=user_id, comment=comment, version=version)

    # ================================================================== aliases
    def set_alias(
        self, name: str, alias: str, version: int | None, *, user_id: str = "", comment: str = ""
    ) -> None:
        self._commit("set_alias", name, user_id=user_id, comment=comment, alias=alias, version=version)

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        def get(s: State) -> ModelVersion:
            m = _live(s, name)
            number = m["aliases"].get(alias)
            if number is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            return _version_entity(m, m["versions"][str(number)])

        return self._log.read(get)

    # ================================================================== approvals and events
    def add_approval(
        self,
        name: str,
        version: int,
        stage: str,
        action: str,
        *,
        user_id: str = "",
        comment: str = "",
    ) -> Approval:
        check_stage(stage)
        check_approval_action(action)
        a = self._commit(
            "add_approval",
            name,
            user_id=user_id,
            comment=comment,
            version=version,
            stage=stage,
            action=action,
        )
        return Approval(name=name, **a)

    def list_approvals(self, name: str, version: int | None = None) -> list[Approval]:
        def get(s: State) -> list[Approval]:
            m = _live(s, name)
            return [
                Approval(name=name, **a) for a in m["approvals"] if version is None or a["version"] == version
            ]

        return self._log.read(get)

    def list_events(self, name: str, *, since_seq: int = 0) -> list[Event]:
        def get(s: State) -> list[Event]:
            mid = s.get("live", {}).get(name)
            if mid is None:  # the most recently deleted model that had this name
                gone = [s["models"][i] for i in s.get("by_name", {}).get(name, [])]
                gone = [m for m in gone if m["deleted"] and m["name"] == name]
                if not gone:
                    raise NotFoundError(f"no registered model (live or deleted) named {name!r}")
                mid = max(gone, key=lambda m: m["deleted_at"])["id"]
            return [Event(**e) for e in s["models"][mid]["events"] if e["seq"] > since_seq]

        return self._log.read(get)
