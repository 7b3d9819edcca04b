"""The model registry: versions, stages, aliases, approvals with policy-as-code gates, and an audit log.

``RegistryClient`` is the explicit API (``mlops.Client(...).registry`` gives one bound to the same
store); ``mlops.register_model`` is the fluent shortcut; ``resolve_models_uri`` turns
``models:/name@alias`` into the version's source for ``load_model``. See ``docs/registry.md``.

Example:
    >>> from mlops.registry import RegistryClient
    >>> reg = RegistryClient("sqlite://", user="ann")
    >>> reg.register_model("s3://bucket/credit/model", "credit").version
    1
"""

from __future__ import annotations

from mlops.registry.audit import RegistrySnapshot
from mlops.registry.client import VERSION_STATUSES, Lineage, RegistryClient, ReportRef
from mlops.registry.fluent import register_model
from mlops.registry.gates import Gate, ReportGate, RunGate, parse_gate, report_passed_tag, report_tag
from mlops.registry.policy import ApprovalState, ApprovalStatus, Policy, StagePolicy
from mlops.registry.uris import ModelsUri, parse_models_uri, parse_runs_uri, resolve_models_uri

__all__ = [
    "VERSION_STATUSES",
    "ApprovalState",
    "ApprovalStatus",
    "Gate",
    "Lineage",
    "ModelsUri",
    "Policy",
    "RegistryClient",
    "RegistrySnapshot",
    "ReportGate",
    "ReportRef",
    "RunGate",
    "StagePolicy",
    "parse_gate",
    "parse_models_uri",
    "parse_runs_uri",
    "register_model",
    "report_passed_tag",
    "report_tag",
    "resolve_models_uri",
]
