"""The ArtifactStore contract (the docstrings of ``mlops/store/artifacts.py``) on file, memory, S3 and GCS.

Every test takes the ``artifact_store`` fixture (``tests/_object_servers.py``): a fresh, empty store
per backend. Tampering and "is anything visible?" checks go through the raw fsspec filesystem.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from _object_servers import ArtifactStoreSpec as Spec
from fsspec.core import url_to_fs

from mlops.errors import (
    IntegrityError,
    InvalidInputError,
    MissingDependencyError,
    NotFoundError,
    StoreUnavailableError,
)
from mlops.store import ArtifactStore, open_artifact_store

MiB = 1 << 20


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw(spec: Spec) -> tuple[Any, str]:
    """The store's filesystem and root path, bypassing the store."""
    fs, root = url_to_fs(spec.uri, use_listings_cache=False, **spec.storage_options)
    return fs, root.rstrip("/")


def test_put_get_bytes_round_trip(artifact_store: ArtifactStore) -> None:
    for key, data in [("a.txt", b"hello"), ("empty.bin", b""), ("d/e/f.bin", bytes(range(256)) * 10)]:
        info = artifact_store.put_bytes(key, data)
        assert (info.path, info.size, info.sha256) == (key, len(data), sha(data))
        assert artifact_store.get_bytes(key) == data
        assert artifact_store.info(key) == info


def test_put_file_round_trip(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(b"weights" * 1000)
    info = artifact_store.put_file("model/model.bin", src)
    assert (info.size, info.sha256) == (7000, sha(src.read_bytes()))
    assert artifact_store.get_bytes("model/model.bin") == src.read_bytes()
    assert artifact_store.info("model/model.bin").sha256 == info.sha256
    with pytest.raises(InvalidInputError):
        artifact_store.put_file("x", tmp_path)  # a directory
    with pytest.raises(InvalidInputError):
        artifact_store.put_file("x", tmp_path / "missing")


def test_replace_updates_content_and_hash(artifact_store: ArtifactStore) -> None:
    artifact_store.put_bytes("k", b"old")
    info = artifact_store.put_bytes("k", b"new content")
    assert artifact_store.get_bytes("k") == b"new content"
    assert artifact_store.info("k") == info
    assert artifact_store.list() == [info]
    assert info.sha256 == sha(b"new content")


def test_list_is_sorted_recursive_and_prefix_scoped(artifact_store: ArtifactStore) -> None:
    written = {}
    for key in ["c", "b.txt", "a/y/z.txt", "ab/w.txt", "a/x.txt"]:
        written[key] = artifact_store.put_bytes(key, key.encode())
    assert artifact_store.list() == [written[k] for k in sorted(written)]
    assert [i.path for i in artifact_store.list("a")] == ["a/x.txt", "a/y/z.txt"]  # not "ab/w.txt"
    assert [i.path for i in artifact_store.list("a/y")] == ["a/y/z.txt"]
    assert artifact_store.list("a/x.txt") == [written["a/x.txt"]]
    assert artifact_store.list("missing") == []
    assert list(artifact_store.iter_keys("ab")) == ["ab/w.txt"]
    assert all(i.sha256 == sha(i.path.encode()) for i in artifact_store.list())


def test_list_never_shows_reserved_records(
    artifact_store: ArtifactStore, artifact_store_spec: Spec
) -> None:
    artifact_store.put_bytes("x/y", b"1")
    with artifact_store.open_write("z") as f:
        f.write(b"2")
    fs, root = raw(artifact_store_spec)
    assert fs.cat_file(f"{root}/.mlops/sha256/x/y").decode() == sha(b"1")  # the sidecar exists ...
    assert [i.path for i in artifact_store.list()] == ["x/y", "z"]  # ... but is never listed


def test_download_file_and_directory(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    artifact_store.put_bytes("run/model/a.bin", b"a")
    artifact_store.put_bytes("run/model/sub/b.bin", b"b")
    artifact_store.put_bytes("run/other.txt", b"o")
    out = artifact_store.download("run/model/a.bin", tmp_path / "one" / "a.bin")
    assert out == tmp_path / "one" / "a.bin" and out.read_bytes() == b"a"
    out = artifact_store.download("run/model", tmp_path / "dir")
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert found == ["a.bin", "sub/b.bin"]
    assert (out / "sub" / "b.bin").read_bytes() == b"b"
    with pytest.raises(NotFoundError):
        artifact_store.download("run/nothing", tmp_path / "none")


def test_open_read_streams(artifact_store: ArtifactStore) -> None:
    data = bytes(range(256)) * (3 * MiB // 256)
    artifact_store.put_bytes("big.bin", data)
    chunks = []
    with artifact_store.open_read("big.bin") as f:
        while chunk := f.read(MiB // 2):
            chunks.append(chunk)
    assert len(chunks) == 6 and b"".join(chunks) == data


def test_delete_file_and_prefix(artifact_store: ArtifactStore, artifact_store_spec: Spec) -> None:
    for key in ["d/a", "d/b/c", "d/b/e", "keep"]:
        artifact_store.put_bytes(key, b"x")
    artifact_store.delete("d/a")
    assert not artifact_store.exists("d/a")
    assert [i.path for i in artifact_store.list()] == ["d/b/c", "d/b/e", "keep"]
    artifact_store.delete("d")
    assert [i.path for i in artifact_store.list()] == ["keep"]
    fs, root = raw(artifact_store_spec)
    assert not fs.find(f"{root}/.mlops/sha256/d", withdirs=False)  # sidecars went too
    assert fs.exists(f"{root}/.mlops/sha256/keep")
    with pytest.raises(NotFoundError):
        artifact_store.delete("d")
    artifact_store.put_bytes("d/a", b"again")  # a deleted key can be written again
    assert artifact_store.info("d/a").sha256 == sha(b"again")


@pytest.mark.parametrize("method", ["get_bytes", "open_read", "info", "delete", "verify"])
def test_missing_key_is_not_found(artifact_store: ArtifactStore, method: str) -> None:
    artifact_store.put_bytes("dir/file", b"x")
    for key in ["nope", "dir/nope", "dir/file/below"]:
        with pytest.raises(NotFoundError):
            getattr(artifact_store, method)(key)
    if method != "delete":  # a directory is not a file
        with pytest.raises(NotFoundError):
            getattr(artifact_store, method)("dir")


def test_exists(artifact_store: ArtifactStore) -> None:
    artifact_store.put_bytes("dir/sub/file", b"x")
    assert artifact_store.exists("dir/sub/file")
    assert artifact_store.exists("dir") and artifact_store.exists("dir/sub")
    assert not artifact_store.exists("dir/other") and not artifact_store.exists("di")


def test_verify_detects_tampering(artifact_store: ArtifactStore, artifact_store_spec: Spec) -> None:
    info = artifact_store.put_bytes("m/model.bin", b"trusted")
    assert artifact_store.verify("m/model.bin") == info
    fs, root = raw(artifact_store_spec)
    fs.pipe_file(f"{root}/m/model.bin", b"evil!!!")  # same size, different bytes
    with pytest.raises(IntegrityError, match=r"model\.bin"):
        artifact_store.verify("m/model.bin")
    artifact_store.put_bytes("other", b"o")
    fs.rm_file(f"{root}/.mlops/sha256/other")  # hash record lost: cannot be verified
    assert artifact_store.info("other").sha256 is None
    with pytest.raises(IntegrityError):
        artifact_store.verify("other")


def test_open_write_publishes_on_success_only(artifact_store: ArtifactStore) -> None:
    with artifact_store.open_write("stream/out.bin") as f:
        f.write(b"part1,")
        assert not artifact_store.exists("stream/out.bin")  # nothing visible while writing
        assert artifact_store.list() == []
        f.write(memoryview(b"part2"))
    info = artifact_store.info("stream/out.bin")
    assert (info.size, info.sha256) == (11, sha(b"part1,part2"))
    assert artifact_store.get_bytes("stream/out.bin") == b"part1,part2"


@pytest.mark.parametrize("size", [1000, 12 * MiB], ids=["small", "12MiB"])
def test_open_write_is_atomic_on_error(
    artifact_store: ArtifactStore, artifact_store_spec: Spec, size: int
) -> None:
    """Large sizes go through multipart (S3) / resumable (GCS) uploads that must be discarded."""
    old = artifact_store.put_bytes("replace.bin", b"old")
    block = b"z" * MiB
    for key in ["new.bin", "replace.bin"]:
        with pytest.raises(RuntimeError, match="boom"), artifact_store.open_write(key) as f:
            for _ in range(max(1, size // MiB)):
                f.write(block[: min(size, MiB)])
            raise RuntimeError("boom")
    assert not artifact_store.exists("new.bin")
    assert artifact_store.get_bytes("replace.bin") == b"old"
    assert artifact_store.list() == [old]
    fs, root = raw(artifact_store_spec)
    assert not fs.exists(f"{root}/new.bin")
    if artifact_store_spec.backend == "s3":  # aborted, not left dangling
        bucket = root.split("/", 1)[0]
        assert not fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads")


def test_large_write_round_trips(artifact_store: ArtifactStore) -> None:
    data = bytes(range(251)) * (12 * MiB // 251)
    with artifact_store.open_write("large.bin") as f:
        for i in range(0, len(data), MiB):
            f.write(data[i : i + MiB])
    assert artifact_store.info("large.bin").sha256 == sha(data)
    assert artifact_store.get_bytes("large.bin") == data
    assert artifact_store.verify("large.bin").size == len(data)


BAD_KEYS = ["", "../x", "a/../../x", "/abs", "a//b", "a/", "./a", "a\\b", "a\x00b", "C:/x", "s3://b/k",
            ".mlops/sha256/x", "a\nb", "x" * 256]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_bad_keys_rejected_by_every_method(artifact_store: ArtifactStore, tmp_path: Path, key: str) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x")
    calls = [
        lambda: artifact_store.put_bytes(key, b"x"),
        lambda: artifact_store.put_file(key, src),
        lambda: artifact_store.open_write(key).__enter__(),
        lambda: artifact_store.get_bytes(key),
        lambda: artifact_store.open_read(key),
        lambda: artifact_store.download(key, tmp_path / "out"),
        lambda: artifact_store.info(key),
        lambda: artifact_store.delete(key),
        lambda: artifact_store.exists(key),
        lambda: artifact_store.verify(key),
    ]
    if key:  # "" is the root for list()
        calls.append(lambda: artifact_store.list(key))
    for call in calls:
        with pytest.raises(InvalidInputError):
            call()
    assert artifact_store.list() == []


def test_non_bytes_data_rejected(artifact_store: ArtifactStore) -> None:
    with pytest.raises(InvalidInputError):
        artifact_store.put_bytes("k", "text")  # type: ignore[arg-type]
    assert artifact_store.list() == []


def test_reopen_sees_same_content(artifact_store: ArtifactStore, artifact_store_spec: Spec) -> None:
    info = artifact_store.put_bytes("k", b"v")
    again = open_artifact_store(artifact_store.root_uri, **artifact_store_spec.storage_options)
    assert again.root_uri == artifact_store.root_uri
    assert again.info("k") == info


def test_concurrent_writers(artifact_store: ArtifactStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(3):
                artifact_store.put_bytes(f"t{n}/{i}", f"{n}-{i}".encode())
                artifact_store.put_bytes("shared", f"{n}-{i}".encode() * (n + 1))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(artifact_store.list()) == 13
    for item in artifact_store.list():
        artifact_store.verify(item.path)  # content and recorded hash agree for every key


# ------------------------------------------------------------------ error translation (not per backend)
@pytest.mark.parametrize(("uri", "extra"), [("s3://b/p", "mlops[s3]"), ("gs://b/p", "mlops[gcs]")])
def test_missing_client_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, uri: str, extra: str
) -> None:
    import mlops.store.fsspec_artifacts as mod

    def no_library(*_: Any, **__: Any) -> Any:
        raise ImportError("Install s3fs/gcsfs to access this protocol")

    monkeypatch.setattr(mod, "url_to_fs", no_library)
    with pytest.raises(MissingDependencyError, match=re.escape(extra)):
        mod.FsspecArtifactStore(uri)


def test_unreachable_s3_is_store_unavailable(s3_storage_options: dict[str, Any]) -> None:
    dead = {**s3_storage_options, "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"},
            "config_kwargs": {"retries": {"max_attempts": 1}}, "skip_instance_cache": True}
    store = open_artifact_store("s3://no-server/p", **dead)
    for call in (lambda: store.put_bytes("k", b"v"), lambda: store.get_bytes("k"), store.list):
        with pytest.raises(StoreUnavailableError, match="no-server"):
            call()
