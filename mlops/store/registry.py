"""The registry store interface: registered models, versions, stages, aliases, approvals, events.

Contract shared by every implementation:

* **Thread and process safety** as for :class:`~mlops.store.tracking.TrackingStore`.
* **Audit log.** Every mutating method appends exactly one :class:`~mlops.entities.Event` per change,
  atomically with the change: if the method raises, neither the change nor its event is stored.
  Events of a model form a hash chain (:meth:`~mlops.entities.Event.compute_hash`); ``seq`` counts
  from 1 per model and has no gaps. Events outlive the model (deleting a model appends a
  ``model_deleted`` event; :meth:`list_events` still returns the log by that name).
* **Version numbers** are assigned by the store: 1, 2, 3, … per model, unique and contiguous even with
  concurrent creators in several processes.
* **Aliases and stages** move atomically: at no time does a reader see an alias on two versions.
* **Policy.** A store does not enforce approval policies; the registry client does, and records
  the outcome through these methods. The store only keeps the policy document with the model.
* **Errors.** ``NotFoundError`` for a missing model/version/alias, ``AlreadyExistsError`` for a
  taken name, ``InvalidInputError`` for a bad stage or action.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from mlops.entities import MODEL_STAGES, Approval, Event, ModelVersion, RegisteredModel
from mlops.errors import InvalidInputError

__all__ = ["APPROVAL_ACTIONS", "RegistryStore", "check_approval_action", "check_stage"]

APPROVAL_ACTIONS = ("request", "approve", "reject", "cancel")


def check_stage(stage: str) -> None:
    """Refuse a stage other than None, Staging, Production or Archived (for implementations).

    Example:
        >>> check_stage("Production")
    """
    if stage not in MODEL_STAGES:
        raise InvalidInputError(f"stage must be one of {', '.join(MODEL_STAGES)}; got {stage!r}")


def check_approval_action(action: str) -> None:
    """Refuse an approval action other than request, approve, reject or cancel.

    Example:
        >>> check_approval_action("approve")
    """
    if action not in APPROVAL_ACTIONS:
        raise InvalidInputError(f"action must be one of {', '.join(APPROVAL_ACTIONS)}; got {action!r}")


class RegistryStore(abc.ABC):
    """Abstract registry store. See the module docstring for the contract."""

    # ---------------------------------------------------------------- registered models
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        user_id: str = "",
    ) -> RegisteredModel:
        """Create a model (event ``model_created``).

        Raises:
            AlreadyExistsError: the name is taken.
        """

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return the model with its tags, aliases and policy.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def search_registered_models(self, name_like: str | None = None) -> list[RegisteredModel]:
        """Models whose name matches a SQL ``LIKE`` pattern (``%`` and ``_``, case-sensitive), by name."""

    @abc.abstractmethod
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
        """Rename, describe, tag (``None`` removes a tag) or set the policy; one event per change.

        Raises:
            NotFoundError: no such model.
            AlreadyExistsError: ``new_name`` is taken.
        """

    @abc.abstractmethod
    def delete_registered_model(self, name: str, *, user_id: str = "", comment: str = "") -> None:
        """Delete a model with its versions and aliases (event ``model_deleted``).

        Raises:
            NotFoundError: no such model.
        """

    # ---------------------------------------------------------------- versions
    @abc.abstractmethod
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
        """Create the next version of a model (event ``version_created``).

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """Return one version.

        Raises:
            NotFoundError: no such model or version.
        """

    @abc.abstractmethod
    def search_model_versions(
        self, name: str | None = None, *, stage: str | None = None, run_id: str | None = None
    ) -> list[ModelVersion]:
        """Versions filtered by model name, stage and source run; ordered by name, then version."""

    @abc.abstractmethod
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
        """Move a version to ``stage`` (with ``archive_existing``, other versions in that stage move to
        ``Archived`` in the same transaction, each with its own event), change description, status or
        tags.

        Raises:
            NotFoundError: no such model or version.
            InvalidInputError: unknown stage.
        """

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int, *, user_id: str = "", comment: str = "") -> None:
        """Delete one version and its aliases (event ``version_deleted``). Numbers are never reused.

        Raises:
            NotFoundError: no such model or version.
        """

    # ---------------------------------------------------------------- aliases
    @abc.abstractmethod
    def set_alias(
        self, name: str, alias: str, version: int | None, *, user_id: str = "", comment: str = ""
    ) -> None:
        """Point ``alias`` at ``version`` (moving it if set), or remove it when ``version`` is None.
        Event ``alias_set`` / ``alias_deleted`` with the old and new version.

        Raises:
            NotFoundError: no such model or version, or removing an alias that is not set.
        """

    @abc.abstractmethod
    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at.

        Raises:
            NotFoundError: no such model or alias.
        """

    # ---------------------------------------------------------------- approvals and events
    @abc.abstractmethod
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
        """Append an approval record (``action``: request, approve, reject or cancel), with an event
        ``approval_<action>``.

        Raises:
            NotFoundError: no such model or version.
            InvalidInputError: unknown stage or action.
        """

    @abc.abstractmethod
    def list_approvals(self, name: str, version: int | None = None) -> list[Approval]:
        """Approval records of a model (or one version), oldest first.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def list_events(self, name: str, *, since_seq: int = 0) -> list[Event]:
        """The model's audit log in order (``seq`` > ``since_seq``). A deleted model's log is kept.

        Raises:
            NotFoundError: no model and no events under this name.
        """
