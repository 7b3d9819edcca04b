"""The object store's conditional writes on every backend, its scheme registration and its refusals."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from mlops.errors import InvalidInputError
from mlops.store import open_registry_store, open_tracking_store
from mlops.store.objectstore import ObjectRegistryStore, ObjectTrackingStore
from mlops.store.objectstore._fs import ObjectFS


@pytest.fixture(params=["file", "memory", "s3", "gcs"])
def objfs(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectFS:
    unique = uuid.uuid4().hex
    if request.param == "file":
        return ObjectFS(str(tmp_path / "fs"))
    if request.param == "memory":
        return ObjectFS(f"memory://objfs-{unique}")
    if request.param == "s3":
        options: dict[str, Any] = request.getfixturevalue("s3_storage_options")
        return ObjectFS(f"s3://{request.getfixturevalue('s3_bucket')}/objfs-{unique}", **options)
    options = request.getfixturevalue("gcs_storage_options")
    return ObjectFS(f"gs://{request.getfixturevalue('gcs_bucket')}/objfs-{unique}", **options)


def test_create_only_has_exactly_one_winner(objfs: ObjectFS) -> None:
    for round_ in range(3):
        wins: list[int] = []
        barrier = threading.Barrier(8)

        def claim(
            i: int,
            key: str = f"race/{round_}.json",
            barrier: threading.Barrier = barrier,
            wins: list[int] = wins,
        ) -> None:
            barrier.wait()
            if objfs.create(key, str(i).encode()):
                wins.append(i)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        assert objfs.read(f"race/{round_}.json") == str(wins[0]).encode()


def test_compare_and_swap(objfs: ObjectFS) -> None:
    assert objfs.swap("cas.json", b"1", None)
    assert not objfs.swap("cas.json", b"x", None)  # create-only when no token
    read = objfs.read_token("cas.json")
    assert read is not None and read[0] == b"1"
    assert objfs.swap("cas.json", b"2", read[1])
    assert not objfs.swap("cas.json", b"3", read[1])  # stale token
    assert objfs.read("cas.json") == b"2"
    assert objfs.read_token("missing.json") is None


def test_reads_lists_and_deletes(objfs: ObjectFS) -> None:
    objfs.put("d/a.json", b"a")
    objfs.put("d/a.json", b"b")  # put overwrites
    objfs.create("d/b.json", b"c")
    assert objfs.read_many(["d/a.json", "d/none.json", "d/b.json"]) == [b"b", None, b"c"]
    assert objfs.list("d") == ["a.json", "b.json"] and objfs.list("nothing") == []
    objfs.delete(["d/a.json", "d/none.json"])
    assert objfs.list("d") == ["b.json"]
    objfs.delete_tree("d")
    assert objfs.read("d/b.json") is None


def test_uris_open_object_stores(tmp_path: Path) -> None:
    assert isinstance(open_tracking_store(str(tmp_path / "t")), ObjectTrackingStore)
    assert isinstance(open_tracking_store((tmp_path / "t").as_uri()), ObjectTrackingStore)
    assert isinstance(open_registry_store(f"memory://reg-{uuid.uuid4().hex}"), ObjectRegistryStore)


def test_protocols_without_conditional_writes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="conditional writes"):
        ObjectFS("ftp://127.0.0.1/x")


def test_a_new_process_view_matches_the_writer(tmp_path: Path) -> None:
    """A store opened later (no cache) sees the same state, through snapshots and records."""
    uri = str(tmp_path / "s")
    writer = open_registry_store(uri)
    writer.create_registered_model("m")
    for i in range(40):  # past a few snapshots
        writer.create_model_version("m", f"s{i}")
    writer.set_alias("m", "champion", 40)
    reader = open_registry_store(uri)
    assert reader.get_version_by_alias("m", "champion").version == 40
    assert reader.list_events("m") == writer.list_events("m")
    assert [v.version for v in reader.search_model_versions("m")] == list(range(1, 41))
