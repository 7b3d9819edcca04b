"""URIs pick store implementations; third parties add schemes at run time or by entry points."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops.errors import InvalidInputError, MissingDependencyError
from mlops.store import open_registry_store, open_tracking_store, register_tracking_store
from mlops.store.schemes import _entry_points_loaded, resolve, scheme_of
from mlops.store.sql.registry import SqlRegistryStore
from mlops.store.sql.tracking import SqlTrackingStore


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("sqlite:///x.db", "sqlite"),
        ("postgresql+psycopg://u@h/db", "postgresql"),
        ("S3://bucket/key", "s3"),
        ("gs://b", "gs"),
        ("memory://x", "memory"),
        ("relative/path", "file"),
        ("/abs/path", "file"),
        ("C://windows", "file"),
    ],
)
def test_scheme_of(uri: str, scheme: str) -> None:
    assert scheme_of(uri) == scheme


def test_sql_urls_open_sql_stores() -> None:
    assert isinstance(open_tracking_store("sqlite://"), SqlTrackingStore)
    assert isinstance(open_registry_store("sqlite://"), SqlRegistryStore)


def test_unknown_scheme_lists_known_ones() -> None:
    with pytest.raises(InvalidInputError, match=r"no tracking store for 'nosuch://x'.*sqlite"):
        open_tracking_store("nosuch://x")


def test_missing_extra_names_what_to_install() -> None:
    register_tracking_store("needs-extra", "mlops_no_such_module.store:Store", extra="fancy")
    with pytest.raises(MissingDependencyError, match=r"pip install 'mlops\[fancy\]'"):
        open_tracking_store("needs-extra://x")


def test_register_a_factory_at_run_time() -> None:
    opened: list[str] = []

    def factory(uri: str) -> SqlTrackingStore:
        opened.append(uri)
        return SqlTrackingStore("sqlite://")

    register_tracking_store("custom-rt", factory)
    store = open_tracking_store("custom-rt://anything")
    assert isinstance(store, SqlTrackingStore) and opened == ["custom-rt://anything"]
    with pytest.raises(InvalidInputError, match="invalid scheme"):
        register_tracking_store("bad scheme!", factory)


def test_entry_point_from_an_installed_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real (minimal) installed distribution: importlib.metadata finds it on sys.path.
    dist = tmp_path / "thirdparty_store-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-store\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[mlops.tracking_stores]\nthirdparty = thirdparty_store:ThirdPartyStore\n"
    )
    (tmp_path / "thirdparty_store.py").write_text(
        "from mlops.store.sql.tracking import SqlTrackingStore\n"
        "class ThirdPartyStore(SqlTrackingStore):\n"
        "    def __init__(self, uri):\n"
        "        super().__init__('sqlite://')\n"
        "        self.given_uri = uri\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "path", sys.path)
    _entry_points_loaded.discard("tracking")
    store = open_tracking_store("thirdparty://abc")
    assert type(store).__name__ == "ThirdPartyStore"
    assert store.given_uri == "thirdparty://abc"  # type: ignore[attr-defined]


def test_any_fsspec_protocol_can_hold_artifacts() -> None:
    assert resolve("artifact", "memory://x").__name__ == "FsspecArtifactStore"
    assert resolve("artifact", "ftp://host/path").__name__ == "FsspecArtifactStore"
    with pytest.raises(InvalidInputError):
        resolve("artifact", "nosuchproto://x")
