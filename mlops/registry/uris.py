"""Model URIs: parse ``models:/`` and ``runs:/`` URIs and resolve a ``models:/`` URI to its source.

Accepted forms (MLflow's)::

    models:/<name>/<version>     a version number, 1, 2, ...
    models:/<name>/<stage>       the latest version in a stage (None, Staging, Production, Archived;
                                 any letter case)
    models:/<name>/latest        the latest version, whatever its stage
    models:/<name>@<alias>       the version an alias points at
    runs:/<run_id>/<path>        an artifact path of a run (the usual source of a model version)

Model names may not contain ``/`` or ``@`` (the client refuses them), so the last ``/`` or the ``@``
splits a ``models:/`` URI unambiguously.

Example:
    >>> parse_models_uri("models:/credit@champion")
    ModelsUri(name='credit', version=None, stage=None, alias='champion', latest=False)
    >>> parse_runs_uri("runs:/0a1b/model")
    ('0a1b', 'model')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops.entities import MODEL_STAGES
from mlops.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from mlops.entities import ModelVersion
    from mlops.registry.client import RegistryClient

__all__ = ["ModelsUri", "parse_models_uri", "parse_runs_uri", "resolve_models_uri"]

MODELS_SCHEME = "models:/"
RUNS_SCHEME = "runs:/"
_STAGES_BY_LOWER = {s.lower(): s for s in MODEL_STAGES}
_ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FORMS = "models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>"


@dataclass(frozen=True)
class ModelsUri:
    """A parsed ``models:/`` URI: ``name`` plus exactly one of version, stage, alias or ``latest``."""

    name: str
    version: int | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False


def _bad(uri: str, why: str) -> InvalidInputError:
    return InvalidInputError(f"malformed model URI {uri!r}: {why}; expected {_FORMS}")


def parse_models_uri(uri: str) -> ModelsUri:
    """Parse a ``models:/`` URI without looking anything up.

    Raises:
        InvalidInputError: not a string, not ``models:/``, or a malformed name, version, stage or alias.

    Example:
        >>> parse_models_uri("models:/credit/3").version
        3
        >>> parse_models_uri("models:/credit/production").stage
        'Production'
        >>> parse_models_uri("models:/credit")
        Traceback (most recent call last):
        ...
        mlops.errors.InvalidInputError: malformed model URI 'models:/credit': ...
    """
    if not isinstance(uri, str):
        raise InvalidInputError(f"a model URI must be a string, not {type(uri).__name__} ({uri!r})")
    if not uri.startswith(MODELS_SCHEME):
        raise _bad(uri, "it does not start with 'models:/'")
    rest = uri[len(MODELS_SCHEME) :]
    if any(ord(c) < 32 or ord(c) == 127 for c in rest):
        raise _bad(uri, "it contains control characters")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        if "/" in name or "@" in alias or "/" in alias:
            raise _bad(uri, "a model name or alias cannot contain '/' or '@'")
        _check_name(uri, name)
        if not _ALIAS_RE.match(alias):
            raise _bad(uri, f"alias {alias!r} must be 1-255 letters, digits, '_' or '-'")
        return ModelsUri(name=name, alias=alias)
    parts = rest.split("/")
    if len(parts) != 2:
        raise _bad(uri, "it needs exactly one '/' between the model name and the version or stage")
    name, selector = parts
    _check_name(uri, name)
    if selector.isascii() and selector.isdigit():
        version = int(selector)
        if version < 1:
            raise _bad(uri, "version numbers start at 1")
        return ModelsUri(name=name, version=version)
    if selector.lower() == "latest":
        return ModelsUri(name=name, latest=True)
    stage = _STAGES_BY_LOWER.get(selector.lower())
    if stage is None:
        raise _bad(
            uri, f"{selector!r} is neither a version number, 'latest' nor a stage ({', '.join(MODEL_STAGES)})"
        )
    return ModelsUri(name=name, stage=stage)


def _check_name(uri: str, name: str) -> None:
    if not name.strip():
        raise _bad(uri, "the model name is empty")


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """Split ``runs:/<run_id>/<path>`` into the run id and the artifact path (``""`` when absent).

    Raises:
        InvalidInputError: not a ``runs:/`` URI, or a malformed run id.

    Example:
        >>> parse_runs_uri("runs:/abc123/models/clf")
        ('abc123', 'models/clf')
        >>> parse_runs_uri("runs:/abc123")
        ('abc123', '')
    """
    if not isinstance(uri, str) or not uri.startswith(RUNS_SCHEME):
        raise InvalidInputError(f"not a runs:/ URI: {uri!r}; expected runs:/<run_id>/<path>")
    run_id, _, path = uri[len(RUNS_SCHEME) :].partition("/")
    if not _RUN_ID_RE.match(run_id):
        raise InvalidInputError(
            f"malformed runs:/ URI {uri!r}: run id {run_id!r} must be 1-64 letters, digits, '_' or '-'"
        )
    return run_id, path.strip("/")


def find_version(client: RegistryClient, parsed: ModelsUri) -> ModelVersion:
    """The version a parsed URI names, looked up through ``client``.

    Raises:
        NotFoundError: no such model, version or alias, or no version in the stage.
    """
    if parsed.alias is not None:
        return client.get_version_by_alias(parsed.name, parsed.alias)
    if parsed.version is not None:
        return client.get_model_version(parsed.name, parsed.version)
    client.get_registered_model(parsed.name)  # NotFoundError for an unknown model
    versions = client.search_model_versions(parsed.name, stage=parsed.stage)
    if not versions:
        where = f"in stage {parsed.stage!r}" if parsed.stage is not None else "at all"
        raise NotFoundError(f"model {parsed.name!r} has no version {where}")
    return max(versions, key=lambda v: v.version)


def resolve_models_uri(uri: str, *, registry_uri: str | None = None) -> str:
    """The ``source`` of the version a ``models:/`` URI names (e.g. ``runs:/<run_id>/model``).

    Args:
        uri: ``models:/<name>/<version>``, ``models:/<name>/<stage>`` (the latest version in that
            stage), ``models:/<name>/latest`` or ``models:/<name>@<alias>``.
        registry_uri: the registry to look in; by default the fluent API's (``mlops.set_tracking_uri``,
            else ``MLOPS_TRACKING_URI``, else ``./mlops-data/mlops.db``).

    Raises:
        InvalidInputError: a malformed URI.
        NotFoundError: no such model, version, alias, or no version in that stage.

    Example:
        >>> import tempfile
        >>> from mlops.registry import RegistryClient
        >>> uri = f"sqlite:///{tempfile.mkdtemp()}/registry.db"
        >>> reg = RegistryClient(uri, user="ann")
        >>> reg.register_model("s3://bucket/credit/model", "credit").version
        1
        >>> reg.set_alias("credit", "champion", 1)
        >>> resolve_models_uri("models:/credit@champion", registry_uri=uri)
        's3://bucket/credit/model'
    """
    from mlops.registry.client import RegistryClient

    parsed = parse_models_uri(uri)
    if registry_uri is None:
        from mlops.tracking.fluent import get_client

        client = get_client().registry
    else:
        client = RegistryClient(registry_uri)
    return find_version(client, parsed).source
