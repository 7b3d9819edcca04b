"""The JSON Schema of a bias report (``BiasReport.to_dict()``), shipped as ``bias_report.schema.json``.

:func:`validate` checks a report dict against it: with ``jsonschema`` when that is installed, otherwise
with the small validator here, which covers exactly the keywords the schema uses (``type``, ``const``,
``enum``, ``properties``, ``required``, ``additionalProperties``, ``items``, ``minimum``, ``oneOf``
and local ``$ref``).

Example:
    >>> load_schema()["$id"]
    'mlops.bias_report/1'
    >>> validate({"schema": "nope"})
    Traceback (most recent call last):
    ...
    mlops.errors.InvalidInputError: bias report does not match its schema at ...
"""

from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

from mlops.errors import InvalidInputError

__all__ = ["SCHEMA_FILE", "load_schema", "validate"]

SCHEMA_FILE = "bias_report.schema.json"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("mlops.fairness").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_schema() -> dict[str, Any]:
    """The bias report's JSON Schema (draft 2020-12) as a dict.

    Example:
        >>> sorted(load_schema()["required"])[:3]
        ['attributes', 'created', 'data']
    """
    return copy.deepcopy(_schema())


def validate(data: Any, *, use_jsonschema: bool | None = None) -> None:
    """Check ``data`` against the bias report schema.

    Args:
        data: A report dict (``BiasReport.to_dict()`` or its JSON, parsed).
        use_jsonschema: Force (True) or avoid (False) the ``jsonschema`` package; default: use it when
            installed.

    Raises:
        InvalidInputError: ``data`` does not match; the message names the first offending path.
        MissingDependencyError: ``use_jsonschema=True`` without ``jsonschema``.

    Example:
        >>> validate({"schema": "mlops.bias_report/1"}, use_jsonschema=False)
        Traceback (most recent call last):
        ...
        mlops.errors.InvalidInputError: bias report does not match its schema at $: missing 'created'
    """
    schema = _schema()
    if use_jsonschema is not False:
        try:
            import jsonschema
        except ImportError:
            if use_jsonschema:
                from mlops.errors import MissingDependencyError

                raise MissingDependencyError("use_jsonschema=True needs the 'jsonschema' package") from None
        else:
            errors = sorted(
                jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)
            )
            if errors:
                e = errors[0]
                where = "$" + "".join(f"[{p!r}]" for p in e.absolute_path)
                raise InvalidInputError(f"bias report does not match its schema at {where}: {e.message}")
            return
    problem = _check(data, schema, schema, "$")
    if problem:
        raise InvalidInputError(f"bias report does not match its schema at {problem}")


_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
}


def _check(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> str | None:
    """The first mismatch as ``"<path>: <what>"``, or None."""
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return f"{path}: unsupported $ref {ref!r}"
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        problem = _check(value, target, root, path)
        if problem:
            return problem
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if _check(value, s, root, path) is None]
        if len(matches) != 1:
            if not matches:
                return _check(value, schema["oneOf"][-1], root, path) or f"{path}: matches none of oneOf"
            return f"{path}: matches {len(matches)} of oneOf"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return f"{path}: {value!r} is not of type {' or '.join(types)}"
    if "const" in schema and value != schema["const"]:
        return f"{path}: {value!r} is not {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {value!r} is not one of {schema['enum']}"
    if "minimum" in schema and _TYPES["number"](value) and value < schema["minimum"]:
        return f"{path}: {value!r} is less than the minimum of {schema['minimum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                return f"{path}: missing {key!r}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                problem = _check(item, props[key], root, f"{path}[{key!r}]")
            elif extra is False:
                problem = f"{path}: unexpected property {key!r}"
            elif isinstance(extra, dict):
                problem = _check(item, extra, root, f"{path}[{key!r}]")
            else:
                problem = None
            if problem:
                return problem
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problem = _check(item, schema["items"], root, f"{path}[{i}]")
            if problem:
                return problem
    return None
