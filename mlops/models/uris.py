"""Model URIs: parse and format ``runs:/``, ``models:/``, local paths and fsspec URLs.

=====================================  ===================================================
``runs:/<run_id>/<path>``              a model logged to a run, at ``<path>`` in its artifacts
``models:/<name>/<version>``           a registered model version (an integer)
``models:/<name>/<stage>``             the newest version in a stage (``Production``, ...)
``models:/<name>/latest``              the newest version
``models:/<name>@<alias>``             the version an alias points at
``/abs/path``, ``rel/path``,           a model directory on this machine
``file:///abs/path``
``s3://…``, ``gs://…``, ``memory://…``  a model directory on any fsspec filesystem
=====================================  ===================================================

``models:/`` URIs are resolved by the registry (``mlops.registry.uris.resolve_models_uri``). Model names
may not contain ``/`` or ``@`` (the registry's rule), so a ``models:/`` URI splits unambiguously.

Example:
    >>> parse_model_uri("models:/credit@champion")
    ModelURI(kind='models', name='credit', alias='champion')
    >>> str(parse_model_uri("runs:/0a1b/model"))
    'runs:/0a1b/model'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mlops.entities import MODEL_STAGES
from mlops.errors import InvalidInputError

__all__ = ["ModelURI", "parse_model_uri"]

UriKind = Literal["runs", "models", "path", "url"]
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_STAGES = {s.lower(): s for s in MODEL_STAGES}
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # the registry's alias rule


@dataclass(frozen=True)
class ModelURI:
    """A parsed model URI; ``str()`` gives its canonical form back.

    Only the fields of its ``kind`` are set: ``run_id``/``path`` (runs), ``name`` plus one of
    ``version``/``stage``/``alias`` or none for the latest (models), ``location`` (path, url).

    Example:
        >>> ModelURI(kind="models", name="churn", version=3)
        ModelURI(kind='models', name='churn', version=3)
    """

    kind: UriKind
    run_id: str | None = None
    path: str | None = None
    name: str | None = None
    version: int | None = None
    stage: str | None = None
    alias: str | None = None
    location: str | None = None

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}"
            for k, v in (
                ("kind", self.kind),
                ("run_id", self.run_id),
                ("path", self.path),
                ("name", self.name),
                ("version", self.version),
                ("stage", self.stage),
                ("alias", self.alias),
                ("location", self.location),
            )
            if v is not None
        )
        return f"ModelURI({fields})"

    def __str__(self) -> str:
        if self.kind == "runs":
            return f"runs:/{self.run_id}/{self.path}"
        if self.kind == "models":
            if self.alias is not None:
                return f"models:/{self.name}@{self.alias}"
            selector = self.version if self.version is not None else self.stage or "latest"
            return f"models:/{self.name}/{selector}"
        return str(self.location)


def _artifact_path(path: str, uri: str) -> str:
    from mlops.store.keys import validate_key

    try:
        return validate_key(path)
    except InvalidInputError as e:
        raise InvalidInputError(f"bad artifact path in model URI {uri!r}: {e}") from e


def parse_model_uri(uri: str) -> ModelURI:
    """Parse a model URI (see the module docstring for the forms).

    Raises:
        InvalidInputError: a malformed ``runs:/`` or ``models:/`` URI, or not a string.

    Example:
        >>> parse_model_uri("models:/churn/production").stage
        'Production'
        >>> parse_model_uri("s3://bucket/models/m").kind
        'url'
    """
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInputError(f"a model URI must be a non-empty string, not {uri!r}")
    if uri.startswith("runs:"):
        rest = uri[len("runs:/") :] if uri.startswith("runs:/") else None
        run_id, _, path = (rest or "").partition("/")
        if rest is None or not _RUN_ID.match(run_id) or not path:
            raise InvalidInputError(
                f"bad model URI {uri!r}: expected runs:/<run_id>/<artifact path>, e.g. runs:/0a1b2c/model"
            )
        return ModelURI(kind="runs", run_id=run_id, path=_artifact_path(path, uri))
    if uri.startswith("models:"):
        return _parse_models(uri)
    if uri.startswith("file://"):
        return ModelURI(kind="path", location=uri[len("file://") :] or "/")
    if _SCHEME.match(uri):
        return ModelURI(kind="url", location=uri)
    return ModelURI(kind="path", location=uri)


def _parse_models(uri: str) -> ModelURI:
    hint = (
        f"bad model URI {uri!r}: expected models:/<name>/<version>, models:/<name>/<stage>, "
        "models:/<name>/latest or models:/<name>@<alias>"
    )
    if not uri.startswith("models:/"):
        raise InvalidInputError(hint)
    rest = uri[len("models:/") :]
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if not _ALIAS.match(alias):
            raise InvalidInputError(f"{hint} (an alias is 1-255 letters, digits, '_' or '-')")
        return ModelURI(kind="models", name=_check_name(name, hint), alias=alias)
    name, _, selector = rest.rpartition("/")
    if not name or not selector:
        raise InvalidInputError(hint)
    name = _check_name(name, hint)
    if selector.isdigit() and selector.isascii():
        version = int(selector)
        if version < 1 or str(version) != selector:
            raise InvalidInputError(f"{hint} (versions are 1, 2, 3, ... without leading zeros)")
        return ModelURI(kind="models", name=name, version=version)
    if selector.lower() == "latest":
        return ModelURI(kind="models", name=name)
    stage = _STAGES.get(selector.lower())
    if stage is None:
        stages = list(MODEL_STAGES)
        raise InvalidInputError(f"{hint}; {selector!r} is not a version number or one of {stages}")
    return ModelURI(kind="models", name=name, stage=stage)


def _check_name(name: str, hint: str) -> str:
    if not name or name != name.strip() or "@" in name or "/" in name:
        raise InvalidInputError(f"{hint} (a model name is non-empty, without '/', '@' or outer spaces)")
    return name
