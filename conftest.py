"""Session-wide test settings shared by the tests and the docstring examples (doctests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _default_store_in_a_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Examples that use the default store write to a temp dir, never ./mlops-data of the checkout."""
    root = tmp_path_factory.mktemp("default-store")
    patch = pytest.MonkeyPatch()
    patch.setenv("MLOPS_TRACKING_URI", f"sqlite:///{root / 'mlops.db'}")
    patch.setenv("MLOPS_ARTIFACT_URI", (root / "artifacts").as_uri())
    yield
    patch.undo()
