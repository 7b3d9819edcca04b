"""Random sequences of registry operations against a small in-memory model of the rules.

Each hypothesis example gets its own fresh store (SQLite file or PostgreSQL database). After every
step the store must agree with the model on: every version's stage, every alias, the approval status
of every (version, stage), the exact number of audit events (one per change; none for a refused or
no-op call), and an intact hash chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mlops.entities import Metric
from mlops.errors import ConflictError, MlopsError, NotFoundError
from mlops.registry import RegistryClient
from mlops.registry.policy import approval_states

NAME = "credit"
USERS = ("ann", "bo", "cy")
POLICY = {
    "Production": {"approvals": 2, "gates": ["metrics.auc >= 0.75"]},
    "Staging": {"gates": ["report:bias passes"]},
}
REQUIRED = {"Production": 2, "Staging": 1}  # a request needs at least one approval
STAGES = st.sampled_from(["None", "Staging", "Production", "Archived"])
APPROVAL_STAGES = st.sampled_from(["Staging", "Production"])
USER = st.sampled_from(USERS)
ALIASES = st.sampled_from(["champion", "challenger"])


@dataclass
class Round:
    requester: str
    approvers: list[str] = field(default_factory=list)
    rejected_by: str | None = None

    @property
    def open(self) -> bool:
        return self.rejected_by is None


@dataclass
class Version:
    stage: str
    auc: float
    bias_passed: bool | None = None  # None: no bias report attached


class RegistryMachine(RuleBasedStateMachine):
    uri_factory: Callable[[], str]

    def __init__(self) -> None:
        super().__init__()
        self.reg = RegistryClient(type(self).uri_factory(), user="ann")
        store = self.reg.tracking_store
        self.experiment_id = store.create_experiment("e", "memory://stateful")
        self.reg.create_registered_model(NAME)
        self.reg.set_policy(NAME, POLICY)
        self.events = 2  # model_created, model_policy_set
        self.next_version = 1
        self.versions: dict[int, Version] = {}
        self.aliases: dict[str, int] = {}
        self.rounds: dict[tuple[int, str], Round] = {}
        for auc in (0.9, 0.6):  # start with versions to act on: short examples still reach Production
            self.create_version(auc)

    def teardown(self) -> None:
        self.reg.store.db.dispose()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ helpers
    def expect(self, call: Callable[[], object], error: type[MlopsError] | None, events: int) -> None:
        if error is None:
            call()
        else:
            with pytest.raises(error):
                call()
        self.events += events

    def _version(self, data: st.DataObject) -> int:
        """Mostly a version that exists; sometimes a deleted or never created number."""
        known = sorted(self.versions)
        return data.draw(st.sampled_from([*known * 4, self.next_version]), label="version")

    def _round(self, version: int, stage: str) -> Round | None:
        r = self.rounds.get((version, stage))
        return r if r is not None and r.open else None

    def _blocked(self, version: int, stage: str) -> bool:
        v = self.versions[version]
        if stage == "Production":
            r = self._round(version, stage)
            approved = r is not None and len(r.approvers) >= 2
            return not approved or v.auc < 0.75
        if stage == "Staging":
            return v.bias_passed is not True
        return False

    # ------------------------------------------------------------------ rules
    @rule(auc=st.sampled_from([0.6, 0.9]))
    def create_version(self, auc: float) -> None:
        store = self.reg.tracking_store
        run = store.create_run(self.experiment_id, run_name="r", start_time=1, user_id="ann", tags={})
        store.log_batch(run.run_id, metrics=[Metric("auc", auc, 1, 0)])
        mv = self.reg.register_model(f"runs:/{run.run_id}/model", NAME)
        assert (mv.version, mv.run_id) == (self.next_version, run.run_id)
        self.versions[mv.version] = Version("None", auc)
        self.next_version += 1
        self.events += 1

    @rule(data=st.data(), stage=STAGES, archive=st.booleans(), user=USER)
    def transition(self, data: st.DataObject, stage: str, archive: bool, user: str) -> None:
        self._transition(self._version(data), stage, archive, user)

    def _transition(self, version: int, stage: str, archive: bool, user: str) -> None:
        def call() -> object:
            return self.reg.transition_stage(NAME, version, stage, archive_existing=archive, user=user)

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        if self.versions[version].stage == stage:
            return self.expect(call, None, 0)
        if self._blocked(version, stage):
            return self.expect(call, ConflictError, 0)
        others = []
        if archive and stage != "Archived":
            others = sorted(n for n, v in self.versions.items() if v.stage == stage and n != version)
        self.expect(call, None, 1 + len(others))
        for n in others:
            self.versions[n].stage = "Archived"
            self.rounds.pop((n, "Archived"), None)
        self.versions[version].stage = stage
        self.rounds.pop((version, stage), None)  # the move consumes the approval

    @rule(alias=ALIASES, data=st.data())
    def set_alias(self, alias: str, data: st.DataObject) -> None:
        version = self._version(data)

        def call() -> None:
            self.reg.set_alias(NAME, alias, version)

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        changed = self.aliases.get(alias) != version
        self.expect(call, None, 1 if changed else 0)
        self.aliases[alias] = version

    @rule(alias=ALIASES)
    def delete_alias(self, alias: str) -> None:
        def call() -> None:
            self.reg.delete_alias(NAME, alias)

        if alias not in self.aliases:
            return self.expect(call, NotFoundError, 0)
        self.expect(call, None, 1)
        del self.aliases[alias]

    @rule(data=st.data(), passed=st.booleans())
    def attach_bias_report(self, data: st.DataObject, passed: bool) -> None:
        version = self._version(data)

        def call() -> None:
            self.reg.attach_report(NAME, version, "bias", "runs:/r/bias.html", passed=passed)

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        before = self.versions[version].bias_passed
        self.expect(call, None, 2 if before is None else int(before != passed))
        self.versions[version].bias_passed = passed

    @rule(data=st.data(), stage=APPROVAL_STAGES, user=USER)
    def request(self, data: st.DataObject, stage: str, user: str) -> None:
        self._request(self._version(data), stage, user)

    def _request(self, version: int, stage: str, user: str) -> None:
        def call() -> object:
            return self.reg.request_approval(NAME, version, stage, user=user)

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        if self.versions[version].stage == stage or self._round(version, stage) is not None:
            return self.expect(call, ConflictError, 0)
        self.expect(call, None, 1)
        self.rounds[(version, stage)] = Round(requester=user)

    @rule(data=st.data(), stage=APPROVAL_STAGES, user=USER)
    def approve(self, data: st.DataObject, stage: str, user: str) -> None:
        self._approve(self._version(data), stage, user)

    def _approve(self, version: int, stage: str, user: str) -> None:
        def call() -> object:
            return self.reg.approve(NAME, version, stage, user=user)

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        r = self._round(version, stage)
        if r is None or user == r.requester or user in r.approvers:
            return self.expect(call, ConflictError, 0)
        self.expect(call, None, 1)
        r.approvers.append(user)

    @precondition(lambda self: any(v.auc >= 0.75 for v in self.versions.values()))
    @rule(data=st.data(), archive=st.booleans())
    def promote_to_production(self, data: st.DataObject, archive: bool) -> None:
        """The happy path, request → 2 approvals → move, which random steps rarely complete."""
        version = data.draw(st.sampled_from(sorted(n for n, v in self.versions.items() if v.auc >= 0.75)))
        requester = data.draw(USER)
        if self._round(version, "Production") is None and self.versions[version].stage != "Production":
            self._request(version, "Production", requester)
        r = self._round(version, "Production")
        if r is not None:
            for user in [u for u in USERS if u != r.requester and u not in r.approvers]:
                self._approve(version, "Production", user)
        self._transition(version, "Production", archive, data.draw(USER))

    @precondition(lambda self: any(r.open for r in self.rounds.values()))
    @rule(data=st.data())
    def approve_open_request(self, data: st.DataObject) -> None:
        """A valid approval (the generic rule above mostly tries invalid ones)."""
        version, stage = data.draw(st.sampled_from(sorted(k for k, r in self.rounds.items() if r.open)))
        r = self.rounds[(version, stage)]
        candidates = [u for u in USERS if u != r.requester and u not in r.approvers]
        if not candidates:
            return
        user = data.draw(st.sampled_from(candidates))
        self.expect(lambda: self.reg.approve(NAME, version, stage, user=user), None, 1)
        r.approvers.append(user)

    @precondition(lambda self: any(r.open for r in self.rounds.values()))
    @rule(data=st.data(), approve=st.booleans())
    def requester_decides_own_request(self, data: st.DataObject, approve: bool) -> None:
        """Self-approval and self-rejection are refused (the policy does not allow them)."""
        version, stage = data.draw(st.sampled_from(sorted(k for k, r in self.rounds.items() if r.open)))
        user = self.rounds[(version, stage)].requester
        decide = self.reg.approve if approve else self.reg.reject
        self.expect(lambda: decide(NAME, version, stage, user=user), ConflictError, 0)

    @rule(data=st.data(), stage=APPROVAL_STAGES, user=USER)
    def reject(self, data: st.DataObject, stage: str, user: str) -> None:
        version = self._version(data)

        def call() -> object:
            return self.reg.reject(NAME, version, stage, user=user, comment="no")

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        r = self._round(version, stage)
        if r is None or user == r.requester:
            return self.expect(call, ConflictError, 0)
        self.expect(call, None, 1)
        r.rejected_by = user

    @rule(data=st.data(), stage=APPROVAL_STAGES, user=USER)
    def cancel(self, data: st.DataObject, stage: str, user: str) -> None:
        version = self._version(data)

        def call() -> object:
            return self.reg.cancel_approval_request(NAME, version, stage, user=user)

        if version not in self.versions:
            return self.expect(call, NotFoundError, 0)
        r = self._round(version, stage)
        if r is None or user != r.requester:
            return self.expect(call, ConflictError, 0)
        self.expect(call, None, 1)
        del self.rounds[(version, stage)]

    @precondition(lambda self: bool(self.versions))
    @rule(data=st.data())
    def delete_version(self, data: st.DataObject) -> None:
        version = data.draw(st.sampled_from(sorted(self.versions)))
        self.expect(lambda: self.reg.delete_model_version(NAME, version), None, 1)
        del self.versions[version]
        self.aliases = {a: v for a, v in self.aliases.items() if v != version}
        self.rounds = {k: r for k, r in self.rounds.items() if k[0] != version}

    # ------------------------------------------------------------------ invariants
    @invariant()
    def store_agrees_with_the_model(self) -> None:
        stages = {mv.version: mv.stage for mv in self.reg.search_model_versions(NAME)}
        assert stages == {n: v.stage for n, v in self.versions.items()}
        assert dict(self.reg.get_registered_model(NAME).aliases) == self.aliases
        events = self.reg.events(NAME)
        assert len(events) == self.events, [e.action for e in events]
        assert self.reg.verify_events(NAME) == self.events
        states = approval_states(NAME, events, self.reg.get_policy(NAME))
        for n in self.versions:
            for stage in ("Staging", "Production"):
                found = states.get((n, stage))
                actual = None if found is None else found.status
                r = self.rounds.get((n, stage))
                if r is None:
                    expected = None
                elif r.rejected_by is not None:
                    expected = "Rejected"
                else:
                    enough = len(r.approvers) >= REQUIRED[stage]
                    expected = "Approved" if enough else "PendingApproval"
                assert actual == expected, (n, stage, found, r)


def test_registry_agrees_with_a_model_of_its_rules(fresh_uri_factory: Callable[[], str]) -> None:
    machine = type("Machine", (RegistryMachine,), {"uri_factory": staticmethod(fresh_uri_factory)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
