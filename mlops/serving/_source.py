"""Where a served model comes from: resolve a model URI to a registry version and load it.

``models:/name@alias``, ``models:/name/<stage>`` and ``models:/name/latest`` *follow*: the version they
name can change, and :meth:`ModelSource.resolve` looks it up again each time. Every other URI (a fixed
version, ``runs:/``, a path or URL) names one model for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops.errors import InvalidInputError
from mlops.models import LoadedModel, load_model, parse_model_uri

__all__ = ["ModelSource", "ResolvedModel"]

_LOAD_OPTIONS = frozenset(
    {
        "allow_pickle",
        "trusted_types",
        "manifest_sha256",
        "client",
        "registry_uri",
        "storage_options",
        "cache_dir",
    }
)


@dataclass(frozen=True)
class ResolvedModel:
    """A model version to load: its registry version (None outside the registry) and its source URI."""

    version: int | None
    source: str


class ModelSource:
    """A model URI plus the options to load it (those of :func:`mlops.load_model`).

    Raises:
        InvalidInputError: a malformed URI or an unknown load option.
    """

    def __init__(self, uri: str, load_options: Mapping[str, Any] | None = None) -> None:
        options = dict(load_options or {})
        unknown = sorted(set(options) - _LOAD_OPTIONS)
        if unknown:
            raise InvalidInputError(
                f"unknown model load option(s) {unknown}; choose from {sorted(_LOAD_OPTIONS)}"
            )
        self.uri = uri
        self.parsed = parse_model_uri(uri)
        self.options = options
        p = self.parsed
        self.follows = p.kind == "models" and p.version is None  # alias, stage or latest
        self._registry: Any = None

    def registry(self) -> Any:
        """The registry client that resolves ``models:/`` URIs (opened on first use)."""
        if self._registry is None:
            registry_uri = self.options.get("registry_uri")
            if registry_uri is not None:
                from mlops.registry import RegistryClient

                self._registry = RegistryClient(registry_uri)
            else:
                client = self.options.get("client")
                if client is None:
                    from mlops.tracking.fluent import get_client

                    client = get_client()
                self._registry = client.registry
        return self._registry

    def resolve(self) -> ResolvedModel:
        """The version the URI names now (looked up in the registry for ``models:/``).

        Raises:
            NotFoundError: no such model, version, alias or stage.
        """
        if self.parsed.kind != "models":
            return ResolvedModel(None, self.uri)
        from mlops.registry.uris import find_version, parse_models_uri

        mv = find_version(self.registry(), parse_models_uri(str(self.parsed)))
        return ResolvedModel(mv.version, mv.source)

    def load(self, resolved: ResolvedModel) -> LoadedModel:
        """Load the resolved version (every byte verified, see :func:`mlops.load_model`)."""
        options = {k: v for k, v in self.options.items() if k != "registry_uri"}
        return load_model(resolved.source, **options)
