"""The registry store on SQL: models, versions, stages, aliases, approvals and a hash-chained audit log.

Every mutating method runs in one transaction that first locks the model's row (``BEGIN IMMEDIATE``
on SQLite, ``SELECT ... FOR UPDATE`` elsewhere). Version numbers and event sequence numbers are
taken from counters on that row, so concurrent creators get 1, 2, 3, … with no gap and no clash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mlops.entities import Approval, Event, ModelVersion, RegisteredModel, now_ms
from mlops.errors import AlreadyExistsError, NotFoundError
from mlops.store.registry import RegistryStore, check_approval_action, check_stage
from mlops.store.sql.database import Database, get_database
from mlops.store.sql.models import (
    SqlAlias,
    SqlApproval,
    SqlEvent,
    SqlModelVersion,
    SqlModelVersionTag,
    SqlRegisteredModel,
    SqlRegisteredModelTag,
)

__all__ = ["SqlRegistryStore"]

_M = SqlRegisteredModel


class _Tx:
    """One registry transaction on one locked model row: appends events as changes are made."""

    def __init__(self, conn: Connection, model: Row[Any], user_id: str, comment: str) -> None:
        self.conn = conn
        self.model_id: int = model.model_id
        self.name: str = model.name
        self.seq: int = model.event_seq
        self.hash: str = model.event_hash
        self.user_id = user_id
        self.comment = comment
        self.now = now_ms()

    def event(self, action: str, *, version: int | None = None, old: Any = None, new: Any = None) -> None:
        def text(value: Any) -> str | None:
            if value is None or isinstance(value, str):
                return value
            return json.dumps(value, sort_keys=True)

        event = Event(
            seq=self.seq + 1,
            name=self.name,
            action=action,
            timestamp=self.now,
            user_id=self.user_id,
            version=version,
            old_value=text(old),
            new_value=text(new),
            comment=self.comment,
            prev_hash=self.hash,
        )
        digest = event.compute_hash()
        self.conn.execute(sa.insert(SqlEvent).values(model_id=self.model_id, hash=digest, **event.payload()))
        self.seq, self.hash = event.seq, digest

    def finish(self) -> None:
        """Store the event counters and touch the model's update time."""
        self.conn.execute(
            sa.update(_M)
            .where(_M.model_id == self.model_id)
            .values(event_seq=self.seq, event_hash=self.hash, last_updated_time=self.now)
        )


class SqlRegistryStore(RegistryStore):
    """Registry store on a SQLAlchemy database (the same URLs as :class:`SqlTrackingStore`).

    Example:
        >>> store = SqlRegistryStore("sqlite://")
        >>> store.create_registered_model("credit").name
        'credit'
        >>> store.create_model_version("credit", "runs:/abc/model").version
        1
    """

    def __init__(self, uri: str, *, auto_migrate: bool = True) -> None:
        self.uri = uri
        self.db: Database = get_database(uri, auto_migrate=auto_migrate)

    # ================================================================== helpers
    def _lock_model(self, conn: Connection, name: str) -> Row[Any]:
        query = sa.select(_M).where(_M.name == name, _M.deleted_id == 0)
        if self.db.dialect != "sqlite":  # SQLite already holds the database write lock
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no registered model named {name!r}")
        return row

    def _mutate(self, name: str, user_id: str, comment: str, change: Any) -> Any:
        """Run ``change(tx)`` on the locked model in a retried transaction; return its result."""

        def body(conn: Connection) -> Any:
            tx = _Tx(conn, self._lock_model(conn, name), user_id, comment)
            result = change(tx)
            tx.finish()
            return result

        return self.db.run(body)

    @staticmethod
    def _version_row(conn: Connection, model_id: int, name: str, version: int) -> Row[Any]:
        row = conn.execute(
            sa.select(SqlModelVersion).where(
                SqlModelVersion.model_id == model_id, SqlModelVersion.version == version
            )
        ).first()
        if row is None:
            raise NotFoundError(f"model {name!r} has no version {version}")
        return row

    # ================================================================== registered models
    def create_registered_model(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        user_id: str = "",
    ) -> RegisteredModel:
        def create(conn: Connection) -> None:
            taken = conn.execute(sa.select(_M.model_id).where(_M.name == name, _M.deleted_id == 0)).first()
            if taken is not None:
                raise AlreadyExistsError(f"a registered model named {name!r} already exists")
            now = now_ms()
            conn.execute(
                sa.insert(_M).values(
                    name=name,
                    deleted_id=0,
                    description=description,
                    policy="{}",
                    creation_time=now,
                    last_updated_time=now,
                    next_version=1,
                    event_seq=0,
                    event_hash="",
                )
            )
            tx = _Tx(conn, self._lock_model(conn, name), user_id, "")
            tx.event("model_created", new=name)
            for key, value in (tags or {}).items():
                conn.execute(
                    sa.insert(SqlRegisteredModelTag).values(model_id=tx.model_id, key=key, value=value)
                )
                tx.event("model_tag_set", old=None, new={key: value})
            tx.finish()

        try:
            self.db.run(create)
        except SqlIntegrityError as e:
            raise AlreadyExistsError(f"a registered model named {name!r} already exists") from e
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.db.read() as conn:
            models = self._load_models(conn, sa.and_(_M.name == name, _M.deleted_id == 0))
        if not models:
            raise NotFoundError(f"no registered model named {name!r}")
        return models[0]

    def search_registered_models(self, name_like: str | None = None) -> list[RegisteredModel]:
        condition = _M.deleted_id == 0
        if name_like is not None:
            from mlops.store.sql.like import like_clause

            condition = sa.and_(condition, like_clause(self.db.dialect, _M.name, name_like))
        with self.db.read() as conn:
            return self._load_models(conn, condition)

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
        def change(tx: _Tx) -> None:
            conn = tx.conn
            model = conn.execute(sa.select(_M).where(_M.model_id == tx.model_id)).one()
            if description is not None and description != model.description:
                conn.execute(sa.update(_M).where(_M.model_id == tx.model_id).values(description=description))
                tx.event("model_description_set", old=model.description, new=description)
            if policy is not None:
                document = json.dumps(dict(policy), sort_keys=True)
                if document != model.policy:
                    conn.execute(sa.update(_M).where(_M.model_id == tx.model_id).values(policy=document))
                    tx.event("model_policy_set", old=model.policy, new=document)
            if tags:
                self._apply_tags(
                    tx, SqlRegisteredModelTag, {"model_id": tx.model_id}, tags, "model_tag", None
                )
            if new_name is not None and new_name != name:
                taken = conn.execute(
                    sa.select(_M.model_id).where(_M.name == new_name, _M.deleted_id == 0)
                ).first()
                if taken is not None:
                    raise AlreadyExistsError(f"a registered model named {new_name!r} already exists")
                conn.execute(sa.update(_M).where(_M.model_id == tx.model_id).values(name=new_name))
                tx.name = new_name
                tx.event("model_renamed", old=name, new=new_name)

        try:
            self._mutate(name, user_id, comment, change)
        except SqlIntegrityError as e:
            raise AlreadyExistsError(f"a registered model named {new_name!r} already exists") from e
        return self.get_registered_model(new_name or name)

    def delete_registered_model(self, name: str, *, user_id: str = "", comment: str = "") -> None:
        def change(tx: _Tx) -> None:
            conn = tx.conn
            for table in (SqlAlias, SqlModelVersionTag, SqlModelVersion, SqlRegisteredModelTag):
                conn.execute(sa.delete(table).where(table.model_id == tx.model_id))
            conn.execute(sa.update(_M).where(_M.model_id == tx.model_id).values(deleted_id=tx.model_id))
            tx.event("model_deleted", old=name)

        self._mutate(name, user_id, comment, change)

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
        def change(tx: _Tx) -> int:
            conn = tx.conn
            version = conn.execute(sa.select(_M.next_version).where(_M.model_id == tx.model_id)).scalar_one()
            conn.execute(sa.update(_M).where(_M.model_id == tx.model_id).values(next_version=version + 1))
            conn.execute(
                sa.insert(SqlModelVersion).values(
                    model_id=tx.model_id,
                    version=version,
                    source=source,
                    run_id=run_id,
                    stage="None",
                    status="READY",
                    description=description,
                    user_id=user_id,
                    creation_time=tx.now,
                    last_updated_time=tx.now,
                )
            )
            tx.event("version_created", version=version, new=source)
            if tags:
                where = {"model_id": tx.model_id, "version": version}
                self._apply_tags(tx, SqlModelVersionTag, where, dict(tags), "version_tag", version)
            return int(version)

        version = self._mutate(name, user_id, "", change)
        return self.get_model_version(name, version)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with self.db.read() as conn:
            found = self._load_versions(conn, name=name, version=version)
        if not found:
            self.get_registered_model(name)  # raises NotFoundError for an unknown model
            raise NotFoundError(f"model {name!r} has no version {version}")
        return found[0]

    def search_model_versions(
        self, name: str | None = None, *, stage: str | None = None, run_id: str | None = None
    ) -> list[ModelVersion]:
        if stage is not None:
            check_stage(stage)
        with self.db.read() as conn:
            return self._load_versions(conn, name=name, stage=stage, run_id=run_id)

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

        def change(tx: _Tx) -> None:
            conn = tx.conn
            row = self._version_row(conn, tx.model_id, name, version)
            key = SqlModelVersion.model_id == tx.model_id

            def set_version(v: int, **values: Any) -> None:
                conn.execute(
                    sa.update(SqlModelVersion)
                    .where(key, SqlModelVersion.version == v)
                    .values(last_updated_time=tx.now, **values)
                )

            if stage is not None and stage != row.stage:
                if archive_existing and stage != "Archived":
                    others = (
                        conn.execute(
                            sa.select(SqlModelVersion.version)
                            .where(key, SqlModelVersion.stage == stage, SqlModelVersion.version != version)
                            .order_by(SqlModelVersion.version)
                        )
                        .scalars()
                        .all()
                    )
                    for other in others:
                        set_version(other, stage="Archived")
                        tx.event("version_stage_changed", version=other, old=stage, new="Archived")
                set_version(version, stage=stage)
                tx.event("version_stage_changed", version=version, old=row.stage, new=stage)
            if description is not None and description != row.description:
                set_version(version, description=description)
                tx.event("version_description_set", version=version, old=row.description, new=description)
            if status is not None and status != row.status:
                set_version(version, status=status)
                tx.event("version_status_set", version=version, old=row.status, new=status)
            if tags:
                where = {"model_id": tx.model_id, "version": version}
                self._apply_tags(tx, SqlModelVersionTag, where, tags, "version_tag", version)

        self._mutate(name, user_id, comment, change)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int, *, user_id: str = "", comment: str = "") -> None:
        def change(tx: _Tx) -> None:
            conn = tx.conn
            row = self._version_row(conn, tx.model_id, name, version)
            for table in (SqlAlias, SqlModelVersionTag):
                conn.execute(sa.delete(table).where(table.model_id == tx.model_id, table.version == version))
            conn.execute(
                sa.delete(SqlModelVersion).where(
                    SqlModelVersion.model_id == tx.model_id, SqlModelVersion.version == version
                )
            )
            tx.event("version_deleted", version=version, old=row.source)

        self._mutate(name, user_id, comment, change)

    # ================================================================== aliases
    def set_alias(
        self, name: str, alias: str, version: int | None, *, user_id: str = "", comment: str = ""
    ) -> None:
        def change(tx: _Tx) -> None:
            conn = tx.conn
            where = (SqlAlias.model_id == tx.model_id, SqlAlias.alias == alias)
            current = conn.execute(sa.select(SqlAlias.version).where(*where)).scalar()
            if version is None:
                if current is None:
                    raise NotFoundError(f"model {name!r} has no alias {alias!r}")
                conn.execute(sa.delete(SqlAlias).where(*where))
                tx.event("alias_deleted", version=current, old=f"{alias}={current}")
                return
            self._version_row(conn, tx.model_id, name, version)
            if current == version:
                return
            if current is None:
                conn.execute(sa.insert(SqlAlias).values(model_id=tx.model_id, alias=alias, version=version))
            else:
                conn.execute(sa.update(SqlAlias).where(*where).values(version=version))
            tx.event(
                "alias_set",
                version=version,
                old=None if current is None else f"{alias}={current}",
                new=f"{alias}={version}",
            )

        self._mutate(name, user_id, comment, change)

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with self.db.read() as conn:
            version = conn.execute(
                sa.select(SqlAlias.version)
                .join(_M, _M.model_id == SqlAlias.model_id)
                .where(_M.name == name, _M.deleted_id == 0, SqlAlias.alias == alias)
            ).scalar()
        if version is None:
            self.get_registered_model(name)
            raise NotFoundError(f"model {name!r} has no alias {alias!r}")
        return self.get_model_version(name, int(version))

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

        def change(tx: _Tx) -> int:
            self._version_row(tx.conn, tx.model_id, name, version)
            result = tx.conn.execute(
                sa.insert(SqlApproval)
                .values(
                    model_id=tx.model_id,
                    version=version,
                    stage=stage,
                    action=action,
                    user_id=user_id,
                    timestamp=tx.now,
                    comment=comment,
                )
                .returning(SqlApproval.approval_id)
            )
            tx.event(f"approval_{action}", version=version, new=stage)
            return int(result.scalar_one())

        approval_id = self._mutate(name, user_id, comment, change)
        return next(a for a in self.list_approvals(name, version) if a.approval_id == approval_id)

    def list_approvals(self, name: str, version: int | None = None) -> list[Approval]:
        with self.db.read() as conn:
            model_id = conn.execute(
                sa.select(_M.model_id).where(_M.name == name, _M.deleted_id == 0)
            ).scalar()
            if model_id is None:
                raise NotFoundError(f"no registered model named {name!r}")
            query = sa.select(SqlApproval).where(SqlApproval.model_id == model_id)
            if version is not None:
                query = query.where(SqlApproval.version == version)
            rows = conn.execute(query.order_by(SqlApproval.approval_id)).all()
        return [
            Approval(
                approval_id=r.approval_id,
                name=name,
                version=r.version,
                stage=r.stage,
                action=r.action,
                user_id=r.user_id,
                timestamp=int(r.timestamp),
                comment=r.comment,
            )
            for r in rows
        ]

    def list_events(self, name: str, *, since_seq: int = 0) -> list[Event]:
        with self.db.read() as conn:
            model_id = conn.execute(
                # the live model of that name, else the most recently deleted one
                sa.select(_M.model_id)
                .where(_M.name == name)
                .order_by((_M.deleted_id == 0).desc(), _M.deleted_id.desc())
                .limit(1)
            ).scalar()
            if model_id is None:
                raise NotFoundError(f"no registered model (live or deleted) named {name!r}")
            rows = conn.execute(
                sa.select(SqlEvent)
                .where(SqlEvent.model_id == model_id, SqlEvent.seq > since_seq)
                .order_by(SqlEvent.seq)
            ).all()
        return [
            Event(
                seq=r.seq,
                name=r.name,
                action=r.action,
                timestamp=int(r.timestamp),
                user_id=r.user_id,
                version=r.version,
                old_value=r.old_value,
                new_value=r.new_value,
                comment=r.comment,
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]

    # ================================================================== loading
    @staticmethod
    def _apply_tags(
        tx: _Tx,
        table: Any,
        where: dict[str, Any],
        tags: Mapping[str, str | None],
        prefix: str,
        version: int | None,
    ) -> None:
        conn = tx.conn
        clauses = [getattr(table, k) == v for k, v in where.items()]
        for key, value in tags.items():
            old = conn.execute(sa.select(table.value).where(*clauses, table.key == key)).scalar()
            if value is None:
                if old is None:
                    continue
                conn.execute(sa.delete(table).where(*clauses, table.key == key))
                tx.event(f"{prefix}_deleted", version=version, old={key: old})
            elif old != value:
                if old is None:
                    conn.execute(sa.insert(table).values(key=key, value=value, **where))
                else:
                    conn.execute(sa.update(table).where(*clauses, table.key == key).values(value=value))
                tx.event(
                    f"{prefix}_set",
                    version=version,
                    old=None if old is None else {key: old},
                    new={key: value},
                )

    @staticmethod
    def _load_models(conn: Connection, condition: Any) -> list[RegisteredModel]:
        rows = conn.execute(sa.select(_M).where(condition).order_by(_M.name)).all()
        if not rows:
            return []
        ids = [r.model_id for r in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        aliases: dict[int, dict[str, int]] = {i: {} for i in ids}
        for t in conn.execute(
            sa.select(SqlRegisteredModelTag).where(SqlRegisteredModelTag.model_id.in_(ids))
        ):
            tags[t.model_id][t.key] = t.value
        for a in conn.execute(sa.select(SqlAlias).where(SqlAlias.model_id.in_(ids))):
            aliases[a.model_id][a.alias] = a.version
        return [
            RegisteredModel(
                name=r.name,
                description=r.description,
                creation_time=int(r.creation_time),
                last_updated_time=int(r.last_updated_time),
                tags=tags[r.model_id],
                aliases=aliases[r.model_id],
                policy=json.loads(r.policy),
            )
            for r in rows
        ]

    @staticmethod
    def _load_versions(
        conn: Connection,
        *,
        name: str | None = None,
        version: int | None = None,
        stage: str | None = None,
        run_id: str | None = None,
    ) -> list[ModelVersion]:
        query = (
            sa.select(SqlModelVersion, _M.name)
            .join(_M, _M.model_id == SqlModelVersion.model_id)
            .where(_M.deleted_id == 0)
        )
        if name is not None:
            query = query.where(_M.name == name)
        if version is not None:
            query = query.where(SqlModelVersion.version == version)
        if stage is not None:
            query = query.where(SqlModelVersion.stage == stage)
        if run_id is not None:
            query = query.where(SqlModelVersion.run_id == run_id)
        rows = conn.execute(query.order_by(_M.name, SqlModelVersion.version)).all()
        if not rows:
            return []
        keys = {(r.model_id, r.version) for r in rows}
        model_ids = list({r.model_id for r in rows})
        tags: dict[tuple[int, int], dict[str, str]] = {k: {} for k in keys}
        aliases: dict[tuple[int, int], list[str]] = {k: [] for k in keys}
        for t in conn.execute(
            sa.select(SqlModelVersionTag).where(SqlModelVersionTag.model_id.in_(model_ids))
        ):
            if (t.model_id, t.version) in tags:
                tags[(t.model_id, t.version)][t.key] = t.value
        for a in conn.execute(sa.select(SqlAlias).where(SqlAlias.model_id.in_(model_ids))):
            if (a.model_id, a.version) in aliases:
                aliases[(a.model_id, a.version)].append(a.alias)
        return [
            ModelVersion(
                name=r.name,
                version=r.version,
                source=r.source,
                run_id=r.run_id,
                stage=r.stage,
                status=r.status,
                description=r.description,
                user_id=r.user_id,
                creation_time=int(r.creation_time),
                last_updated_time=int(r.last_updated_time),
                tags=tags[(r.model_id, r.version)],
                aliases=tuple(aliases[(r.model_id, r.version)]),
            )
            for r in rows
        ]
