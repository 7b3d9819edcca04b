"""Approval policy as code: what a version needs before it may enter a stage, and approval status.

A model's policy is a JSON document kept with the model (``RegistryClient.set_policy``)::

    {"Production": {"approvals": 2,
                    "gates": ["metrics.auc >= 0.75", "report:bias passes"],
                    "allow_self_approval": false}}

Per stage: ``approvals`` distinct approvers needed (default 0), ``gates`` that must pass (see
:mod:`mlops.registry.gates`), and whether the requester may approve their own request
(``allow_self_approval``, default **false**: the requester's own approval does not count and is
refused). A stage absent from the policy has no requirement.

Approval status is derived from the model's audit log, where approval records and stage moves are
totally ordered by ``seq``. For each (version, stage):

* ``request`` opens a round: ``PendingApproval`` until ``approvals`` distinct users other than the
  requester approved it, then ``Approved``; any ``reject`` closes it as ``Rejected``.
* ``cancel`` (by the requester) closes the round with no status.
* The version's move into that stage **consumes** the round (status back to none): a later
  re-promotion needs a new request and new approvals. Deleting the version ends it too.

Example:
    >>> policy = Policy.from_document({"production": {"approvals": 2, "gates": ["metrics.auc > 0.8"]}})
    >>> policy.to_document()
    {'Production': {'approvals': 2, 'gates': ['metrics.auc > 0.8'], 'allow_self_approval': False}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops.entities import MODEL_STAGES, Event
from mlops.errors import InvalidInputError
from mlops.registry.gates import Gate, parse_gate

__all__ = [
    "ApprovalState",
    "ApprovalStatus",
    "Policy",
    "StagePolicy",
    "approval_states",
    "normalize_stage",
]

ApprovalStatus = Literal["PendingApproval", "Approved", "Rejected"]
_STAGES_BY_LOWER = {s.lower(): s for s in MODEL_STAGES}
_STAGE_KEYS = ("approvals", "gates", "allow_self_approval")
MAX_APPROVALS = 100


def normalize_stage(stage: Any) -> str:
    """The canonical spelling of a stage name (any letter case is accepted).

    Raises:
        InvalidInputError: not one of None, Staging, Production, Archived.

    Example:
        >>> normalize_stage("production")
        'Production'
    """
    canonical = _STAGES_BY_LOWER.get(stage.lower()) if isinstance(stage, str) else None
    if canonical is None:
        raise InvalidInputError(f"stage must be one of {', '.join(MODEL_STAGES)}; got {stage!r}")
    return canonical


@dataclass(frozen=True)
class StagePolicy:
    """What a version needs to enter one stage."""

    approvals: int = 0
    gates: tuple[Gate, ...] = ()
    allow_self_approval: bool = False

    @property
    def required_approvals(self) -> int:
        """Approvals an approval request for this stage needs (at least 1: a request asks someone)."""
        return max(self.approvals, 1)


@dataclass(frozen=True)
class Policy:
    """A model's policy: a :class:`StagePolicy` per stage that has requirements."""

    stages: Mapping[str, StagePolicy] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> Policy:
        """Validate a policy document (as stored with the model, or given by a user).

        Raises:
            InvalidInputError: an unknown stage or key, a bad approval count, or a gate that does not
                parse; the message names it.

        Example:
            >>> Policy.from_document({"Staging": {"approvals": -1}})
            Traceback (most recent call last):
            ...
            mlops.errors.InvalidInputError: policy for Staging: 'approvals' must be an integer ...; got -1
        """
        if document is None:
            return cls({})
        if not isinstance(document, Mapping):
            raise InvalidInputError(f"a policy must be a mapping of stage to rules, not {document!r}")
        stages: dict[str, StagePolicy] = {}
        for raw_stage, rules in document.items():
            stage = normalize_stage(raw_stage)
            if stage in stages:
                raise InvalidInputError(f"policy names stage {stage} twice (as {raw_stage!r})")
            stages[stage] = _stage_policy(stage, rules)
        return cls(stages)

    def to_document(self) -> dict[str, Any]:
        """The JSON document of this policy (canonical stage names, every key spelled out).

        Example:
            >>> Policy.from_document({}).to_document()
            {}
        """
        return {
            stage: {
                "approvals": p.approvals,
                "gates": [g.text for g in p.gates],
                "allow_self_approval": p.allow_self_approval,
            }
            for stage, p in self.stages.items()
        }

    def for_stage(self, stage: str) -> StagePolicy:
        """The rules for ``stage`` (no requirement when the policy does not name it).

        Example:
            >>> Policy.from_document({"Production": {"approvals": 1}}).for_stage("Staging").approvals
            0
        """
        return self.stages.get(stage, StagePolicy())


def _stage_policy(stage: str, rules: Any) -> StagePolicy:
    where = f"policy for {stage}"
    if not isinstance(rules, Mapping):
        raise InvalidInputError(f"{where}: expected a mapping with {', '.join(_STAGE_KEYS)}; got {rules!r}")
    unknown = sorted(str(k) for k in rules if k not in _STAGE_KEYS)
    if unknown:
        raise InvalidInputError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(_STAGE_KEYS)}")
    approvals = rules.get("approvals", 0)
    if isinstance(approvals, bool) or not isinstance(approvals, int) or not 0 <= approvals <= MAX_APPROVALS:
        raise InvalidInputError(
            f"{where}: 'approvals' must be an integer from 0 to {MAX_APPROVALS}; got {approvals!r}"
        )
    gates = rules.get("gates", [])
    if isinstance(gates, str) or not isinstance(gates, Iterable):
        raise InvalidInputError(f"{where}: 'gates' must be a list of strings; got {gates!r}")
    self_approval = rules.get("allow_self_approval", False)
    if not isinstance(self_approval, bool):
        raise InvalidInputError(
            f"{where}: 'allow_self_approval' must be true or false; got {self_approval!r}"
        )
    return StagePolicy(
        approvals=approvals,
        gates=tuple(parse_gate(g) for g in gates),
        allow_self_approval=self_approval,
    )


@dataclass(frozen=True)
class ApprovalState:
    """The approval round of one (version, stage), as derived from the audit log.

    ``status`` is ``None`` when no round is open (never requested, cancelled, or consumed by the
    move into the stage). ``approved_by`` lists the distinct users whose approval counts.
    """

    name: str
    version: int
    stage: str
    status: ApprovalStatus | None
    required: int
    requested_by: str | None = None
    approved_by: tuple[str, ...] = ()
    rejected_by: str | None = None
    request_seq: int | None = None

    @property
    def is_open(self) -> bool:
        """True while the round can still take approvals (pending or approved, not yet consumed)."""
        return self.status in ("PendingApproval", "Approved")

    def describe_missing(self) -> str:
        """What the round lacks, e.g. ``needs 2 approvals from distinct users, has 1 (ann)``.

        Example:
            >>> ApprovalState("m", 1, "Production", "PendingApproval", 2, "cy", ("ann",)).describe_missing()
            'needs 2 approvals from distinct users, has 1 (ann)'
        """
        needs = f"needs {self.required} approval{'s' if self.required != 1 else ''} from distinct users"
        if self.status is None:
            return f"{needs}, has 0 (no open approval request for {self.stage}; call request_approval)"
        if self.status == "Rejected":
            return f"{needs}; the request was rejected by {self.rejected_by}"
        has = f"has {len(self.approved_by)}"
        return f"{needs}, {has} ({', '.join(self.approved_by)})" if self.approved_by else f"{needs}, {has}"


@dataclass
class _Round:
    requested_by: str
    seq: int
    approvers: list[str] = field(default_factory=list)
    rejected_by: str | None = None


def approval_states(
    name: str, events: Iterable[Event], policy: Policy
) -> dict[tuple[int, str], ApprovalState]:
    """The approval state of every (version, stage) that ever had a request, replayed from events.

    Example:
        >>> from mlops.entities import Event
        >>> log = [Event(1, "m", "approval_request", 0, "cy", version=1, new_value="Production"),
        ...        Event(2, "m", "approval_approve", 0, "ann", version=1, new_value="Production")]
        >>> policy = Policy.from_document({"Production": {"approvals": 2}})
        >>> approval_states("m", log, policy)[(1, "Production")].status
        'PendingApproval'
    """
    rounds: dict[tuple[int, str], _Round | None] = {}
    for e in events:
        if e.version is None:
            continue
        if e.action == "approval_request" and e.new_value is not None:
            rounds[(e.version, e.new_value)] = _Round(requested_by=e.user_id, seq=e.seq)
            continue
        if e.action == "version_deleted":
            for key in [k for k in rounds if k[0] == e.version]:
                rounds[key] = None
            continue
        if e.new_value is None:
            continue
        key = (e.version, e.new_value)
        current = rounds.get(key)
        if e.action == "version_stage_changed":
            if key in rounds:
                rounds[key] = None
        elif current is None or current.rejected_by is not None:
            continue  # a decision with no open round: kept in the log, changes nothing
        elif e.action == "approval_approve":
            if e.user_id not in current.approvers:
                current.approvers.append(e.user_id)
        elif e.action == "approval_reject":
            current.rejected_by = e.user_id
        elif e.action == "approval_cancel":
            rounds[key] = None
    states: dict[tuple[int, str], ApprovalState] = {}
    for (version, stage), r in rounds.items():
        rules = policy.for_stage(stage)
        if r is None:
            states[(version, stage)] = ApprovalState(name, version, stage, None, rules.required_approvals)
            continue
        counted = tuple(u for u in r.approvers if rules.allow_self_approval or u != r.requested_by)
        status: ApprovalStatus
        if r.rejected_by is not None:
            status = "Rejected"
        elif len(counted) >= rules.required_approvals:
            status = "Approved"
        else:
            status = "PendingApproval"
        states[(version, stage)] = ApprovalState(
            name=name,
            version=version,
            stage=stage,
            status=status,
            required=rules.required_approvals,
            requested_by=r.requested_by,
            approved_by=counted,
            rejected_by=r.rejected_by,
            request_seq=r.seq,
        )
    return states
