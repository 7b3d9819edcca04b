"""Frozen records that stores return and clients hand to users.

They carry data only; behaviour lives in the clients. All times are epoch
milliseconds (``int``), as in MLflow, so values compare and sort cheaply and
survive every store unchanged.

Example:
    >>> m = Metric(key="loss", value=0.25, timestamp=1_700_000_000_000, step=3)
    >>> m.value
    0.25
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

__all__ = [
    "LIFECYCLE_STAGES",
    "MODEL_STAGES",
    "RUN_STATUSES",
    "Approval",
    "ArtifactInfo",
    "DatasetInput",
    "Event",
    "EventLog",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "ModelStage",
    "ModelVersion",
    "Param",
    "RegisteredModel",
    "Run",
    "RunStatus",
    "ViewType",
    "now_ms",
]

RunStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
RUN_STATUSES: tuple[str, ...] = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
TERMINAL_RUN_STATUSES: frozenset[str] = frozenset({"FINISHED", "FAILED", "KILLED"})

LifecycleStage = Literal["active", "deleted"]
LIFECYCLE_STAGES: tuple[str, ...] = ("active", "deleted")

ViewType = Literal["active", "deleted", "all"]

ModelStage = Literal["None", "Staging", "Production", "Archived"]
MODEL_STAGES: tuple[str, ...] = ("None", "Staging", "Production", "Archived")

ApprovalAction = Literal["request", "approve", "reject", "cancel"]


def now_ms() -> int:
    """The current time in epoch milliseconds.

    Example:
        >>> now_ms() > 1_600_000_000_000
        True
    """
    return time.time_ns() // 1_000_000


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


class Metric(NamedTuple):
    """One point of a metric's history: ``value`` at ``step``, logged at ``timestamp`` (ms).

    ``value`` may be NaN or ±inf; stores keep them exactly. Unlike the other entities this one is an
    immutable named tuple rather than a frozen dataclass: millions are created when a training loop
    logs, and a tuple costs less than half as much to build.
    """

    key: str
    value: float
    timestamp: int
    step: int = 0

    def same_point(self, other: Metric) -> bool:
        """True when both points are equal, treating NaN as equal to NaN.

        Example:
            >>> Metric("a", float("nan"), 1, 0).same_point(Metric("a", float("nan"), 1, 0))
            True
        """
        both_nan = math.isnan(self.value) and math.isnan(other.value)
        return (
            self.key == other.key
            and self.timestamp == other.timestamp
            and self.step == other.step
            and (both_nan or self.value == other.value)
        )


@dataclass(frozen=True)
class Param:
    """A run's parameter: written once, a string."""

    key: str
    value: str


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run consumed: enough to tell later which data trained which model.

    ``schema`` is a JSON string (column names and dtypes); ``context`` says how the run used it
    (``"training"``, ``"evaluation"``, ...).
    """

    name: str
    digest: str
    source: str = ""
    schema: str = ""
    num_rows: int | None = None
    context: str = "training"


@dataclass(frozen=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = "active"
    creation_time: int = 0
    last_update_time: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))

    def _repr_html_(self) -> str:
        from mlops.display import entity_html

        return entity_html(self)


@dataclass(frozen=True)
class Run:
    """A run with its data: params, latest metric values, tags and dataset inputs."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    user_id: str = ""
    parent_run_id: str | None = None
    heartbeat_time: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetInput, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "metrics", _frozen(self.metrics))
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "inputs", tuple(self.inputs))

    def _repr_html_(self) -> str:
        from mlops.display import entity_html

        return entity_html(self)

    @property
    def is_terminal(self) -> bool:
        """True when the run has ended (FINISHED, FAILED or KILLED)."""
        return self.status in TERMINAL_RUN_STATUSES


@dataclass(frozen=True)
class ArtifactInfo:
    """A stored artifact file: its key relative to the store root, size in bytes and SHA-256."""

    path: str
    size: int
    sha256: str | None = None


@dataclass(frozen=True)
class RegisteredModel:
    """A named model in the registry. ``aliases`` maps alias → version number."""

    name: str
    description: str = ""
    creation_time: int = 0
    last_updated_time: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "aliases", _frozen(self.aliases))
        object.__setattr__(self, "policy", _frozen(self.policy))

    def _repr_html_(self) -> str:
        from mlops.display import entity_html

        return entity_html(self)


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model."""

    name: str
    version: int
    source: str
    run_id: str | None = None
    stage: str = "None"
    status: str = "READY"
    description: str = ""
    user_id: str = ""
    creation_time: int = 0
    last_updated_time: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "aliases", tuple(sorted(self.aliases)))

    def _repr_html_(self) -> str:
        from mlops.display import entity_html

        return entity_html(self)


@dataclass(frozen=True)
class Approval:
    """One approval record: a request for a stage, or a decision on it."""

    approval_id: int
    name: str
    version: int
    stage: str
    action: str
    user_id: str
    timestamp: int
    comment: str = ""


@dataclass(frozen=True)
class Event:
    """One entry in a registered model's audit log.

    Events form a hash chain per model: ``hash`` covers every field and ``prev_hash``,
    the hash of the model's previous event (``""`` for the first), so editing or removing
    a stored event is detectable.
    """

    seq: int
    name: str
    action: str
    timestamp: int
    user_id: str
    version: int | None = None
    old_value: str | None = None
    new_value: str | None = None
    comment: str = ""
    prev_hash: str = ""
    hash: str = ""

    def payload(self) -> dict[str, Any]:
        """The fields that the hash covers, as a dict (``hash`` itself excluded)."""
        return {
            "seq": self.seq,
            "name": self.name,
            "action": self.action,
            "timestamp": self.timestamp,
            "user_id": self.user_id,
            "version": self.version,
            "old_value": self.old_value,
            "new_value": self.new_value,
            "comment": self.comment,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`payload`.

        Example:
            >>> e = Event(seq=1, name="m", action="model_created", timestamp=0, user_id="u")
            >>> len(e.compute_hash())
            64
        """
        canonical = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class EventLog(list[Event]):
    """A model's audit log: a plain list of :class:`Event` that also renders as a table in notebooks."""

    def _repr_html_(self) -> str:
        from mlops.display import events_html

        return events_html(self)
