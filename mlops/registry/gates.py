"""Promotion gates: small conditions a model version must meet before it enters a stage.

Two kinds of gate, written as strings in a model's policy:

* **Run gates** use the ``search_runs`` filter grammar (:mod:`mlops.query`) on the version's source
  run: ``metrics.auc >= 0.75``, ``params.solver = 'lbfgs'``, ``tags.reviewed = 'yes'``,
  ``status = 'FINISHED'``, combined with ``AND``/``OR``/``NOT``. Metrics are the run's latest values;
  a key the run lacks fails the gate (as in search).
* **Report gates** look at reports attached to the version (``RegistryClient.attach_report`` sets
  the tags): ``report:<name> exists`` (the version has the tag ``mlops.report.<name>``) and
  ``report:<name> passes`` (it also has ``mlops.report.<name>.passed = "true"``).

Example:
    >>> from mlops.entities import ModelVersion, Run
    >>> run = Run("r1", "0", "fit", "FINISHED", 0, 1, "active", "memory://r", metrics={"auc": 0.7})
    >>> version = ModelVersion("credit", 1, "runs:/r1/model", run_id="r1")
    >>> parse_gate("metrics.auc >= 0.75").check(version, run)
    "gate 'metrics.auc >= 0.75' failed: metrics.auc = 0.7 on run 'r1'"
    >>> parse_gate("report:bias passes").check(version, run)
    "gate 'report:bias passes' failed: no 'bias' report is attached (tag 'mlops.report.bias')"
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass

from mlops.entities import ModelVersion, Run
from mlops.errors import InvalidInputError
from mlops.query import And, Comparison, FilterSyntaxError, Node, Not, Or, matches, parse_filter

__all__ = ["Gate", "ReportGate", "RunGate", "parse_gate"]

REPORT_TAG_PREFIX = "mlops.report."
_REPORT_RE = re.compile(r"^\s*report:([A-Za-z0-9_-]+)\s+(passes|exists)\s*$")
_PREFIX = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": ""}


def report_tag(report: str) -> str:
    """The version tag holding the location of a report.

    Example:
        >>> report_tag("bias")
        'mlops.report.bias'
    """
    return f"{REPORT_TAG_PREFIX}{report}"


def report_passed_tag(report: str) -> str:
    """The version tag saying whether a report passed (``"true"``/``"false"``).

    Example:
        >>> report_passed_tag("bias")
        'mlops.report.bias.passed'
    """
    return f"{REPORT_TAG_PREFIX}{report}.passed"


class Gate(abc.ABC):
    """One condition of a stage policy. ``text`` is the string it was parsed from."""

    text: str

    @property
    def needs_run(self) -> bool:
        """True when checking the gate needs the version's source run."""
        return False

    @abc.abstractmethod
    def check(self, version: ModelVersion, run: Run | None) -> str | None:
        """``None`` when the version meets the gate, else a sentence saying what is missing."""


@dataclass(frozen=True)
class RunGate(Gate):
    """A filter on the version's source run, e.g. ``metrics.auc >= 0.75``."""

    text: str
    node: Node

    @property
    def needs_run(self) -> bool:
        """Always True: the filter is evaluated on the source run."""
        return True

    def check(self, version: ModelVersion, run: Run | None) -> str | None:
        """Evaluate the filter on ``run``; say which values failed it.

        Example:
            >>> gate = parse_gate("metrics.auc >= 0.75")
            >>> gate.check(ModelVersion("m", 2, "s3://b/m"), None)
            "gate 'metrics.auc >= 0.75' failed: version 2 has no source run"
        """
        if run is None:
            why = "has no source run" if version.run_id is None else f"has a source run {version.run_id!r}"
            suffix = "" if version.run_id is None else " that the tracking store does not know"
            return f"gate {self.text!r} failed: version {version.version} {why}{suffix}"
        if matches(self.node, run):
            return None
        values = []
        for kind, key in _keys(self.node):
            shown = f"{_PREFIX[kind]}.{key}" if _PREFIX[kind] else key
            value = _value(run, kind, key)
            values.append(f"{shown} is missing" if value is None else f"{shown} = {value!r}")
        return f"gate {self.text!r} failed: {', '.join(values)} on run {run.run_id!r}"


@dataclass(frozen=True)
class ReportGate(Gate):
    """``report:<name> passes`` or ``report:<name> exists``, read from the version's tags."""

    text: str
    report: str
    condition: str  # "passes" or "exists"

    def check(self, version: ModelVersion, run: Run | None) -> str | None:
        """Look for the report's tags on the version.

        Example:
            >>> v = ModelVersion("m", 1, "s", tags={"mlops.report.bias": "runs:/r/bias.json",
            ...                                     "mlops.report.bias.passed": "false"})
            >>> parse_gate("report:bias exists").check(v, None) is None
            True
            >>> parse_gate("report:bias passes").check(v, None)
            "gate 'report:bias passes' failed: the 'bias' report did not pass (... = 'false')"
        """
        tag, passed_tag = report_tag(self.report), report_passed_tag(self.report)
        if tag not in version.tags:
            return f"gate {self.text!r} failed: no {self.report!r} report is attached (tag {tag!r})"
        if self.condition == "exists":
            return None
        passed = version.tags.get(passed_tag)
        if passed == "true":
            return None
        shown = "is not set" if passed is None else f"= {passed!r}"
        return f"gate {self.text!r} failed: the {self.report!r} report did not pass ({passed_tag} {shown})"


def parse_gate(text: str) -> Gate:
    """Parse one gate string.

    Raises:
        InvalidInputError: not a string, or neither a valid filter nor ``report:<name> passes|exists``
            (the message points at the position of a filter syntax error).

    Example:
        >>> parse_gate("report:bias passes")
        ReportGate(text='report:bias passes', report='bias', condition='passes')
        >>> parse_gate("metrics.auc >=")
        Traceback (most recent call last):
        ...
        mlops.errors.InvalidInputError: invalid gate 'metrics.auc >=': ...
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"a gate must be a string, not {type(text).__name__} ({text!r})")
    if text.lstrip().startswith("report:"):
        found = _REPORT_RE.match(text)
        if found is None:
            raise InvalidInputError(
                f"invalid gate {text!r}: a report gate reads 'report:<name> passes' or "
                "'report:<name> exists', with a name of letters, digits, '_' or '-'"
            )
        return ReportGate(text=text.strip(), report=found.group(1), condition=found.group(2))
    try:
        node = parse_filter(text)
    except FilterSyntaxError as e:
        raise InvalidInputError(f"invalid gate {text!r}: {e}") from e
    if node is None:
        raise InvalidInputError("invalid gate '': a gate cannot be empty")
    return RunGate(text=text.strip(), node=node)


def _keys(node: Node) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(n: Node) -> None:
        if isinstance(n, Comparison):
            if (n.kind, n.key) not in found:
                found.append((n.kind, n.key))
        elif isinstance(n, And | Or):
            for child in n.children:
                walk(child)
        elif isinstance(n, Not):
            walk(n.child)

    walk(node)
    return found


def _value(run: Run, kind: str, key: str) -> object:
    if kind == "metric":
        return run.metrics.get(key)
    if kind == "param":
        return run.params.get(key)
    if kind == "tag":
        return run.tags.get(key)
    return getattr(run, key, None)
