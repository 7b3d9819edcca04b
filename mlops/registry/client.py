"""``RegistryClient``: registered models, versions, stages, aliases, approvals, gates and the audit log.

It sits on a :class:`~mlops.store.RegistryStore` (which appends one hash-chained event per change,
atomically with it, and numbers versions) and a :class:`~mlops.store.TrackingStore` (for lineage
and run gates). The client validates input, enforces the model's approval policy
(:mod:`mlops.registry.policy`) and names the acting user on every change.

User identity: ``user=`` on a call, else the client's ``user``, else :func:`current_user` (the
``MLOPS_USER`` environment variable, else the login name).

Example:
    >>> reg = RegistryClient("sqlite://", user="ann")
    >>> reg.register_model("s3://bucket/credit/v1", "credit").version
    1
    >>> reg.transition_stage("credit", 1, "Staging").stage
    'Staging'
    >>> [e.action for e in reg.events("credit")]
    ['model_created', 'version_created', 'version_stage_changed']
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mlops import config
from mlops.entities import (
    MODEL_STAGES,
    Approval,
    DatasetInput,
    EventLog,
    ModelVersion,
    RegisteredModel,
    Run,
)
from mlops.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from mlops.registry.audit import RegistrySnapshot, snapshot_at, to_epoch_ms, verify_chain
from mlops.registry.gates import REPORT_TAG_PREFIX, report_passed_tag, report_tag
from mlops.registry.policy import ApprovalState, Policy, StagePolicy, approval_states, normalize_stage
from mlops.registry.uris import MODELS_SCHEME, RUNS_SCHEME, find_version, parse_models_uri, parse_runs_uri
from mlops.store import RegistryStore, TrackingStore, open_registry_store, open_tracking_store
from mlops.tracking import validation as v
from mlops.tracking.run_context import current_user

__all__ = ["VERSION_STATUSES", "Lineage", "RegistryClient", "ReportRef"]

VERSION_STATUSES = ("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")
_ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_RESERVED_ALIAS_RE = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_REPORT_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: "C:\..." is a path


@dataclass(frozen=True)
class ReportRef:
    """A report attached to a version: where it is and whether it passed (``None``: not stated)."""

    uri: str
    passed: bool | None = None


@dataclass(frozen=True)
class Lineage:
    """Where a model version came from: its source run, the datasets that run used, attached reports.

    ``run`` is ``None`` when the version has no source run or the tracking store does not know it.
    """

    version: ModelVersion
    run: Run | None
    datasets: tuple[DatasetInput, ...] = ()
    reports: Mapping[str, ReportRef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reports", MappingProxyType(dict(self.reports)))


class RegistryClient:
    """The model registry: one registry store, plus a tracking store for lineage and gates.

    Args:
        registry_uri: where the registry lives (default: the tracking URI, i.e. ``MLOPS_TRACKING_URI``
            or ``./mlops-data/mlops.db``).
        tracking_uri: where source runs live (default: ``registry_uri``).
        user: who acts, when a call does not say (default: :func:`current_user` at call time).
        store: an already opened registry store (then ``registry_uri`` only labels it).
        tracking_store: an already opened tracking store.

    Thread-safe: share one client between threads.

    Example:
        >>> reg = RegistryClient("sqlite://", user="ann")
        >>> reg.create_registered_model("credit", tags={"team": "risk"}).tags["team"]
        'risk'
    """

    def __init__(
        self,
        registry_uri: str | None = None,
        *,
        tracking_uri: str | None = None,
        user: str | None = None,
        store: RegistryStore | None = None,
        tracking_store: TrackingStore | None = None,
    ) -> None:
        self.registry_uri = config.tracking_uri(registry_uri)
        self.tracking_uri = tracking_uri or self.registry_uri
        self.user = None if user is None else v.validate_name(user, "user")
        self.store: RegistryStore = store if store is not None else open_registry_store(self.registry_uri)
        self._tracking_store = tracking_store
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RegistryClient(registry_uri={self.registry_uri!r}, tracking_uri={self.tracking_uri!r})"

    @property
    def tracking_store(self) -> TrackingStore:
        """The tracking store that holds the source runs (opened on first use)."""
        with self._lock:
            if self._tracking_store is None:
                self._tracking_store = open_tracking_store(self.tracking_uri)
            return self._tracking_store

    # ================================================================== registered models
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str = "",
        *,
        user: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model.

        Raises:
            AlreadyExistsError: the name is taken.
            InvalidInputError: a bad name (it may not contain ``/`` or ``@``), tag or description.

        Example:
            >>> RegistryClient("sqlite://", user="ann").create_registered_model("churn").name
            'churn'
        """
        return self.store.create_registered_model(
            _model_name(name),
            description=_text(description, "description"),
            tags=_tags(tags),
            user_id=self._user(user),
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and policy document.

        Raises:
            NotFoundError: no such model.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.get_registered_model("credit").name
            'credit'
        """
        return self.store.get_registered_model(name)

    def search_registered_models(
        self, name_like: str | None = None, *, tags: Mapping[str, Any] | None = None
    ) -> list[RegisteredModel]:
        """Models whose name matches a ``LIKE`` pattern (``%``, ``_``; case-sensitive) and that carry
        every tag in ``tags`` with that value, by name.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit-a", tags={"team": "risk"})
            >>> _ = reg.create_registered_model("credit-b")
            >>> [m.name for m in reg.search_registered_models("credit%", tags={"team": "risk"})]
            ['credit-a']
        """
        wanted = {k: str(x) for k, x in (tags or {}).items()}
        models = self.store.search_registered_models(name_like)
        return [m for m in models if all(m.tags.get(k) == x for k, x in wanted.items())]

    def rename_registered_model(
        self, name: str, new_name: str, *, user: str | None = None, comment: str | None = None
    ) -> RegisteredModel:
        """Rename a model (its versions, aliases and audit log follow it).

        Raises:
            NotFoundError: no such model.
            AlreadyExistsError: ``new_name`` is taken.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.rename_registered_model("credit", "credit-default").name
            'credit-default'
        """
        return self.store.update_registered_model(
            name, new_name=_model_name(new_name), user_id=self._user(user), comment=_text(comment, "comment")
        )

    def update_registered_model(
        self, name: str, description: str, *, user: str | None = None, comment: str | None = None
    ) -> RegisteredModel:
        """Set a model's description.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.update_registered_model("credit", "PD model").description
            'PD model'
        """
        return self.store.update_registered_model(
            name,
            description=_text(description, "description"),
            user_id=self._user(user),
            comment=_text(comment, "comment"),
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any, *, user: str | None = None) -> None:
        """Set a tag on a model.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.set_registered_model_tag("credit", "team", "risk")
            >>> reg.get_registered_model("credit").tags["team"]
            'risk'
        """
        self.store.update_registered_model(name, tags=_tags({key: value}), user_id=self._user(user))

    def delete_registered_model_tag(self, name: str, key: str, *, user: str | None = None) -> None:
        """Remove a tag from a model (no change, and no event, when it is not set).

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit", tags={"team": "risk"})
            >>> reg.delete_registered_model_tag("credit", "team")
            >>> dict(reg.get_registered_model("credit").tags)
            {}
        """
        self.store.update_registered_model(
            name, tags={v.validate_key(key, "tag"): None}, user_id=self._user(user)
        )

    def delete_registered_model(
        self, name: str, *, user: str | None = None, comment: str | None = None
    ) -> None:
        """Delete a model with its versions and aliases; its audit log stays readable by name.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.delete_registered_model("credit")
            >>> reg.events("credit")[-1].action
            'model_deleted'
        """
        self.store.delete_registered_model(name, user_id=self._user(user), comment=_text(comment, "comment"))

    # ================================================================== policy
    def set_policy(
        self,
        name: str,
        policy: Mapping[str, Any] | Policy,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> Policy:
        """Validate and store a model's approval policy (see :mod:`mlops.registry.policy`).

        Raises:
            InvalidInputError: an unknown stage or key, a bad approval count or a gate that does not parse.
            NotFoundError: no such model.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> rules = {"Production": {"approvals": 2, "gates": ["metrics.auc >= 0.75"]}}
            >>> p = reg.set_policy("credit", rules)
            >>> p.for_stage("Production").approvals
            2
        """
        parsed = policy if isinstance(policy, Policy) else Policy.from_document(policy)
        stored = self.store.update_registered_model(
            name, policy=parsed.to_document(), user_id=self._user(user), comment=_text(comment, "comment")
        )
        return Policy.from_document(stored.policy)

    def get_policy(self, name: str) -> Policy:
        """The model's policy (empty when none was set).

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.get_policy("credit").stages
            {}
        """
        return Policy.from_document(self.store.get_registered_model(name).policy)

    # ================================================================== versions
    def register_model(
        self,
        model_uri: str,
        name: str,
        *,
        tags: Mapping[str, Any] | None = None,
        description: str = "",
        user: str | None = None,
    ) -> ModelVersion:
        """Create the next version of ``name`` from a model URI, creating the model when missing.

        ``model_uri`` is ``runs:/<run_id>/<path>`` (the run must exist in the tracking store; the
        version links to it), ``models:/...`` (a copy of that version's source and run), a URL
        (``s3://...``, ``file://...``) or a local path (stored as an absolute path).

        Safe when several processes register versions of one model at once: each gets its own number.

        Raises:
            InvalidInputError: a malformed URI, name or tag.
            NotFoundError: the ``runs:/`` run or the ``models:/`` version does not exist.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> mv = reg.register_model("s3://bucket/credit/model", "credit", tags={"algo": "logreg"})
            >>> (mv.name, mv.version, mv.source, mv.run_id)
            ('credit', 1, 's3://bucket/credit/model', None)
        """
        name = _model_name(name)
        source, run_id = self._source(model_uri)
        user_id = self._user(user)
        clean_tags = _tags(tags)
        clean_description = _text(description, "description")
        try:
            self.store.get_registered_model(name)
        except NotFoundError:
            with contextlib.suppress(AlreadyExistsError):  # another process created it first: fine
                self.store.create_registered_model(name, user_id=user_id)
        return self.store.create_model_version(
            name, source, run_id=run_id, description=clean_description, tags=clean_tags, user_id=user_id
        )

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str = "",
        *,
        user: str | None = None,
    ) -> ModelVersion:
        """Create the next version of an existing model from ``source`` (MLflow's low-level call).

        ``run_id`` defaults to the run of a ``runs:/`` source.

        Raises:
            NotFoundError: no such model.
            InvalidInputError: an empty source or bad tags.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.create_registered_model("credit")
            >>> reg.create_model_version("credit", "s3://b/m").version
            1
        """
        if not isinstance(source, str) or not source.strip() or "\x00" in source:
            raise InvalidInputError(f"a model version's source must be a non-empty string; got {source!r}")
        if run_id is None and source.startswith(RUNS_SCHEME):
            run_id = parse_runs_uri(source)[0]
        return self.store.create_model_version(
            name,
            source,
            run_id=run_id,
            description=_text(description, "description"),
            tags=_tags(tags),
            user_id=self._user(user),
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version of a model.

        Raises:
            NotFoundError: no such model or version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.get_model_version("credit", "1").stage
            'None'
        """
        return self.store.get_model_version(name, _version(version))

    def search_model_versions(
        self, name: str | None = None, *, stage: str | None = None, run_id: str | None = None
    ) -> list[ModelVersion]:
        """Versions by model, stage and source run, ordered by model name and version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m1", "credit"); _ = reg.register_model("s3://b/m2", "credit")
            >>> [mv.version for mv in reg.search_model_versions("credit")]
            [1, 2]
        """
        return self.store.search_model_versions(
            name, stage=None if stage is None else normalize_stage(stage), run_id=run_id
        )

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The latest version in each stage (every stage that has one when ``stages`` is None).

        Raises:
            NotFoundError: no such model.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m1", "credit"); _ = reg.register_model("s3://b/m2", "credit")
            >>> [(mv.version, mv.stage) for mv in reg.get_latest_versions("credit")]
            [(2, 'None')]
        """
        self.store.get_registered_model(name)
        wanted = list(MODEL_STAGES) if stages is None else [normalize_stage(s) for s in stages]
        latest: dict[str, ModelVersion] = {}
        for mv in self.store.search_model_versions(name):
            if mv.stage in wanted:
                latest[mv.stage] = mv  # ascending order: the last one wins
        return sorted(latest.values(), key=lambda mv: mv.version)

    def update_model_version(
        self,
        name: str,
        version: int | str,
        description: str | None = None,
        *,
        status: str | None = None,
        user: str | None = None,
        comment: str | None = None,
    ) -> ModelVersion:
        """Change a version's description or status (``READY``, ``PENDING_REGISTRATION``,
        ``FAILED_REGISTRATION``).

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.update_model_version("credit", 1, "first try").description
            'first try'
        """
        if status is not None and status not in VERSION_STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(VERSION_STATUSES)}; got {status!r}")
        return self.store.update_model_version(
            name,
            _version(version),
            description=None if description is None else _text(description, "description"),
            status=status,
            user_id=self._user(user),
            comment=_text(comment, "comment"),
        )

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: Any, *, user: str | None = None
    ) -> None:
        """Set a tag on a version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.set_model_version_tag("credit", 1, "validated", "yes")
            >>> reg.get_model_version("credit", 1).tags["validated"]
            'yes'
        """
        self.store.update_model_version(
            name, _version(version), tags=_tags({key: value}), user_id=self._user(user)
        )

    def delete_model_version_tag(
        self, name: str, version: int | str, key: str, *, user: str | None = None
    ) -> None:
        """Remove a tag from a version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit", tags={"a": "1"})
            >>> reg.delete_model_version_tag("credit", 1, "a")
            >>> dict(reg.get_model_version("credit", 1).tags)
            {}
        """
        self.store.update_model_version(
            name, _version(version), tags={v.validate_key(key, "tag"): None}, user_id=self._user(user)
        )

    def delete_model_version(
        self, name: str, version: int | str, *, user: str | None = None, comment: str | None = None
    ) -> None:
        """Delete a version and its aliases. Its number is never reused.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.delete_model_version("credit", 1)
            >>> reg.register_model("s3://b/m2", "credit").version
            2
        """
        self.store.delete_model_version(
            name, _version(version), user_id=self._user(user), comment=_text(comment, "comment")
        )

    # ================================================================== stages
    def transition_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing: bool = False,
        comment: str | None = None,
        user: str | None = None,
    ) -> ModelVersion:
        """Move a version to a stage (None, Staging, Production, Archived; any letter case).

        With ``archive_existing``, the versions already in that stage move to Archived in the same
        transaction. When the model's policy names the stage, the move first needs an approved
        approval request (:meth:`request_approval`) and every gate to pass; the approval is consumed
        by the move. A version already in the stage is returned unchanged (no event).

        Raises:
            ConflictError: the policy blocks the move; the message lists everything missing.
            NotFoundError: no such model or version.
            InvalidInputError: an unknown stage.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m1", "credit"); _ = reg.register_model("s3://b/m2", "credit")
            >>> _ = reg.transition_stage("credit", 1, "Production")
            >>> _ = reg.transition_stage("credit", 2, "production", archive_existing=True)
            >>> [(mv.version, mv.stage) for mv in reg.search_model_versions("credit")]
            [(1, 'Archived'), (2, 'Production')]
        """
        stage = normalize_stage(stage)
        number = _version(version)
        user_id = self._user(user)
        clean_comment = _text(comment, "comment")
        current = self.store.get_model_version(name, number)
        if current.stage == stage:
            return current
        missing = self._missing(current, stage)
        if missing:
            raise ConflictError(
                f"cannot move model {name!r} version {number} to {stage}: " + "; ".join(missing)
            )
        return self.store.update_model_version(
            name,
            number,
            stage=stage,
            archive_existing=bool(archive_existing),
            user_id=user_id,
            comment=clean_comment,
        )

    transition_model_version_stage = transition_stage  # MLflow's name

    def check_transition(self, name: str, version: int | str, stage: str) -> list[str]:
        """What the policy still needs before ``version`` may enter ``stage`` (empty: nothing).

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> _ = reg.set_policy("credit", {"Production": {"approvals": 1}})
            >>> reg.check_transition("credit", 1, "Production")
            ['needs 1 approval from distinct users, has 0 (no open approval request for Production; ...)']
        """
        stage = normalize_stage(stage)
        current = self.store.get_model_version(name, _version(version))
        return [] if current.stage == stage else self._missing(current, stage)

    def _missing(self, mv: ModelVersion, stage: str) -> list[str]:
        rules: StagePolicy = self.get_policy(mv.name).for_stage(stage)
        missing: list[str] = []
        if rules.approvals > 0:
            state = self.approval_status(mv.name, mv.version, stage)
            if state.status != "Approved":
                missing.append(state.describe_missing())
        if rules.gates:
            run = self._run(mv.run_id) if any(g.needs_run for g in rules.gates) else None
            missing.extend(why for g in rules.gates if (why := g.check(mv, run)) is not None)
        return missing

    # ================================================================== aliases
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Point ``alias`` at ``version``, moving it atomically if it pointed elsewhere.

        Aliases are 1-255 letters, digits, ``_`` or ``-``; ``latest`` and ``v<digits>`` are reserved.

        Raises:
            NotFoundError: no such model or version.
            InvalidInputError: a bad alias.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.set_alias("credit", "champion", 1)
            >>> reg.get_version_by_alias("credit", "champion").version
            1
        """
        self.store.set_alias(
            name,
            _alias(alias),
            _version(version),
            user_id=self._user(user),
            comment=_text(comment, "comment"),
        )

    def delete_alias(
        self, name: str, alias: str, *, user: str | None = None, comment: str | None = None
    ) -> None:
        """Remove an alias.

        Raises:
            NotFoundError: no such model, or the alias is not set.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.set_alias("credit", "champion", 1)
            >>> reg.delete_alias("credit", "champion")
            >>> dict(reg.get_registered_model("credit").aliases)
            {}
        """
        self.store.set_alias(
            name, _alias(alias), None, user_id=self._user(user), comment=_text(comment, "comment")
        )

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at.

        Raises:
            NotFoundError: no such model or alias.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.set_alias("credit", "challenger", 1)
            >>> reg.get_version_by_alias("credit", "challenger").source
            's3://b/m'
        """
        return self.store.get_version_by_alias(name, alias)

    set_registered_model_alias = set_alias  # MLflow's names
    delete_registered_model_alias = delete_alias
    get_model_version_by_alias = get_version_by_alias

    def get_model_version_by_uri(self, uri: str) -> ModelVersion:
        """The version a ``models:/`` URI names.

        Raises:
            InvalidInputError: a malformed URI.
            NotFoundError: nothing matches.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.get_model_version_by_uri("models:/credit/latest").version
            1
        """
        return find_version(self, parse_models_uri(uri))

    # ================================================================== approvals
    def request_approval(
        self,
        name: str,
        version: int | str,
        stage: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> ApprovalState:
        """Ask for approval to move ``version`` to ``stage``; opens a round (``PendingApproval``).

        Raises:
            ConflictError: the version is already in that stage, or a round is already open (cancel it
                with :meth:`cancel_approval_request` to start over).
            NotFoundError: no such model or version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.request_approval("credit", 1, "Production", comment="AUC 0.81").status
            'PendingApproval'
        """
        stage, number, user_id = normalize_stage(stage), _version(version), self._user(user)
        clean_comment = _text(comment, "comment")
        mv = self.store.get_model_version(name, number)
        if mv.stage == stage:
            raise ConflictError(f"model {name!r} version {number} is already in {stage}")
        state = self.approval_status(name, number, stage)
        if state.is_open:
            raise ConflictError(
                f"model {name!r} version {number} already has an open approval request for {stage} "
                f"({state.status}, requested by {state.requested_by}); cancel it first to start over"
            )
        self.store.add_approval(name, number, stage, "request", user_id=user_id, comment=clean_comment)
        return self.approval_status(name, number, stage)

    def approve(
        self,
        name: str,
        version: int | str,
        stage: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> ApprovalState:
        """Approve the open request to move ``version`` to ``stage``.

        The requester may not approve their own request unless the stage's policy sets
        ``allow_self_approval``; each user's approval counts once.

        Raises:
            ConflictError: no open request, a self-approval, or this user already approved.
            NotFoundError: no such model or version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> _ = reg.request_approval("credit", 1, "Production")
            >>> reg.approve("credit", 1, "Production", user="bo").status
            'Approved'
        """
        stage, number, user_id = normalize_stage(stage), _version(version), self._user(user)
        clean_comment = _text(comment, "comment")
        state = self._open_round(name, number, stage, "approve")
        if user_id == state.requested_by and not self.get_policy(name).for_stage(stage).allow_self_approval:
            raise ConflictError(
                f"{user_id} requested this approval and may not approve it (the policy for {stage} does "
                "not set allow_self_approval)"
            )
        if user_id in state.approved_by:
            raise ConflictError(f"{user_id} already approved model {name!r} version {number} for {stage}")
        self.store.add_approval(name, number, stage, "approve", user_id=user_id, comment=clean_comment)
        return self.approval_status(name, number, stage)

    def reject(
        self,
        name: str,
        version: int | str,
        stage: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> ApprovalState:
        """Reject the open request to move ``version`` to ``stage`` (closes it as ``Rejected``).

        Raises:
            ConflictError: no open request, or the requester rejecting (they cancel instead).
            NotFoundError: no such model or version.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> _ = reg.request_approval("credit", 1, "Production")
            >>> reg.reject("credit", 1, "Production", user="bo", comment="bias report missing").status
            'Rejected'
        """
        stage, number, user_id = normalize_stage(stage), _version(version), self._user(user)
        clean_comment = _text(comment, "comment")
        state = self._open_round(name, number, stage, "reject")
        if user_id == state.requested_by:
            raise ConflictError(
                f"{user_id} requested this approval; withdraw it with cancel_approval_request"
            )
        self.store.add_approval(name, number, stage, "reject", user_id=user_id, comment=clean_comment)
        return self.approval_status(name, number, stage)

    def cancel_approval_request(
        self,
        name: str,
        version: int | str,
        stage: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> ApprovalState:
        """Withdraw an open request (only its requester may).

        Raises:
            ConflictError: no open request, or another user than the requester.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> _ = reg.request_approval("credit", 1, "Staging")
            >>> reg.cancel_approval_request("credit", 1, "Staging").status is None
            True
        """
        stage, number, user_id = normalize_stage(stage), _version(version), self._user(user)
        clean_comment = _text(comment, "comment")
        state = self._open_round(name, number, stage, "cancel")
        if user_id != state.requested_by:
            raise ConflictError(f"only {state.requested_by} (who requested it) may cancel this request")
        self.store.add_approval(name, number, stage, "cancel", user_id=user_id, comment=clean_comment)
        return self.approval_status(name, number, stage)

    def _open_round(self, name: str, version: int, stage: str, what: str) -> ApprovalState:
        self.store.get_model_version(name, version)  # NotFoundError first
        state = self.approval_status(name, version, stage)
        if not state.is_open:
            now = "it was rejected" if state.status == "Rejected" else "none is open"
            raise ConflictError(
                f"cannot {what}: model {name!r} version {version} has no open approval request for "
                f"{stage} ({now}; call request_approval first)"
            )
        return state

    def approval_status(self, name: str, version: int | str, stage: str) -> ApprovalState:
        """The approval state of (version, stage): status ``PendingApproval``, ``Approved``,
        ``Rejected`` or ``None`` (no open round), with who requested, approved or rejected.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.approval_status("credit", 1, "Production").status is None
            True
        """
        stage, number = normalize_stage(stage), _version(version)
        events = self.store.list_events(name)
        policy = self.get_policy(name)
        found = approval_states(name, events, policy).get((number, stage))
        if found is None:
            return ApprovalState(name, number, stage, None, policy.for_stage(stage).required_approvals)
        return found

    def list_approvals(self, name: str, version: int | str | None = None) -> list[Approval]:
        """Every approval record of a model (or one version), oldest first.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> _ = reg.request_approval("credit", 1, "Staging")
            >>> [(a.action, a.user_id, a.stage) for a in reg.list_approvals("credit")]
            [('request', 'ann', 'Staging')]
        """
        return self.store.list_approvals(name, None if version is None else _version(version))

    # ================================================================== reports and lineage
    def attach_report(
        self,
        name: str,
        version: int | str,
        report: str,
        uri: str,
        *,
        passed: bool | None = None,
        user: str | None = None,
    ) -> None:
        """Link a report (e.g. ``bias``) to a version: tags ``mlops.report.<report>`` = ``uri`` and
        ``mlops.report.<report>.passed`` = ``"true"``/``"false"`` (removed when ``passed`` is None).

        This is the contract the bias report (``BiasReport.log``) and ``report:<name> passes`` gates
        share.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.attach_report("credit", 1, "bias", "runs:/r1/bias.html", passed=True)
            >>> reg.lineage("credit", 1).reports["bias"]
            ReportRef(uri='runs:/r1/bias.html', passed=True)
        """
        if not isinstance(report, str) or not _REPORT_RE.match(report):
            raise InvalidInputError(f"a report name is 1-100 letters, digits, '_' or '-'; got {report!r}")
        if passed is not None and not isinstance(passed, bool):
            raise InvalidInputError(f"passed must be True, False or None; got {passed!r}")
        tags: dict[str, str | None] = {
            report_tag(report): v.validate_tag_value(report_tag(report), uri),
            report_passed_tag(report): None if passed is None else ("true" if passed else "false"),
        }
        self.store.update_model_version(name, _version(version), tags=tags, user_id=self._user(user))

    def lineage(self, name: str, version: int | str) -> Lineage:
        """A version's source run, the datasets that run used, and the reports attached to the version.

        Example:
            >>> from mlops import Client
            >>> client = Client("sqlite://", artifact_uri="memory://lineage-doc")
            >>> run = client.create_run(client.get_or_create_experiment("e").experiment_id)
            >>> import pandas as pd
            >>> client.log_input(run.run_id, pd.DataFrame({"x": [1, 2, 3]}), name="train")
            >>> reg = client.registry
            >>> _ = reg.register_model(f"runs:/{run.run_id}/model", "credit", user="ann")
            >>> found = reg.lineage("credit", 1)
            >>> (found.run.run_id == run.run_id, [d.name for d in found.datasets])
            (True, ['train'])
        """
        mv = self.store.get_model_version(name, _version(version))
        run = self._run(mv.run_id)
        reports: dict[str, ReportRef] = {}
        for key, value in mv.tags.items():
            report = key[len(REPORT_TAG_PREFIX) :] if key.startswith(REPORT_TAG_PREFIX) else ""
            if report and "." not in report:
                flag = mv.tags.get(report_passed_tag(report))
                reports[report] = ReportRef(uri=value, passed=None if flag is None else flag == "true")
        return Lineage(version=mv, run=run, datasets=run.inputs if run else (), reports=reports)

    def _run(self, run_id: str | None) -> Run | None:
        if run_id is None:
            return None
        try:
            return self.tracking_store.get_run(run_id)
        except NotFoundError:
            return None

    # ================================================================== audit log
    def events(self, name: str, *, since_seq: int = 0) -> EventLog:
        """The model's audit log, oldest first (a deleted model's log is kept under its name); a list
        that renders as a table in notebooks.

        Raises:
            NotFoundError: no model, live or deleted, has this name.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> [(e.seq, e.action, e.user_id) for e in reg.events("credit")]
            [(1, 'model_created', 'ann'), (2, 'version_created', 'ann')]
        """
        return EventLog(self.store.list_events(name, since_seq=since_seq))

    def verify_events(self, name: str) -> int:
        """Recompute the model's hash chain; return how many events were checked.

        Raises:
            IntegrityError: naming the first event (``seq``) that was changed, inserted or removed.
            NotFoundError: no model, live or deleted, has this name.

        Example:
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> reg.verify_events("credit")
            2
        """
        return verify_chain(name, self.store.list_events(name))

    def history(self, name: str, at: int | float | dt.datetime) -> RegistrySnapshot:
        """The model as it was at time ``at`` (epoch ms or a datetime): each version's stage, and where
        each alias pointed, replayed from the audit log.

        Example:
            >>> import time
            >>> reg = RegistryClient("sqlite://", user="ann")
            >>> _ = reg.register_model("s3://b/m", "credit")
            >>> before = reg.events("credit")[-1].timestamp
            >>> time.sleep(0.002)
            >>> _ = reg.transition_stage("credit", 1, "Production")
            >>> reg.history("credit", at=before).in_stage("Production")
            []
            >>> reg.history("credit", at=time.time() * 1000).in_stage("Production")
            [1]
        """
        return snapshot_at(name, self.store.list_events(name), to_epoch_ms(at))

    # ================================================================== helpers
    def _user(self, user: str | None) -> str:
        if user is not None:
            return v.validate_name(user, "user")
        return self.user if self.user is not None else current_user()

    def _source(self, model_uri: str) -> tuple[str, str | None]:
        if not isinstance(model_uri, str) or not model_uri.strip():
            raise InvalidInputError(f"a model URI must be a non-empty string; got {model_uri!r}")
        if any(ord(c) < 32 for c in model_uri):
            raise InvalidInputError(f"model URI {model_uri!r} contains control characters")
        if model_uri.startswith(RUNS_SCHEME):
            run_id, path = parse_runs_uri(model_uri)
            try:
                self.tracking_store.get_run(run_id)
            except NotFoundError as e:
                raise NotFoundError(
                    f"cannot register {model_uri!r}: run {run_id!r} is not in the tracking store "
                    f"{self.tracking_uri!r}"
                ) from e
            return f"{RUNS_SCHEME}{run_id}/{path}" if path else f"{RUNS_SCHEME}{run_id}", run_id
        if model_uri.startswith(MODELS_SCHEME):
            mv = find_version(self, parse_models_uri(model_uri))
            return mv.source, mv.run_id
        if _SCHEME_RE.match(model_uri):
            return model_uri, None
        return Path(model_uri).expanduser().resolve().as_posix(), None


def _model_name(name: Any) -> str:
    name = v.validate_name(name, "model")
    if "/" in name or "@" in name:
        raise InvalidInputError(
            f"invalid model name {name!r}: '/' and '@' are not allowed (they separate parts of models:/ URIs)"
        )
    if name != name.strip():
        raise InvalidInputError(f"invalid model name {name!r}: must not start or end with a space")
    return name


def _version(version: Any) -> int:
    if isinstance(version, str) and version.isascii() and version.isdigit():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInputError(f"a version is an integer from 1; got {version!r}")
    return version


def _alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
        raise InvalidInputError(f"invalid alias {alias!r}: use 1-255 letters, digits, '_' or '-'")
    if _RESERVED_ALIAS_RE.match(alias):
        raise InvalidInputError(f"invalid alias {alias!r}: 'latest' and 'v<number>' are reserved")
    return alias


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, not {type(value).__name__} ({value!r})")
    return v.validate_tag_value(what, value)


def _tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidInputError(f"tags must be a mapping of key to value, not {type(tags).__name__}")
    clean = {}
    for key, value in tags.items():
        if value is None:
            raise InvalidInputError(f"tag {key!r} has no value (use delete_*_tag to remove a tag)")
        clean[v.validate_key(key, "tag")] = v.validate_tag_value(key, value)
    return clean
