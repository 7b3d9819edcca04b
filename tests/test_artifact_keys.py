"""Artifact keys can never name a file outside the store root (``mlops.store.keys``, local symlinks)."""

from __future__ import annotations

import os
import posixpath
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.errors import InvalidInputError
from mlops.store import ArtifactStore
from mlops.store.fsspec_artifacts import FsspecArtifactStore
from mlops.store.keys import validate_key, validate_prefix

# Segments biased towards the dangerous ones, plus arbitrary text (any code point but surrogates).
SEGMENT = st.one_of(
    st.sampled_from(["..", ".", "", "a", ".mlops", ".MLOPS", "C:", "c:", "s3:", "x\\y", "\x00", "\x7f", "é",
                     "e\u0301", "~", "..a", "a..", " ", "\u202e", "%2e%2e", "\uff0e\uff0e"]),
    st.text(max_size=6),
)
KEYS = st.one_of(
    st.text(max_size=40),
    st.builds(lambda lead, segs: lead + "/".join(segs), st.sampled_from(["", "/", "//", "\\", "./"]),
              st.lists(SEGMENT, min_size=1, max_size=6)),
)


def _accepted(key: str) -> str | None:
    try:
        return validate_key(key)
    except InvalidInputError:
        return None


@settings(max_examples=1500, deadline=None)
@given(KEYS)
def test_accepted_keys_stay_inside_the_root_lexically(key: str) -> None:
    norm = _accepted(key)
    if norm is None:
        return
    joined = posixpath.normpath(posixpath.join("/root", norm))
    assert joined.startswith("/root/") and joined[len("/root/"):] == norm  # no segment was collapsed
    segments = norm.split("/")
    assert "\\" not in norm and "\x00" not in norm and not set(segments) & {"", ".", ".."}
    assert segments[0].casefold() != ".mlops"
    assert validate_key(norm) == norm  # idempotent
    assert norm == unicodedata.normalize("NFC", norm)


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FsspecArtifactStore]:
    yield FsspecArtifactStore(str(tmp_path_factory.mktemp("keys") / "root"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(KEYS)
def test_accepted_keys_write_inside_the_root(local_store: FsspecArtifactStore, key: str) -> None:
    norm = _accepted(key)
    if norm is None:
        return
    root = os.path.realpath(local_store.root_uri.removeprefix("file://"))
    try:
        local_store.put_bytes(norm, b"x")
    except InvalidInputError:  # another accepted key made a file where this one needs a folder
        return
    real = os.path.realpath(os.path.join(root, *norm.split("/")))
    assert real.startswith(root + os.sep) and os.path.isfile(real)
    assert local_store.get_bytes(norm) == b"x"


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        (None, "must be a str"),
        (b"a", "must be a str"),
        ("", "must not be empty"),
        ("..", "'..' segments"),
        ("a/../b", "'..' segments"),
        (".", "'.' segments"),
        ("a/./b", "'.' segments"),
        ("/etc/passwd", "absolute paths"),
        ("C:/Windows", "Windows drive"),
        ("c:x", "Windows drive"),
        ("a\\b", "backslashes"),
        ("..\\x", "backslashes"),
        ("a\x00b", "U+0000"),
        ("a\nb", "U+000A"),
        ("a\x1fb", "U+001F"),
        ("a\x7fb", "U+007F"),
        ("a\x85b", "U+0085"),
        ("a//b", "empty segments"),
        ("a/", "empty segments"),
        ("x" * 256, "longer than 255 bytes"),
        ("é" * 128, "longer than 255 bytes"),  # 256 bytes in UTF-8
        ("/".join(["x" * 200] * 6), "longer than 1024 bytes"),
        ("s3://bucket/key", "looks like a URL"),
        ("file:///etc", "looks like a URL"),
        (".mlops", "reserved"),
        (".mlops/sha256/a", "reserved"),
        (".MLOPS/x", "reserved"),
        (".mlops./x", "reserved"),
        ("a\ud800", "lone surrogate"),
    ],
    ids=repr,
)
def test_each_rule_rejects_with_its_message(key: object, rule: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid artifact key") as err:
        validate_key(key)  # type: ignore[arg-type]
    assert rule in str(err.value)
    if isinstance(key, str) and key and len(key) < 50:
        assert repr(key) in str(err.value) or repr(unicodedata.normalize("NFC", key)) in str(err.value)


@pytest.mark.parametrize(
    "key", ["a", "a/b.c", "...", "a..b/..c", ".hidden", "x/.mlops/y", ".mlopsx", "mlops/x", "ab:c",
            "x" * 255, "/".join(["x" * 200] * 5), "a b/c d", "a[1]*?.txt", "q?x=1#frag", "%2e%2e/x"],
)
def test_valid_keys_are_accepted_unchanged(key: str) -> None:
    assert validate_key(key) == key


def test_keys_are_nfc_normalized() -> None:
    assert validate_key("cafe\u0301/x") == "caf\u00e9/x"


def test_validate_prefix_allows_the_root_only_as_empty() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("a/b") == "a/b"
    for bad in ["/", "..", "a/", ".mlops"]:
        with pytest.raises(InvalidInputError, match="invalid artifact prefix"):
            validate_prefix(bad)


# ------------------------------------------------------------------ symlinks under a local root
@pytest.fixture
def linked_store(tmp_path: Path) -> tuple[FsspecArtifactStore, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside").mkdir()
    (root / "inside" / "ok.txt").write_bytes(b"ok")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    (root / "filelink").symlink_to(outside / "secret")
    (root / "innerlink").symlink_to(root / "inside" / "ok.txt")
    return FsspecArtifactStore(str(root)), outside


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_bytes("dirlink/secret"),
        lambda s: s.get_bytes("filelink"),
        lambda s: s.open_read("filelink"),
        lambda s: s.info("dirlink/secret"),
        lambda s: s.put_bytes("dirlink/new", b"x"),
        lambda s: s.put_bytes("filelink", b"x"),
        lambda s: s.open_write("dirlink/new").__enter__(),
        lambda s: s.list("dirlink"),
        lambda s: s.list(""),
        lambda s: s.delete("dirlink/secret"),
        lambda s: s.delete("dirlink"),
    ],
    ids=["read-dir", "read-file", "open_read", "info", "write-dir", "write-file", "open_write", "list-link",
         "list-root", "delete-file", "delete-dir"],
)
def test_symlink_out_of_the_root_is_refused(
    linked_store: tuple[FsspecArtifactStore, Path], call: object
) -> None:
    store, outside = linked_store
    with pytest.raises(InvalidInputError, match="outside the store root"):
        call(store)  # type: ignore[operator]
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlink_inside_the_root_is_followed(linked_store: tuple[FsspecArtifactStore, Path]) -> None:
    store, _ = linked_store
    assert store.get_bytes("innerlink") == b"ok"
    assert store.list("inside")[0].path == "inside/ok.txt"
    store.delete("innerlink")  # removes the link, not its target
    assert store.get_bytes("inside/ok.txt") == b"ok"


# ------------------------------------------------------------------ unicode on every backend
UNICODE_KEYS = [
    "données/modèle.bin",
    "模型/权重.bin",
    "emoji/🚀✨.txt",
    "עברית/مرحبا.txt",
    "zwj/👩\u200d💻.txt",
    "spaces and+plus/a b.txt",
    "glob/a[1]*?.txt",
    "url/q?x=1&y=%20#frag.txt",
]


def test_unicode_keys_round_trip(artifact_store: ArtifactStore) -> None:
    for i, key in enumerate(UNICODE_KEYS):
        assert artifact_store.put_bytes(key, f"{i}".encode()).path == key
    assert [i.path for i in artifact_store.list()] == sorted(UNICODE_KEYS)
    for i, key in enumerate(UNICODE_KEYS):
        assert artifact_store.get_bytes(key) == f"{i}".encode()
        assert artifact_store.verify(key).path == key
    artifact_store.delete("glob")  # wildcard characters are not expanded
    assert artifact_store.exists("url/q?x=1&y=%20#frag.txt")
    artifact_store.delete("url")
    assert len(artifact_store.list()) == len(UNICODE_KEYS) - 2
    artifact_store.put_bytes("nfd/cafe\u0301", b"nfd")  # NFD in, NFC everywhere after
    assert artifact_store.get_bytes("nfd/caf\u00e9") == b"nfd"
